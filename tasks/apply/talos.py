"""Talos stages: give each node its machine config, and bootstrap etcd exactly once. Fact checks
only read; actions apply only the difference and return an error message or None."""
from __future__ import annotations

import time

from .. import paths, report, tools
from ..facts import Facts
from ..facts.talos import json_stream
from ..settings.model import Node
from ..tools import op
from ..tools.outcomes import reports_no_changes
from .api import api, expect_new_cluster
from .waits import deadline, wait_until


def node_configured(facts: Facts, node: Node) -> tuple[bool, str]:
    """A node is done when its authenticated API answers (it left maintenance mode)."""
    fact = facts.talos_nodes()[node.address]
    if fact.state == "configured":
        return True, f"{node.name} ({node.address}) is configured"
    return False, f"{node.name} ({node.address}) is {fact.state}" + (f": {fact.reason}" if fact.reason else "")


def apply_node(facts: Facts, node: Node) -> str | None:
    """Maintenance node: insecure apply. Configured node: dry-run, then authenticated apply if needed."""
    fact = facts.talos_nodes()[node.address]
    if fact.state in ("unreachable", "unknown"):
        return f"node {node.name} ({node.address}) cannot be reached: {fact.reason}"
    config, error = op.inject_documents(paths.node_config(node.name))
    if config is None:
        return error
    if fact.state == "maintenance":
        proof = _confirms_maintenance(node)
        if proof:
            return proof
        result = tools.talosctl_insecure(["apply-config", "--insecure", "-n", node.address, "-f", "/dev/stdin"],
                                         stdin=config, timeout=120)
        if not result.ok:
            return f"talosctl apply-config --insecure on {node.name}: {result.message()}"
        return wait_until(f"{node.name} to leave maintenance mode", deadline("node", 600),
                          lambda: node_configured(facts, node), facts)
    return _apply_authenticated(facts, node, config)


def _confirms_maintenance(node: Node) -> str | None:
    """The node itself must say it is in maintenance mode before it gets a config over the
    unauthenticated API (an expired client certificate also fails authentication)."""
    result = tools.talosctl_insecure(["get", "machinestatus", "--insecure", "-n", node.address, "-o", "json"],
                                     timeout=60)
    stages = [((item.get("spec") or {}).get("stage")) for item in json_stream(result.stdout)]
    if result.ok and stages == ["maintenance"]:
        return None
    found = f"stage {stages[0]}" if stages else result.message()
    return (f"refusing to send {node.name} ({node.address}) its config with --insecure: the node does not "
            f"confirm maintenance mode ({found}); if it was configured with other credentials, reset it first")


def _apply_authenticated(facts: Facts, node: Node, config: str) -> str | None:
    """Apply a changed config through the authenticated API (never --insecure)."""
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    args = ["apply-config", "-n", node.address, "-f", "/dev/stdin"]
    check = tools.talosctl([*args, "--dry-run"], talosconfig, stdin=config, timeout=120)
    if not check.ok:
        return f"talosctl apply-config --dry-run on {node.name}: {check.message()}"
    if reports_no_changes(check.stdout):
        report.say(f"node-{node.name}: the node already runs this config")
        return None
    result = tools.talosctl(args, talosconfig, stdin=config, timeout=120)
    return None if result.ok else f"talosctl apply-config on {node.name}: {result.message()}"


def etcd_done(facts: Facts) -> tuple[bool, str]:
    """etcd runs: this cluster's API server answers (it cannot without etcd), or, before that,
    talosctl shows etcd running on a control-plane node."""
    kube, _ = api(facts)
    if kube is not None:
        return True, "this cluster's API server answers, so etcd runs"
    return facts.etcd_running()


def etcd_bootstrap(facts: Facts) -> str | None:
    """`talosctl bootstrap` exactly once: never when etcd runs; AlreadyExists counts as done."""
    if etcd_done(facts)[0]:
        return None
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    first = facts.cluster.first_controlplane.address
    end = time.monotonic() + deadline("bootstrap", 600)
    report.waiting(f"etcd bootstrap on {first} to be accepted", end)
    while True:
        result = tools.talosctl(["bootstrap", "-n", first], talosconfig, timeout=60)
        if result.ok:
            expect_new_cluster()        # its identity is learned on first contact
            break
        if result.outcome == "already-exists":
            break
        if result.outcome != "failed-precondition" or time.monotonic() >= end:
            return f"talosctl bootstrap on {first}: {result.message()}"
        time.sleep(2)
    return wait_until(f"etcd on {first} to run", deadline("etcd", 600), facts.etcd_running, facts)
