"""Semantic checks across settings files: what a schema cannot say (addresses inside their
subnet, the VIP outside the pool, unique nodes, consistent VLANs). Each check returns Problems."""
from __future__ import annotations

import ipaddress
from collections import Counter
from pathlib import Path
from typing import Callable

from .. import paths
from ..problems import Problem
from ..yamlio import Document
from .model import Cluster

Check = Callable[[Cluster, dict], list]


def _file(name: str) -> str:
    return paths.rel(paths.settings_file(name))


def _problem(docs: dict, name: str, path: str, expected: str, found: str, hint: str = None) -> Problem:
    """A Problem in settings file `name`, with the line of `path`."""
    doc: Document | None = docs.get(name)
    line = doc.line(path) if doc else None
    return Problem(_file(name) if name != "charts" else paths.rel(paths.CHARTS_FILE),
                   path, expected, found, line, hint=hint)


def _ip(text: str) -> ipaddress.IPv4Address:
    return ipaddress.ip_address(text)


def addresses_in_subnet(cluster: Cluster, docs: dict) -> list[Problem]:
    """Node addresses, gateway, endpoint, VIP, BGP peers and the LB pool are inside the VLAN subnet."""
    net, s = cluster.subnet, cluster.settings
    wanted = f"an address inside {net} (common.yaml network.subnet)"
    places = [("common", "network.gateway", s["common"]["network"]["gateway"]),
              ("talos", "endpoint", s["talos"]["endpoint"]),
              ("kube-vip", "vip", s["kube-vip"]["vip"]),
              ("cilium", "loadBalancer.pool.start", s["cilium"]["loadBalancer"]["pool"]["start"]),
              ("cilium", "loadBalancer.pool.stop", s["cilium"]["loadBalancer"]["pool"]["stop"])]
    places += [("talos", f"nodes[{i}].address", n["address"]) for i, n in enumerate(s["talos"]["nodes"])]
    places += [("cilium", f"bgp.peers[{i}].address", p["address"])
               for i, p in enumerate(s["cilium"]["bgp"].get("peers") or [])]
    return [_problem(docs, f, path, wanted, value) for f, path, value in places if _ip(value) not in net]


def pool_is_ordered(cluster: Cluster, docs: dict) -> list[Problem]:
    """The LoadBalancer pool's start is not after its stop."""
    pool = cluster.settings["cilium"]["loadBalancer"]["pool"]
    if _ip(pool["start"]) <= _ip(pool["stop"]):
        return []
    return [_problem(docs, "cilium", "loadBalancer.pool.stop", f"an address at or after start {pool['start']}",
                     pool["stop"])]


def vip_placement(cluster: Cluster, docs: dict) -> list[Problem]:
    """The VIP is the Talos endpoint, outside the LB pool, and no node's address."""
    s = cluster.settings
    vip, pool = s["kube-vip"]["vip"], s["cilium"]["loadBalancer"]["pool"]
    problems = []
    if vip != s["talos"]["endpoint"]:
        problems.append(_problem(docs, "talos", "endpoint", f"the kube-vip VIP {vip} (kube-vip.yaml vip)",
                                 s["talos"]["endpoint"]))
    if _ip(pool["start"]) <= _ip(vip) <= _ip(pool["stop"]) and vip not in pool["exclude"]:
        problems.append(_problem(docs, "kube-vip", "vip", f"an address outside the LoadBalancer pool "
                                 f"{pool['start']}-{pool['stop']} ({_pool_source(docs)})", vip,
                                 "move the VIP, or list it in cilium.yaml loadBalancer.pool.exclude so "
                                 "Cilium never hands it to a Service"))
    for i, node in enumerate(s["talos"]["nodes"]):
        if node["address"] == vip:
            problems.append(_problem(docs, "kube-vip", "vip", "an address no node uses",
                                     f"{vip}, the address of node {node['name']} (talos.yaml nodes[{i}])"))
    return problems


def _pool_source(docs: dict) -> str:
    """Where the LoadBalancer pool is set: `bootstrap/values/cilium.yaml:7 loadBalancer.pool`."""
    doc: Document | None = docs.get("cilium")
    line = doc.line("loadBalancer.pool") if doc else None
    return f"{_file('cilium')}{f':{line}' if line else ''} loadBalancer.pool"


def nodes_in_pool(cluster: Cluster, docs: dict) -> list[Problem]:
    """No node address falls inside the LoadBalancer pool: told against both files, since either edit can cause it."""
    pool = cluster.settings["cilium"]["loadBalancer"]["pool"]
    lo, hi = _ip(pool["start"]), _ip(pool["stop"])
    return [_problem(docs, "talos", f"nodes[{i}].address",
                     f"an address outside the LoadBalancer pool {lo}-{hi} ({_pool_source(docs)})", n["address"],
                     f"move node {n['name']} (talos.yaml nodes[{i}].address) or the pool (cilium.yaml "
                     "loadBalancer.pool start/stop) so they do not overlap")
            for i, n in enumerate(cluster.settings["talos"]["nodes"])
            if lo <= _ip(n["address"]) <= hi and n["address"] not in pool["exclude"]]


