"""What Flux reconciles from the GitOps tree for this cluster, and nothing else: start at the Kustomization
the FluxInstance creates (its spec.sync path, bootstrap/values/flux-instance.yaml `sync.path`), build
each Kustomization's spec.path as kustomize-controller does (fluxbuild), apply its spec.patches
(fluxpatch), set its spec.targetNamespace,
run its post-build substitution (postBuild.substitute and the ConfigMaps/Secrets of
postBuild.substituteFrom found among the reconciled objects: fluxcd/pkg kustomize/kustomize_varsub.go),
and follow the Flux Kustomizations that build yields. Files outside those paths are never read."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..problems import Problem
from . import fluxpatch
from .fluxbuild import Build, build_folder, prefetch
from .gitops import SourcedObject, mapping

FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io/"
ROOT_VIA = "the FluxInstance's spec.sync"
SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
# drone/envsubst's ${VAR}, ${VAR:=default}, ${VAR:-default}, ${VAR=default}, ${VAR-default}; $$ escapes.
VARIABLE = re.compile(r"\$\$|\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-=])([^}]*))?\}")
# Kinds kustomize's namespace transformer leaves alone (cluster-scoped).
CLUSTER_SCOPED = frozenset({"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                            "ClusterIssuer", "ClusterSecretStore", "StorageClass", "PriorityClass",
                            "PersistentVolume", "IngressClass", "GatewayClass", "MutatingWebhookConfiguration",
                            "ValidatingWebhookConfiguration", "APIService", "CiliumLoadBalancerIPPool",
                            "CiliumL2AnnouncementPolicy", "CiliumBGPClusterConfig"})


@dataclass
class Reconciled:
    """The objects Flux applies for this cluster, with what got in the way of reading them."""

    root: str                                             # the cluster root, as shown
    objects: list[SourcedObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kustomizations: list[str] = field(default_factory=list)   # ns/name of every one followed


def is_flux_kustomization(o: SourcedObject) -> bool:
    return o.kind == "Kustomization" and str(o.obj.get("apiVersion", "")).startswith(FLUX_KUSTOMIZE)


def root_kustomization(sync: dict, namespace: str, settings_file: str) -> SourcedObject:
    """The Kustomization the Flux Operator creates from the FluxInstance's spec.sync."""
    return SourcedObject(settings_file, 0, {
        "apiVersion": FLUX_KUSTOMIZE + "v1", "kind": "Kustomization",
        "metadata": {"name": namespace, "namespace": namespace},
        "spec": {"path": sync["path"], "sourceRef": {"kind": sync["kind"], "name": namespace}}}, via=ROOT_VIA)


def reconcile(tree: Path, sync: dict, namespace: str, charts: tuple[str, ...], settings_file: str) -> Reconciled:
    """Follow every Kustomization from the sync root; a Kustomization whose substituteFrom sources are
    not read yet waits until they are (or until nothing else is left)."""
    out = Reconciled(paths.rel(tree / sync["path"]))
    pending, done, seen = [root_kustomization(sync, namespace, settings_file)], set(), {}
    while pending:
        prefetch([_folder(k, tree) for k in pending], charts)
        ready = [k for k in pending if _sources_found(k, out.objects)] or pending[:1]
        ks = ready[0]
        pending.remove(ks)
        key = (ks.namespace, ks.name)
        if key in done:
            continue
        done.add(key)
        for o in _follow(ks, tree, namespace, charts, out):
            identity = (o.obj.get("apiVersion"), o.kind, o.namespace, o.name, repr(o.obj))
            if identity not in seen:
                seen[identity] = o
                out.objects.append(o)
                if is_flux_kustomization(o):
                    pending.append(o)
    # A folder two Kustomizations build (a parent's generated kustomization reaches into a child's
    # path) says what is wrong with it once.
    out.warnings, out.problems = list(dict.fromkeys(out.warnings)), list(dict.fromkeys(out.problems))
    return out


def _follow(ks: SourcedObject, tree: Path, namespace: str, charts: tuple[str, ...], out: Reconciled) -> list:
    """The objects one Kustomization applies."""
    spec, name = mapping(ks.obj.get("spec")), f"{ks.namespace}/{ks.name}"
    source = mapping(spec.get("sourceRef"))
    if source.get("name") != namespace or (source.get("namespace") or ks.namespace) != namespace:
        out.warnings.append(f"{ks.file}: Kustomization {name} reconciles {source.get('kind')} "
                            f"{source.get('namespace') or ks.namespace}/{source.get('name')}, not this tree: "
                            "not followed")
        return []
    folder = _folder(ks, tree)
    if not folder.is_dir() or not folder.is_relative_to(tree.resolve()):
        if ks.via == ROOT_VIA:
            return []           # the cluster root itself: the flux-sync-target guard names it
        out.warnings.append(f"{ks.file}: Kustomization {name}: spec.path {spec.get('path')!r} is not a folder "
                            f"of the GitOps tree ({paths.rel(tree)}): not followed")
        return []
    out.kustomizations.append(name)
    build: Build = build_folder(folder, charts)
    out.warnings += build.warnings
    out.problems += build.problems
    objects, shown = build.objects, f"{ks.file}: Kustomization {name}"
    if isinstance(spec.get("patches"), list):
        objects, warnings = fluxpatch.apply(spec["patches"], objects, shown, f"{ks.file} (spec.patches of {name})")
        out.warnings += warnings
    if spec.get("components"):
        out.warnings.append(f"{shown}: spec.components are not evaluated by the drift check")
    target = spec.get("targetNamespace")
    objects = [_in_namespace(o, target) for o in objects] if target else objects
    variables, where = _variables(ks, out.objects)
    if spec.get("postBuild") is None or not variables:     # Flux substitutes only when it has variables
        where = f"nowhere: Kustomization {name} ({ks.file}) sets no post-build variables, so Flux applies it as written"
        return [_substituted(o, {}, where, apply=False) for o in objects]
    return [_substituted(o, variables, where) for o in objects]


