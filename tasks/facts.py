"""Facts: read-only queries of live state (Talos nodes, etcd, Kubernetes objects, Helm releases,
Flux conditions), batched into a handful of calls and memoized per run. A probe never raises:
an unreachable cluster is a fact too ("not done"), with the reason kept for the user.
Stages call `invalidate()` after they change something."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass, field

from . import secrets, tools
from .config import Cluster

# Errors that mean "this node has no config yet" (authenticated API on a maintenance node);
# FIELD-NOTES: without --insecure a maintenance node fails with an unknown-authority x509 error.
MAINTENANCE_ERRORS = ("certificate signed by unknown authority", "x509:", "tls: ")
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
class NodeFact:
    """A Talos node as its API answers: maintenance, configured, or unreachable."""

    address: str
    state: str
    reason: str = ""


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
    stranger: bool = False          # an API server answered, but it is not this cluster's
    objects: dict[tuple[str, str, str], dict] = field(default_factory=dict)   # (kind, ns, name) -> object
    releases: dict[str, ReleaseFact] = field(default_factory=dict)

    def get(self, kind: str, name: str, namespace: str = "") -> dict | None:
        return self.objects.get((kind, namespace, name))

    def names(self, kind: str) -> set[str]:
        return {name for (k, _, name) in self.objects if k == kind}


def condition(obj: dict | None, kind: str) -> dict | None:
    """The status condition of a type, if any."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


class Facts:
    """Memoized per run; `invalidate()` after any change."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self._memo: dict = {}
        self._talosconfig: tuple[str | None, str] | None = None

    def invalidate(self) -> None:
        """Forget cluster facts (the resolved client config stays: it does not change with the cluster)."""
        self._memo.clear()

    def prefetch(self) -> None:
        """Query Talos and Kubernetes side by side (each a subprocess), so a run that finds
        everything done pays for the slowest query, not for all of them in a row."""
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=3) as pool:
            kube = pool.submit(self.kube)
            self.talosconfig()
            talos, etcd = pool.submit(self.talos_nodes), pool.submit(self.etcd_running)
            for future in (kube, talos, etcd):
                future.result()

    def _once(self, key: str, query):
        if key not in self._memo:
            self._memo[key] = query()
        return self._memo[key]

    def talosconfig(self) -> tuple[str | None, str]:
        """The client config with its references resolved (memory only, one `op inject` per run),
        or op's error."""
        if self._talosconfig is None:
            self._talosconfig = secrets.inject_file(tools.paths.BUILD / "talos/talosconfig.yaml")
        return self._talosconfig

    def talos_nodes(self) -> dict[str, NodeFact]:
        """Every node's state, from one authenticated `talosctl get machinestatus` call."""
        return self._once("talos", self._query_talos)

    def _query_talos(self) -> dict[str, NodeFact]:
        addresses = [n.address for n in self.cluster.nodes]
        config, error = self.talosconfig()
        if config is None:
            return {a: NodeFact(a, "unknown", f"talosconfig: {error}") for a in addresses}
        result = tools.talosctl(["get", "machinestatus", "-n", ",".join(addresses), "-o", "json"], config,
                                timeout=60)
        answered = {item.get("node") for item in json_stream(result.stdout)}
        facts = {}
        for address in addresses:
            if address in answered:
                facts[address] = NodeFact(address, "configured")
                continue
            line = _node_error(result, address, len(addresses))
            # Only a hint: an insecure apply still needs the node itself to confirm maintenance mode.
            state = "maintenance" if any(e in line for e in MAINTENANCE_ERRORS) else "unreachable"
            facts[address] = NodeFact(address, state, line.strip())
        return facts

    def etcd_running(self) -> tuple[bool, str]:
        """Whether etcd runs on any control-plane node: then the cluster is bootstrapped, even if
        the first control plane was replaced and has not joined yet."""
        return self._once("etcd", self._query_etcd)

    def _query_etcd(self) -> tuple[bool, str]:
        nodes = [n.address for n in self.cluster.controlplanes]
        config, error = self.talosconfig()
        if config is None:
            return False, f"talosconfig: {error}"
        result = tools.talosctl(["service", "etcd", "-n", ",".join(nodes)], config, timeout=30)
        states = _service_states(result.stdout)
        running = [a for a in nodes if states.get(a) == "Running"]
        if running:
            return True, f"etcd runs on {', '.join(running)}"
        seen = ", ".join(f"{a} {states[a]}" for a in nodes if a in states) or result.message()
        return False, f"etcd runs on no control-plane node ({seen})"

    def kube(self) -> KubeFacts:
        """Namespaces, nodes, CRDs, workloads, Helm releases and watched custom resources."""
        return self._once("kube", self._query_kube)

    def _query_kube(self) -> KubeFacts:
        if not tools.KUBECONFIG.exists():
            return KubeFacts(False, "no build/kubeconfig yet (the cluster has not been bootstrapped by this tool)")
        base = tools.kubectl(["get", BASE_KINDS, "-A", "-o", "json", "--request-timeout=10s"], timeout=30)
        if not base.ok:
            return KubeFacts(False, f"Kubernetes API: {base.message()}")
        facts = KubeFacts(True)
        _absorb(facts, _items(base.stdout))
        stranger = _stranger(facts)
        if stranger:
            return KubeFacts(False, stranger, stranger=True)
        extra = [crd.split(".")[0] for crd in WATCHED_CRDS if ("CustomResourceDefinition", "", crd) in facts.objects]
        if extra:
            more = tools.kubectl(["get", ",".join(extra), "-A", "-o", "json", "--request-timeout=10s"], timeout=30)
            if not more.ok:
                return KubeFacts(False, f"Kubernetes API: {more.message()}")
            _absorb(facts, _items(more.stdout))
        return facts