def excludes_in_pool(cluster: Cluster, docs: dict) -> list[Problem]:
    """Every excluded address lies inside the pool (anything else is a typo)."""
    pool = cluster.settings["cilium"]["loadBalancer"]["pool"]
    lo, hi = _ip(pool["start"]), _ip(pool["stop"])
    return [_problem(docs, "cilium", f"loadBalancer.pool.exclude[{i}]", f"an address inside {lo}-{hi}", a)
            for i, a in enumerate(pool["exclude"]) if not lo <= _ip(a) <= hi]


def unique_nodes(cluster: Cluster, docs: dict) -> list[Problem]:
    """Node names and addresses are unique."""
    nodes = cluster.settings["talos"]["nodes"]
    problems = []
    for key, what in (("name", "a name"), ("address", "an address")):
        counts = Counter(n[key] for n in nodes)
        seen: set = set()
        for i, n in enumerate(nodes):
            if counts[n[key]] > 1 and n[key] in seen:
                problems.append(_problem(docs, "talos", f"nodes[{i}].{key}", f"{what} no other node has",
                                         f"{n[key]!r}, used {counts[n[key]]} times"))
            seen.add(n[key])
    return problems


def controlplane_quorum(cluster: Cluster, docs: dict) -> list[Problem]:
    """At least one control-plane node, and an odd number of them (etcd quorum)."""
    count = len(cluster.controlplanes)
    if count % 2 == 1:
        return []
    return [_problem(docs, "talos", "nodes", "an odd number (1, 3, 5) of nodes with role controlplane",
                     f"{count}", "etcd needs a majority: an even count tolerates no more failures than one less")]


def vlan_consistency(cluster: Cluster, docs: dict) -> list[Problem]:
    """The VLAN in cilium.yaml and kube-vip's interface match common.yaml's VLAN on the bond."""
    s = cluster.settings
    vlan, bond = s["common"]["network"]["vlan"], s["talos"]["bond"]["name"]
    problems = []
    if s["cilium"]["loadBalancer"]["vlan"] != vlan:
        problems.append(_problem(docs, "cilium", "loadBalancer.vlan", f"{vlan} (common.yaml network.vlan)",
                                 str(s["cilium"]["loadBalancer"]["vlan"])))
    if s["kube-vip"]["interface"] != f"{bond}.{vlan}":
        problems.append(_problem(docs, "kube-vip", "interface", f"{bond}.{vlan} (the VLAN {vlan} interface on {bond})",
                                 repr(s["kube-vip"]["interface"])))
    return problems


def cluster_networks_disjoint(cluster: Cluster, docs: dict) -> list[Problem]:
    """Pod and service subnets overlap neither each other nor the node VLAN."""
    net = cluster.settings["common"]["network"]
    pods = ipaddress.ip_network(net["podSubnet"], strict=False)
    services = ipaddress.ip_network(net["serviceSubnet"], strict=False)
    problems = []
    for key, other in (("podSubnet", pods), ("serviceSubnet", services)):
        if other.overlaps(cluster.subnet):
            problems.append(_problem(docs, "common", f"network.{key}", f"a range not overlapping {cluster.subnet}",
                                     str(other)))
    if pods.overlaps(services):
        problems.append(_problem(docs, "common", "network.serviceSubnet", f"a range not overlapping {pods}",
                                 str(services)))
    return problems


def service_subnet_holds_dns(cluster: Cluster, docs: dict) -> list[Problem]:
    """The service subnet has room for the cluster DNS Service, its 10th address (coredns values)."""
    services = ipaddress.ip_network(cluster.settings["common"]["network"]["serviceSubnet"], strict=False)
    if services.num_addresses > 10:
        return []
    return [_problem(docs, "common", "network.serviceSubnet",
                     "a range of more than 10 addresses (the cluster DNS Service takes the 10th)", str(services))]


def bgp_complete(cluster: Cluster, docs: dict) -> list[Problem]:
    """With BGP enabled, a local ASN and at least one peer are set."""
    bgp = cluster.settings["cilium"]["bgp"]
    if not bgp["enabled"]:
        return []
    problems = []
    if "localASN" not in bgp:
        problems.append(_problem(docs, "cilium", "bgp.localASN", "an ASN (bgp.enabled is true)", "nothing"))
    if not bgp.get("peers"):
        problems.append(_problem(docs, "cilium", "bgp.peers", "at least one peer (bgp.enabled is true)", "none"))
    return problems


