"""Facts: read-only queries of live state (Talos nodes, etcd, Kubernetes objects, Helm releases,
Flux conditions), batched into a handful of calls and memoized per run. A probe never raises: an
unreachable cluster is a fact too ("not done"), with the reason kept for the user. Stages call
`invalidate()` after they change something.

    talos     node states and etcd, from talosctl
    kube      objects and Helm release storage, from kubectl
    versions  Talos and Kubernetes versions per node, from the two above
    etcd      etcd members (one call, for `doit plan`), and their health only before a node goes down
"""
from __future__ import annotations

from .. import paths
from ..settings.model import Cluster
from ..tools import op
from .etcd import EtcdHealth, query_health, query_members
from .kube import KubeFacts, query_kube
from .talos import NodeFact, query_etcd, query_nodes
from .versions import NodeVersions, query_versions


class Facts:
    """Memoized per run; `invalidate()` after any change."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self._memo: dict = {}
        self._talosconfig: tuple[str | None, str] | None = None
        # Nodes found in maintenance mode this run: a node leaves it only when it is given a config,
        # which its stage does (and then forgets it here); not asking each of them one by one after
        # every stage keeps a fresh bootstrap linear in the nodes.
        self._maintenance: dict[str, NodeFact] = {}
        self._leaving: set[str] = set()

    def invalidate(self) -> None:
        """Forget cluster facts (the resolved client config stays: it does not change with the cluster)."""
        self._memo.clear()

    def leaving_maintenance(self, address: str) -> None:
        """A node is being given its config: ask it again from now on."""
        self._leaving.add(address)
        self._maintenance.pop(address, None)
        self._memo.pop("talos", None)

    def prefetch(self) -> None:
        """Query Kubernetes and Talos side by side (each a subprocess; talosctl after `op inject`),
        so a run that finds everything done pays for the slower chain, not for both in a row.
        etcd is asked only when the API cannot tell (see apply.talos.etcd_done)."""
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=1) as pool:
            kube = pool.submit(self.kube)
            self.talos_nodes()
            kube.result()

    def _once(self, key: str, query):
        if key not in self._memo:
            self._memo[key] = query()
        return self._memo[key]

    def talosconfig(self) -> tuple[str | None, str]:
        """The client config with its references resolved (memory only, one `op inject` per run),
        or op's error."""
        if self._talosconfig is None:
            self._talosconfig = op.inject_documents(paths.TALOSCONFIG)
        return self._talosconfig

    def talos_nodes(self) -> dict[str, NodeFact]:
        """Every node's state, from one authenticated `talosctl get machineconfig v1alpha1` call."""
        return self._once("talos", self._query_nodes)

    def _query_nodes(self) -> dict[str, NodeFact]:
        found = query_nodes(self.cluster, *self.talosconfig(), known=self._maintenance)
        self._maintenance = {a: fact for a, fact in found.items()
                             if fact.state == "maintenance" and a not in self._leaving}
        return found

    def etcd_running(self) -> tuple[bool, str]:
        """Whether etcd runs on any control-plane node."""
        return self._once("etcd", lambda: query_etcd(self.cluster, *self.talosconfig()))

    def kube(self) -> KubeFacts:
        """What the Kubernetes API shows (objects, Helm releases, watched custom resources)."""
        return self._once("kube", query_kube)

    def versions(self, trusted_api: bool) -> dict[str, NodeVersions]:
        """Every node's Talos, kubelet and control-plane versions (address -> NodeVersions); the
        Kubernetes Nodes count only when the caller found the API server to be this cluster's."""
        kube = self.kube() if trusted_api else KubeFacts(False, "not this cluster's API server")
        return self._once(f"versions-{trusted_api}", lambda: query_versions(self.cluster, self.talos_nodes(), kube,
                                                                            self.talosconfig()[0]))

    def etcd_members(self) -> EtcdHealth:
        """etcd's members, without their health (one call)."""
        talosconfig, why = self.talosconfig()
        if talosconfig is None:
            return EtcdHealth(reason=f"talosconfig: {why}")
        return self._once("etcd-members", lambda: query_members(self._controlplanes(), talosconfig))

    def etcd_health(self) -> EtcdHealth:
        """etcd's members and which of them answer healthy (one more call; only before a node goes down)."""
        members = self.etcd_members()
        talosconfig, _ = self.talosconfig()
        return self._once("etcd-health", lambda: query_health(members, self._controlplanes(), talosconfig))

    def _controlplanes(self) -> list[str]:
        """The inventory's control-plane addresses, the nodes etcd is asked through."""
        return [n.address for n in self.cluster.controlplanes]
