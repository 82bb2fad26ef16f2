"""The inventory against the cluster, for `doit plan` and a run's start: what each node runs next to
what the settings want, and the Kubernetes Nodes and etcd members that are not in the inventory
(reported, never removed: removal is `doit remove-node`)."""
from __future__ import annotations

from ..facts import Facts
from . import k8s_upgrade, roll


def version_lines(facts: Facts) -> list[str]:
    """One line per node: its Talos, kubelet and control-plane versions, and what the settings want."""
    talos, _ = roll.wanted(facts.cluster)
    k8s = k8s_upgrade.wanted(facts)
    nodes, versions = facts.talos_nodes(), roll.versions(facts)
    width = max(len(n.name) for n in facts.cluster.nodes)
    lines = [f"versions (settings want Talos {talos}, Kubernetes {k8s}):"]
    for node in facts.cluster.nodes:
        found = versions[node.address]
        if nodes[node.address].state != "configured":
            lines.append(f"  {node.name:<{width}}  {found.reason or nodes[node.address].state}")
            continue
        parts = [_versus("Talos", found.talos or "unknown", talos), _versus("kubelet", found.kubelet or "unknown", k8s)]
        parts += [_versus(component, version, k8s) for component, version in found.control_plane]
        lines.append(f"  {node.name:<{width}}  " + ", ".join(parts))
    return lines


def _versus(what: str, running: str, want: str) -> str:
    """'Talos v1.13.9' when it matches, 'Talos v1.13.8 -> v1.13.9' when not."""
    return f"{what} {running}" if running == want else f"{what} {running} -> {want}"


def strange_nodes(facts: Facts) -> list[str]:
    """Kubernetes Nodes whose InternalIP is no inventory address."""
    kube = facts.kube()
    if not kube.reachable:
        return []
    known = {n.address for n in facts.cluster.nodes}
    out = []
    for name in sorted(kube.names("Node")):
        obj = kube.get("Node", name) or {}
        ips = [a.get("address") for a in (obj.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"]
        if not known.intersection(ips):
            out.append(f"Kubernetes Node {name} ({', '.join(ips) or 'no InternalIP'}) is not in the inventory")
    return out


def strange_members(facts: Facts) -> list[str]:
    """etcd members whose peer address is no inventory control plane (one etcd call)."""
    known = {n.address for n in facts.cluster.controlplanes}
    return [f"etcd member {m.hostname} ({m.address}, id {m.member_id}) is not an inventory control plane"
            for m in facts.etcd_members().members if m.address not in known]


def leaving_lines(facts: Facts, with_etcd: bool) -> list[str]:
    """What is in the cluster but not in the inventory, with the way out."""
    found = strange_nodes(facts) + (strange_members(facts) if with_etcd else [])
    if not found:
        return []
    return found + ["  (never removed by a run: `doit remove-node --name <node>` cordons, drains, leaves etcd, "
                    "resets and deletes it)"]

