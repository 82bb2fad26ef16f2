"""`doit remove-node --name <node>`: the explicit way out for a node that left the inventory (a run
only reports it). Cordon and drain its Kubernetes Node, take its etcd member out (`etcd leave` on
the node, or `etcd remove-member` through another control plane when it does not answer; refused
when the remaining members would not keep a quorum), wipe it (`talosctl reset`, back to maintenance
mode) and delete the Node. Each step says what failed; a rerun picks up where it stopped."""
from __future__ import annotations

from .. import report, tools
from ..facts import Facts
from ..facts.etcd import Member
from .api import api
from .waits import deadline


def _target(facts: Facts, name: str) -> tuple[str, dict | None, Member | None]:
    """(address, Kubernetes Node, etcd member) of the node named, by Node name, hostname or address."""
    kube, _ = api(facts)
    node = kube.get("Node", name) if kube is not None else None
    addresses = [a.get("address") for a in ((node or {}).get("status") or {}).get("addresses") or []
                 if a.get("type") == "InternalIP"]
    member = next((m for m in facts.etcd_health().members
                   if m.hostname == name or m.address == name or m.address in addresses), None)
    address = addresses[0] if addresses else (member.address if member else name)
    return address, node, member


def quorum_refusal(facts: Facts, member: Member) -> str | None:
    """Why removing a member would cost quorum: the remaining members' quorum needs healthy ones."""
    health = facts.etcd_health()
    remaining = [m for m in health.members if m.member_id != member.member_id]
    healthy = [m for m in remaining if m.address in health.healthy]
    needed = len(remaining) // 2 + 1
    if not remaining:
        return f"{member.hostname} is the last etcd member: removing it would end the cluster"
    if len(healthy) < needed:
        return (f"removing etcd member {member.hostname} leaves {len(remaining)} member(s) of which "
                f"{len(healthy)} healthy, below quorum ({needed}); bring the others back first")
    return None


def remove_node(facts: Facts, name: str) -> str | None:
    """Every step for a node that is no longer in the inventory; refusals before any change."""
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    address, node, member = _target(facts, name)
    if any(name in (n.name, n.address) or address == n.address for n in facts.cluster.nodes):
        return (f"{name} ({address}) is still in the inventory (bootstrap/values/talos.yaml nodes): "
                "remove it there first")
    if node is None and member is None:
        return f"neither a Kubernetes Node nor an etcd member is named {name}"
    refusal = member and quorum_refusal(facts, member)
    if refusal:
        return f"not removing {name}: {refusal}"
    steps = [*(_kube_steps(name, "cordon", "drain") if node else []), *(_etcd_steps(facts, member, address)),
             ("talosctl reset", lambda: tools.talosctl(["reset", "-n", address, "--graceful=false", "--reboot",
                                                        "--wait=false"], talosconfig, timeout=120)),
             *(_kube_steps(name, "delete") if node else [])]
    for what, step in steps:
        report.say(f"remove-node {name}: {what}")
        result = step()
        if not result.ok and not (what == "talosctl reset" and result.outcome == "unreachable"):
            return f"remove-node {name}: {what} failed: {result.message()}"
    return None


def _kube_steps(name: str, *verbs: str) -> list:
    """kubectl cordon / drain / delete of the Node."""
    args = {"cordon": ["cordon", name],
            "drain": ["drain", name, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                      f"--timeout={deadline('drain', 300):.0f}s"],
            "delete": ["delete", "node", name, "--ignore-not-found"]}
    return [(f"kubectl {verb}", lambda verb=verb: tools.kubectl(args[verb], timeout=deadline("drain", 300) + 30))
            for verb in verbs]


def _etcd_steps(facts: Facts, member: Member | None, address: str) -> list:
    """The member leaves (`etcd leave` on the node itself); if the node does not answer, a healthy
    control plane removes it by ID (`etcd remove-member`, cmd/talosctl/cmd/talos/etcd.go)."""
    if member is None:
        return []
    talosconfig, _ = facts.talosconfig()

    def leave() -> tools.Result:
        left = tools.talosctl(["etcd", "leave", "-n", address], talosconfig, timeout=120)
        others = [m.address for m in facts.etcd_health().members if m.address in facts.etcd_health().healthy
                  and m.address != address]
        if left.ok or left.outcome != "unreachable" or not others:
            return left
        return tools.talosctl(["etcd", "remove-member", "-n", others[0], member.member_id], talosconfig, timeout=120)
    return [("talosctl etcd leave", leave)]
