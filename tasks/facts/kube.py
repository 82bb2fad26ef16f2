"""Kubernetes facts: namespaces, nodes, CRDs, workloads, Secrets (values reduced to digests), Helm
release storage, the watched custom resources and every kind the releases' manifests hold, from one
`kubectl get`. Query and parse only: whether the API server is this cluster's, and what the objects
mean, is the stages' call."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .. import paths, tools
from . import kinds
from .releases import ReleaseFact, ReleaseMemo, decode, keep_newest


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

    def served(self, kind: str) -> bool:
        """Whether the API serves a kind: built in, or defined by a CRD that exists."""
        return kind in kinds.BUILTIN or any(
            ((crd.get("spec") or {}).get("names") or {}).get("kind") == kind
            for (k, _, _), crd in self.objects.items() if k == "CustomResourceDefinition")

    def wanted_kinds(self) -> list[str]:
        """Kinds to fetch beyond the base ones: watched custom resources whose CRDs exist, and the
        served kinds of the releases' manifests."""
        wanted = [kind for crd, kind in kinds.WATCHED_CRDS.items() if ("CustomResourceDefinition", "", crd) in self.objects]
        wanted += sorted({k for r in self.releases.values() for k in r.kinds if self.served(k)})
        return [k for k in dict.fromkeys(wanted) if k not in kinds.BASE]


def condition(obj: dict | None, kind: str) -> dict | None:
    """The status condition of a type, if any."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def query_kube() -> KubeFacts:
    """Every object the stages look at, in one `kubectl get` of the base kinds and the kinds asked
    for last time; a second call only for kinds that became wanted since. Superseded Helm revisions
    are left out (`status!=superseded` matches every object without that label)."""
    if not paths.KUBECONFIG.exists():
        return KubeFacts(False, "no build/kubeconfig yet (the cluster has not been bootstrapped by this tool)")
    hinted, memo = kinds.hinted(), ReleaseMemo(paths.RELEASE_FACTS)
    facts, result = _get([*kinds.BASE, *hinted], memo)
    if result.outcome != "ok" and hinted:
        # A hinted kind is no longer served (a repave): kubectl says the server "doesn't have a
        # resource type", or, from its cached discovery, NotFound. Ask again without the hint.
        hinted = []
        facts, result = _get(list(kinds.BASE), memo)
    if result.outcome != "ok":
        return KubeFacts(False, f"Kubernetes API: {result.message()}")
    wanted = facts.wanted_kinds()
    missing = [k for k in wanted if k not in hinted]
    if missing:
        more, result = _get(missing, memo)
        if result.outcome != "ok":
            return KubeFacts(False, f"Kubernetes API: {result.message()}")
        facts.objects.update(more.objects)
    kinds.remember(wanted)
    memo.save()
    return facts


def _get(names: list[str], memo: ReleaseMemo) -> tuple[KubeFacts, tools.Result]:
    """One `kubectl get` of several kinds across namespaces, parsed."""
    result = tools.kubectl(["get", ",".join(kinds.type_name(k) for k in names), "-A", "-l", "status!=superseded",
                            "-o", "json", "--request-timeout=10s"], timeout=30)
    facts = KubeFacts(result.ok)
    if result.ok:
        absorb(facts, _items(result.stdout), memo)
    return facts, result


def _items(text: str) -> list[dict]:
    """The items of a kubectl List."""
    try:
        return json.loads(text).get("items") or []
    except ValueError:
        return []


def absorb(facts: KubeFacts, items: list[dict], memo: ReleaseMemo | None = None) -> None:
    """Index objects; Helm release Secrets become ReleaseFacts, other Secrets lose their data."""
    for obj in items:
        meta = obj.get("metadata") or {}
        key = (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))
        if obj.get("kind") == "Secret":
            if obj.get("type") == "helm.sh/release.v1":
                release = decode(obj, memo)
                if release is not None:
                    keep_newest(facts.releases, release)
            # Values never leave this function: only their digests, to tell whether they changed.
            # Annotations may hold the whole Secret (kubectl's last-applied-configuration).
            meta = {k: v for k, v in meta.items() if k not in ("annotations", "managedFields")}
            obj = {"apiVersion": obj.get("apiVersion", "v1"), "kind": "Secret", "metadata": meta, "type": obj.get("type"),
                   "data": {k: digest(v) for k, v in (obj.get("data") or {}).items()}}
        facts.objects[key] = obj


def digest(value: str) -> str:
    """A Secret value as the facts keep it: sha256 of its base64 form."""
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()
