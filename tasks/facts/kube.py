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
    """Every object the stages look at, in one call plus one for the watched custom resources."""
    if not paths.KUBECONFIG.exists():
        return KubeFacts(False, "no build/kubeconfig yet (the cluster has not been bootstrapped by this tool)")
    base = tools.kubectl(["get", BASE_KINDS, "-A", "-o", "json", "--request-timeout=10s"], timeout=30)
    if not base.ok:
        return KubeFacts(False, f"Kubernetes API: {base.message()}")
    facts = KubeFacts(True)
    absorb(facts, _items(base.stdout))
    extra = [crd.split(".")[0] for crd in WATCHED_CRDS if ("CustomResourceDefinition", "", crd) in facts.objects]
    if extra:
        more = tools.kubectl(["get", ",".join(extra), "-A", "-o", "json", "--request-timeout=10s"], timeout=30)
        if not more.ok:
            return KubeFacts(False, f"Kubernetes API: {more.message()}")
        absorb(facts, _items(more.stdout))
    return facts


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