def _folder(ks: SourcedObject, tree: Path) -> Path:
    """The folder a Kustomization's spec.path names (relative to the source's root)."""
    return (tree / str(mapping(ks.obj.get("spec")).get("path") or ".")).resolve()


def _in_namespace(o: SourcedObject, namespace: str) -> SourcedObject:
    """spec.targetNamespace: kustomize's namespace transformer on every namespaced object."""
    if o.kind in CLUSTER_SCOPED:
        return o
    obj = {**o.obj, "metadata": {**mapping(o.obj.get("metadata")), "namespace": namespace}}
    return SourcedObject(o.file, o.index, obj, o.via, o.unresolved)


def _source_refs(ks: SourcedObject) -> list[dict]:
    return [mapping(r) for r in mapping(mapping(ks.obj.get("spec")).get("postBuild")).get("substituteFrom") or []]


def _find(ref: dict, namespace: str, objects: list[SourcedObject]) -> SourcedObject | None:
    return next((o for o in objects if o.kind == ref.get("kind") and o.name == ref.get("name")
                 and o.namespace == namespace), None)


def _sources_found(ks: SourcedObject, objects: list[SourcedObject]) -> bool:
    return all(_find(r, ks.namespace, objects) for r in _source_refs(ks))


def _variables(ks: SourcedObject, objects: list[SourcedObject]) -> tuple[dict[str, str], str]:
    """The post-build variables (substituteFrom in order, then substitute) and a sentence saying
    where a missing one should come from."""
    variables, places = {}, []
    for ref in _source_refs(ks):
        found = _find(ref, ks.namespace, objects)
        shown = f"{ref.get('kind')} {ks.namespace}/{ref.get('name')}"
        places.append(f"{shown} ({found.file})" if found else f"{shown} (not in the tree)")
        if found:
            variables.update(_data(found))
    inline = mapping(mapping(mapping(ks.obj.get("spec")).get("postBuild")).get("substitute"))
    variables.update({str(k): str(v).replace("\n", "") for k, v in inline.items()})
    places.insert(0, f"postBuild.substitute of Kustomization {ks.namespace}/{ks.name} ({ks.file})")
    return variables, "; ".join(places)


def _data(o: SourcedObject) -> dict[str, str]:
    """A ConfigMap's data, or a Secret's stringData and base64-decoded data (a SOPS-encrypted value
    does not decode and is left out)."""
    values = {str(k): str(v) for k, v in mapping(o.obj.get("data")).items()} if o.kind == "ConfigMap" else {}
    if o.kind == "Secret" and "sops" not in o.obj:
        for k, v in mapping(o.obj.get("data")).items():
            try:
                values[str(k)] = base64.b64decode(str(v), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
        values.update({str(k): str(v) for k, v in mapping(o.obj.get("stringData")).items()})
    return {k: v.replace("\n", "") for k, v in values.items()}


def _substituted(o: SourcedObject, variables: dict[str, str], where: str, apply: bool = True) -> SourcedObject:
    """envsubst over every string of an object; a variable with no value and no default is left as
    written and recorded with where it should come from."""
    meta = mapping(o.obj.get("metadata"))
    if SUBSTITUTE_KEY in (mapping(meta.get("annotations")) | mapping(meta.get("labels"))) \
            and "disabled" in (mapping(meta.get("annotations")).get(SUBSTITUTE_KEY),
                               mapping(meta.get("labels")).get(SUBSTITUTE_KEY)):
        return o
    missing: list[str] = []

    def one(m: re.Match) -> str:
        if m[0] == "$$":
            return "$"
        if m[1] in variables and (variables[m[1]] or not (m[2] or "").startswith(":")):
            return variables[m[1]]
        if m[2] is not None:
            return m[3]
        missing.append(m[1])
        return m[0]

    def walk(value):
        if isinstance(value, str):
            return VARIABLE.sub(one, value)
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        return [walk(v) for v in value] if isinstance(value, list) else value

    obj = walk(o.obj) if apply else (walk(o.obj), o.obj)[1]
    unresolved = tuple((name, where) for name in dict.fromkeys(missing))
    return SourcedObject(o.file, o.index, obj, o.via, o.unresolved + unresolved)
