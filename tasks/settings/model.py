"""The typed view of the settings: one `Cluster` holding every validated setting, its nodes and
its Helm releases in install order."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Settings every Helm values file may read beyond its own; the rest of a release's `reads` is its
# own settings file, whose `values:` merge on top of the rendered chart values.
SHARED_SETTINGS = ("common", "talos")


@dataclass(frozen=True)
class Node:
    """One machine of the inventory."""

    name: str
    role: str
    address: str
    install_disk: str
    bond_links: tuple[str, ...]

    @property
    def is_controlplane(self) -> bool:
        return self.role == "controlplane"


@dataclass(frozen=True)
class Release:
    """One bootstrap Helm release, in install order."""

    name: str
    namespace: str
    chart: str
    repo: str
    version: str
    reads: tuple[str, ...]

    @property
    def own_settings(self) -> tuple[str, ...]:
        """The settings files whose `values:` merge into this release's values."""
        return tuple(r for r in self.reads if r not in SHARED_SETTINGS)


@dataclass(frozen=True)
class Cluster:
    """Every validated setting, with defaults filled in."""

    settings: dict[str, dict]
    charts: dict[str, dict]
    releases: tuple[Release, ...]
    nodes: tuple[Node, ...]
    crd_charts: tuple[str, ...] = ()          # charts.yaml crds: the charts 00-crds.yaml renders

    @property
    def controlplanes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.is_controlplane)

    @property
    def workers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if not n.is_controlplane)

    @property
    def controlplanes_schedulable(self) -> bool:
        """Whether workloads may run on control planes (talos.yaml schedulingOnControlPlanes;
        auto: only when the inventory has no worker, or nothing could run at all)."""
        setting = self.settings["talos"]["schedulingOnControlPlanes"]
        return not self.workers if setting == "auto" else bool(setting)

    @property
    def l2_announcements(self) -> bool:
        """Whether Cilium answers ARP for the LoadBalancer pool (cilium.yaml l2Announcements; auto:
        when the pool lies inside the node subnet, where hosts ARP for it and BGP alone reaches nobody)."""
        balancer = self.settings["cilium"]["loadBalancer"]
        if balancer["l2Announcements"] != "auto":
            return bool(balancer["l2Announcements"])
        pool = balancer["pool"]
        return all(ipaddress.ip_address(pool[end]) in self.subnet for end in ("start", "stop"))

    @property
    def first_controlplane(self) -> Node:
        return self.controlplanes[0]

    @property
    def name(self) -> str:
        return self.settings["common"]["cluster"]["name"]

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.settings["common"]["network"]["subnet"], strict=False)

    def release(self, name: str) -> Release:
        """The release named `name`."""
        return next(r for r in self.releases if r.name == name)


def build_cluster(data: dict[str, object]) -> Cluster:
    """The typed Cluster from the settings data (schema-valid, defaults filled)."""
    settings = {name: data[name] for name in data if name != "charts"}
    talos = settings["talos"]
    nodes = tuple(Node(str(n["name"]), n["role"], n["address"], n["installDisk"],
                       tuple(n.get("bondLinks") or talos["bond"]["links"])) for n in talos["nodes"])
    charts = data["charts"]["charts"]
    releases = tuple(Release(str(r["name"]), r["namespace"], charts[r["name"]]["chart"], charts[r["name"]]["repo"],
                             str(charts[r["name"]]["version"]), tuple(r["reads"]))
                     for r in data["charts"]["releases"] if r["name"] in charts)
    crds = tuple(str(c) for c in data["charts"].get("crds") or () if c in charts)
    return Cluster(settings, charts, releases, nodes, crds)
