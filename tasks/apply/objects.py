"""Plain Kubernetes objects: compare the desired objects with the live ones, apply only when they
differ (server-side, from memory), the step-2 resources, and the manifest stages (Cilium network,
ClusterIssuer, ClusterSecretStore, Flux sync) with the External Secrets invariant."""
from __future__ import annotations

import base64

import yaml

from .. import paths, report, tools
from ..facts import Facts
from ..facts.kube import KubeFacts, condition, digest
from ..tools import op
from ..yamlio import load_all
from .api import api, needs_api
from .waits import deadline, wait_until

FIELD_MANAGER = "talos-flux-bootstrap"
ESO_DEPLOYMENT = ("Deployment", "external-secrets", "external-secrets")
NEEDS_ESO = ("ExternalSecret", "ClusterSecretStore", "SecretStore")


def file_objects(rel: str) -> list[dict]:
    """The Kubernetes objects of a repository-relative file."""
    return [d for d in load_all((paths.ROOT / rel).read_text()) if isinstance(d, dict) and "kind" in d]


def secret_as_stored(secret: dict) -> dict:
    """A desired Secret the way the facts keep a live one: stringData folded into data, values digested."""
    data = dict(secret.get("data") or {})
    data.update({k: base64.b64encode(str(v).encode()).decode() for k, v in (secret.get("stringData") or {}).items()})
    return {**{k: v for k, v in secret.items() if k != "stringData"}, "data": {k: digest(v) for k, v in data.items()}}


def contains(live: object, desired: object) -> bool:
    """True when every field of desired has the same value in live (the server may add more)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and len(live) == len(desired) and all(map(contains, live, desired))
    return live == desired


def differences(kube: KubeFacts, objects: list[dict]) -> list[str]:
    """The objects that are missing or differ from their desired form (metadata name/labels/annotations,
    spec, data and the rest; status and server-set metadata ignored)."""
    out = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        live = kube.get(obj["kind"], meta.get("name", ""), meta.get("namespace", ""))
        desired = secret_as_stored(obj) if obj["kind"] == "Secret" else obj
        wanted = {k: v for k, v in desired.items() if k not in ("metadata", "status")}
        wanted["metadata"] = {k: v for k, v in meta.items() if k in ("labels", "annotations")}
        where = f"{obj['kind']} {meta.get('namespace') + '/' if meta.get('namespace') else ''}{meta.get('name')}"
        if live is None:
            out.append(f"{where} is missing")
        elif not contains(live, wanted):
            out.append(f"{where} differs")
    return out


@needs_api
def objects_present(facts: Facts, kube: KubeFacts, objects: list[dict]) -> tuple[bool, str]:
    """All objects exist in the cluster (their content may hold secrets only op can resolve)."""
    missing = [d for d in differences(kube, objects) if d.endswith(" is missing")]
    return (not missing), ("all objects present" if not missing else "; ".join(missing))


@needs_api
def objects_current(facts: Facts, kube: KubeFacts, objects: list[dict]) -> tuple[bool, str]:
    """All objects exist in the cluster with the desired fields (a hand edit counts as drift)."""
    drift = differences(kube, objects)
    return (not drift), ("all objects present and current" if not drift else "; ".join(drift))


def apply_objects(text: str, what: str, facts: Facts) -> str | None:
    """Server-side apply of a YAML stream held in memory (stdin, never a file), unless every object
    already matches; then say so and change nothing."""
    try:
        objects = [d for d in load_all(text) if isinstance(d, dict) and "kind" in d]
    except yaml.YAMLError as err:
        return f"{what} is not valid YAML after rendering: {getattr(err, 'problem', err)}"
    kube, _ = api(facts)
    if kube is not None and not differences(kube, objects):
        report.say(f"{what}: every object already matches; nothing applied")
        return None
    result = tools.kubectl(["apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}",
                            "-f", "-"], stdin=text, timeout=180)
    return None if result.ok else f"kubectl apply of {what}: {result.message()}"


def resources_done(facts: Facts) -> tuple[bool, str]:
    """The namespaces and secrets of bootstrap/resources.yaml exist."""
    return objects_present(facts, file_objects(paths.rel(paths.RESOURCES_FILE)))


def apply_resources(facts: Facts) -> str | None:
    """op inject (in memory) then kubectl apply: an op failure stops before kubectl sees anything."""
    injected, error = op.inject_documents(paths.RESOURCES_FILE)
    if injected is None:
        return error
    return apply_objects(injected, paths.rel(paths.RESOURCES_FILE), facts)


def manifest_done(facts: Facts, rel: str) -> tuple[bool, str]:
    """Every object of a rendered manifest file is present and current."""
    return objects_current(facts, file_objects(rel))


@needs_api
def eso_present(facts: Facts, kube: KubeFacts) -> tuple[bool, str]:
    """The External Secrets Operator deployment exists (invariant before any ExternalSecret)."""
    kind, namespace, name = ESO_DEPLOYMENT
    if kube.get(kind, name, namespace) is None:
        return False, f"the External Secrets Operator deployment {namespace}/{name} is missing"
    return True, "External Secrets Operator present"


def apply_manifest(facts: Facts, rel: str) -> str | None:
    """Wait for the kinds' CRDs, enforce the ESO invariant, apply server-side."""
    objects = file_objects(rel)
    if any(o["kind"] in NEEDS_ESO for o in objects):
        ok, why = eso_present(facts)
        if not ok:
            return f"refusing to apply {rel}: {why} (the operator must exist before any ExternalSecret)"
    kinds = sorted({o["kind"] for o in objects} - {"Namespace", "Secret", "ConfigMap"})
    error = wait_until(f"the API to serve {', '.join(kinds)}", deadline("crds", 300),
                       lambda: kinds_served(facts, kinds), facts)
    return error or apply_objects((paths.ROOT / rel).read_text(), rel, facts)


@needs_api
def kinds_served(facts: Facts, kube: KubeFacts, kinds: list[str]) -> tuple[bool, str]:
    """Every kind has an Established CRD."""
    served = {(crd.get("spec") or {}).get("names", {}).get("kind") for (k, _, _), crd in kube.objects.items()
              if k == "CustomResourceDefinition" and
              (condition(crd, "Established") or {}).get("status") == "True"}
    missing = [k for k in kinds if k not in served]
    return (not missing), ("served" if not missing else "no Established CRD for " + ", ".join(missing))