IDENTITY = tools.paths.BUILD / "cluster-identity"


def cluster_uid(facts: KubeFacts) -> str:
    """The uid of the kube-system namespace: unique per cluster, stable for its life."""
    return ((facts.get("Namespace", "kube-system") or {}).get("metadata") or {}).get("uid", "")


def _stranger(facts: KubeFacts) -> str | None:
    """Why the API server reached is not the cluster this tool built, if it is not."""
    try:
        expected = IDENTITY.read_text().strip()
    except OSError:
        return None
    found = cluster_uid(facts)
    if found == expected:
        return None
    return (f"the API server reached through build/kubeconfig is not the cluster this tool built "
            f"(kube-system uid {found or 'missing'}, expected {expected} from {tools.paths.rel(IDENTITY)}); "
            "refusing to use it — check BOOTSTRAP_ADDRESS_MAP, or remove build/kubeconfig after a repave")


def _node_error(result: tools.Result, address: str, count: int) -> str:
    """The error talosctl printed for one node (` * <address>: ...` when several were asked)."""
    if count == 1:
        return result.message()
    pattern = re.compile(rf"^\s*\*?\s*{re.escape(address)}:\s")
    return next((ln for ln in result.stderr.splitlines() if pattern.match(ln)), result.message())


def _service_states(text: str) -> dict[str, str]:
    """Node -> STATE from `talosctl service <id>` output (one NODE/ID/STATE block per node)."""
    states, node = {}, None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "NODE":
            node = value.strip()
        elif key == "STATE" and node:
            states[node] = value.strip()
    return states


def json_stream(text: str) -> list[dict]:
    """Objects of a stream of concatenated JSON documents (talosctl -o json)."""
    decoder, items, index = json.JSONDecoder(), [], 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            item, index = decoder.raw_decode(text, index)
        except ValueError:
            break
        items.append(item)
    return items


def _items(text: str) -> list[dict]:
    """The items of a kubectl List."""
    try:
        return json.loads(text).get("items") or []
    except ValueError:
        return []


def _absorb(facts: KubeFacts, items: list[dict]) -> None:
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