def acme_complete(cluster: Cluster, docs: dict) -> list[Problem]:
    """An ACME default issuer has its acme settings."""
    issuer = cluster.settings["cert-manager"]["defaultIssuer"]
    if issuer["type"] != "acme" or "acme" in issuer:
        return []
    return [_problem(docs, "cert-manager", "defaultIssuer.acme", "email and server (type is acme)", "nothing")]


def releases_have_charts(cluster: Cluster, docs: dict) -> list[Problem]:
    """Every release row and every `crds` entry names a chart listed under `charts`."""
    data, wanted = docs["charts"].data, "a key under charts (" + ", ".join(cluster.charts) + ")"
    rows = [(f"releases[{i}].name", r["name"]) for i, r in enumerate(data["releases"])]
    rows += [(f"crds[{i}]", name) for i, name in enumerate(data.get("crds") or [])]
    return [_problem(docs, "charts", path, wanted, repr(name)) for path, name in rows if name not in cluster.charts]


def namespaces_match_charts(cluster: Cluster, docs: dict) -> list[Problem]:
    """The Flux namespace in the settings is the one charts.yaml installs the Flux releases into."""
    problems = []
    for name in ("flux-operator", "flux-instance"):
        release = next((r for r in cluster.releases if r.name == name), None)
        wanted = cluster.settings[name].get("namespace")
        if release is not None and wanted != release.namespace:
            problems.append(_problem(docs, name, "namespace", f"{release.namespace!r}, the namespace "
                                     f"bootstrap/charts.yaml installs the {name} release into", repr(wanted),
                                     "change both together: Flux objects are looked up in this namespace"))
    return problems


SUPPORT_TABLE = Path(__file__).resolve().parent / "data" / "talos-kubernetes.yaml"
NODE_PORTS = range(30000, 32768)        # kube-apiserver --service-node-port-range default


def _minor(version: str) -> tuple[int, int]:
    """(1, 34) of v1.34.1."""
    major, minor = str(version).lstrip("v").split(".")[:2]
    return int(major), int(minor)


def kubernetes_supported(cluster: Cluster, docs: dict) -> list[Problem]:
    """talosVersion and kubernetesVersion are a pair Talos supports (its own compatibility table)."""
    import yaml
    talos = cluster.settings["talos"]
    table = yaml.safe_load(SUPPORT_TABLE.read_text())["talos"]
    release = "%d.%d" % _minor(talos["talosVersion"])
    if release not in table:
        return [_problem(docs, "talos", "talosVersion", "a Talos release the tool knows (" + ", ".join(
            f"v{t}.x" for t in table) + ")", talos["talosVersion"],
            f"add its row to {paths.rel(SUPPORT_TABLE)} from Talos' pkg/machinery/compatibility")]
    window = table[release]
    oldest, newest = (tuple(map(int, window[k].split("."))) for k in ("oldest", "newest"))
    if oldest <= _minor(talos["kubernetesVersion"]) <= newest:
        return []
    return [_problem(docs, "talos", "kubernetesVersion",
                     f"a Kubernetes release Talos {release} supports (v{window['oldest']}.x to v{window['newest']}.x)",
                     talos["kubernetesVersion"], "pick a supported pair, or move talosVersion with it")]


def something_schedules(cluster: Cluster, docs: dict) -> list[Problem]:
    """Some node runs workloads: workers, or control planes allowed to."""
    if cluster.workers or cluster.controlplanes_schedulable:
        return []
    return [_problem(docs, "talos", "schedulingOnControlPlanes",
                     "auto or true (the inventory has no worker: nothing else could run the releases' pods)",
                     "false", "add a worker, or let the control planes schedule workloads")]


def spegel_port_outside_node_ports(cluster: Cluster, docs: dict) -> list[Problem]:
    """Spegel's host port is not one kube-proxy/Cilium may hand to a NodePort Service."""
    port = cluster.settings["spegel"]["hostPort"]
    if port not in NODE_PORTS:
        return []
    return [_problem(docs, "spegel", "hostPort", "a port outside the NodePort range 30000-32767", str(port),
                     "use 29999, as Talos home-ops repositories do")]


CHECKS: tuple[Check, ...] = (
    addresses_in_subnet, pool_is_ordered, vip_placement, nodes_in_pool, excludes_in_pool, unique_nodes, controlplane_quorum,
    vlan_consistency, cluster_networks_disjoint, service_subnet_holds_dns, bgp_complete, acme_complete, releases_have_charts,
    namespaces_match_charts, kubernetes_supported, something_schedules, spegel_port_outside_node_ports,
)


def semantic_problems(cluster: Cluster, docs: dict) -> list[Problem]:
    """Every semantic problem of a schema-valid set of settings."""
    return [p for check in CHECKS for p in check(cluster, docs)]
