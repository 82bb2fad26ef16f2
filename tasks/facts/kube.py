"""Kubernetes facts: namespaces, nodes, CRDs, workloads, Secrets (values reduced to digests), Helm
release storage and the watched custom resources, from one or two `kubectl get` calls. Query and
parse only: whether the API server is this cluster's, and what the objects mean, is the stages' call."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass, field

from .. import paths, tools
from ..files import write_if_changed

# Custom resources listed once their CRD exists. kubectl is given the plural alone: a list of
# fully qualified `plural.group` names makes kubectl 1.32 refresh its whole discovery cache.
WATCHED_CRDS = ("gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io",
                "helmreleases.helm.toolkit.fluxcd.io",
                "fluxinstances.fluxcd.controlplane.io", "clustersecretstores.external-secrets.io",
                "clusterissuers.cert-manager.io", "ciliumloadbalancerippools.cilium.io",
                "ciliumbgpclusterconfigs.cilium.io", "ciliumbgppeerconfigs.cilium.io",
                "ciliumbgpadvertisements.cilium.io")
BASE_KINDS = "namespaces,nodes,customresourcedefinitions,deployments,secrets"


@dataclass
class ReleaseFact:
    """The newest revision of a Helm release, from its storage Secret."""

    name: str
    namespace: str
    status: str
    chart_version: str
    values: dict
    revision: int = 0


@dataclass
class KubeFacts:
    """What the Kubernetes API shows, or why it could not be asked."""

    reachable: bool
    reason: str = ""
    objects: dict[tuple[str, str, str], dict] = field(default_factory=dict)   # (kind, ns, name) -> object
    releases: dict[str, ReleaseFact] = field(default_factory=dict)

    def get(self, kind: str, name: str, namespace: str = "") -> dict | None:
        return self.objects.get((kind, namespace, name))

    def names(self, kind: str) -> set[str]:
        return {name for (k, _, name) in self.objects if k == kind}

    @property
    def uid(self) -> str:
        """The uid of the kube-system namespace: unique per cluster, stable for its life."""
        return ((self.get("Namespace", "kube-system") or {}).get("metadata") or {}).get("uid", "")


def condition(obj: dict | None, kind: str) -> dict | None:
    """The status condition of a type, if any."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def query_kube() -> KubeFacts:
    """Every object the stages look at, in one `kubectl get`: the base kinds plus the watched custom
    resources whose CRDs existed last time (build/api-kinds.json, a hint, never trusted for
    completeness). Superseded Helm revisions are left out (`status!=superseded` matches every object
    without that label), so release history does not grow the payload."""
    if not paths.KUBECONFIG.exists():
        return KubeFacts(False, "no build/kubeconfig yet (the cluster has not been bootstrapped by this tool)")
    hinted = _hinted_kinds()
    facts, result = _get([BASE_KINDS, *hinted])
    if result.outcome != "ok" and hinted:
        # A hinted CRD went away (a repave): kubectl says the server "doesn't have a resource type",
        # or, from its cached discovery, NotFound. Ask again without the hint.
        hinted = []
        facts, result = _get([BASE_KINDS])
    if result.outcome != "ok":
        return KubeFacts(False, f"Kubernetes API: {result.message()}")
    present = [p for p in _watched_plurals(facts) if p not in hinted]
    if present:          # CRDs seeded since the hint was written
        more, result = _get(present)
        if result.outcome != "ok":
            return KubeFacts(False, f"Kubernetes API: {result.message()}")
        facts.objects.update(more.objects)
        facts.releases.update(more.releases)
    _remember_kinds(_watched_plurals(facts))
    return facts


def _get(kinds: list[str]) -> tuple[KubeFacts, tools.Result]:
    """One `kubectl get` of several kinds across namespaces, parsed."""
    result = tools.kubectl(["get", ",".join(kinds), "-A", "-l", "status!=superseded", "-o", "json",
                            "--request-timeout=10s"], timeout=30)
    facts = KubeFacts(result.ok)
    if result.ok:
        absorb(facts, _items(result.stdout))
    return facts, result


def _watched_plurals(facts: KubeFacts) -> list[str]:
    """The plurals of the watched custom resources whose CRDs exist (kubectl takes the plural alone)."""
    return [crd.split(".")[0] for crd in WATCHED_CRDS if ("CustomResourceDefinition", "", crd) in facts.objects]


def _hinted_kinds() -> list[str]:
    """The watched plurals that were served last time."""
    try:
        hint = json.loads(paths.API_KINDS.read_text())
    except (OSError, ValueError):
        return []
    watched = {crd.split(".")[0] for crd in WATCHED_CRDS}
    return [k for k in hint if isinstance(k, str) and k in watched] if isinstance(hint, list) else []


def _remember_kinds(plurals: list[str]) -> None:
    """Keep the hint for the next run's single query (names of kinds only)."""
    try:
        write_if_changed(paths.API_KINDS, json.dumps(plurals) + "\n")
    except OSError:
        pass


def _items(text: str) -> list[dict]:
    """The items of a kubectl List."""
    try:
        return json.loads(text).get("items") or []
    except ValueError:
        return []


def absorb(facts: KubeFacts, items: list[dict]) -> None:
    """Index objects; Helm release Secrets become ReleaseFacts, other Secrets lose their data."""
    for obj in items:
        meta = obj.get("metadata") or {}
        key = (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))
        if obj.get("kind") == "Secret":
            if obj.get("type") == "helm.sh/release.v1":
                _add_release(facts, obj)
            # Values never leave this function: only their digests, to tell whether they changed.
            # Annotations may hold the whole Secret (kubectl's last-applied-configuration).
            meta = {k: v for k, v in meta.items() if k not in ("annotations", "managedFields")}
            obj = {"apiVersion": obj.get("apiVersion", "v1"), "kind": "Secret", "metadata": meta, "type": obj.get("type"),
                   "data": {k: digest(v) for k, v in (obj.get("data") or {}).items()}}
        facts.objects[key] = obj


def digest(value: str) -> str:
    """A Secret value as the facts keep it: sha256 of its base64 form."""
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def _add_release(facts: KubeFacts, secret: dict) -> None:
    """Decode a Helm release Secret (base64 of base64 of gzip of JSON) and keep the newest."""
    try:
        raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
        release = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (KeyError, ValueError, OSError):
        return
    name, revision = release.get("name", ""), int(release.get("version", 0))
    current = facts.releases.get(name)
    if current is not None and current.revision >= revision:
        return
    facts.releases[name] = ReleaseFact(name, release.get("namespace", ""), (release.get("info") or {}).get("status", ""),
                                       str(((release.get("chart") or {}).get("metadata") or {}).get("version", "")),
                                       release.get("config") or {}, revision)
