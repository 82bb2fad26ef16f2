"""Talos stages: give each node its machine config, and bootstrap etcd exactly once. Fact checks
only read; actions apply only the difference and return an error message or None."""
from __future__ import annotations

import json
import time

from .. import paths, report, tools
from ..facts import Facts
from ..facts.talos import config_digest, json_stream
from ..files import read_json, write_if_changed
from ..settings.model import Node
from ..tools import op
from ..tools.gateway import calls_until
from ..tools.outcomes import reports_no_changes, reports_reboot
from . import roll
from .api import api, expect_new_cluster
from .waits import deadline, wait_until


APPLIED = paths.STATE / "talos-applied.json"     # node -> digest of the config this tool last gave it


def applied_config(node: Node) -> str | None:
    """The digest of the config this tool last applied to (or found running on) a node."""
    found = read_json(APPLIED)
    return found.get(node.name) if isinstance(found, dict) else None


def remember_applied(node: Node, digest: str) -> None:
    """Record what the node runs now (digests only: the config holds secrets)."""
    found = read_json(APPLIED)
    found = found if isinstance(found, dict) else {}
    write_if_changed(APPLIED, json.dumps({**found, node.name: digest}, indent=1, sort_keys=True) + "\n")


def node_configured(facts: Facts, node: Node) -> tuple[bool, str]:
    """A node is done when its authenticated API answers (it left maintenance mode) with the config
    this tool gave it: another config there (applied by hand, or a run that lost the race with an
    edit) is not done."""
    fact = facts.talos_nodes()[node.address]
    where = f"{node.name} ({node.address})"
    if fact.state != "configured":
        return False, f"{where} is {fact.state}" + (f": {fact.reason}" if fact.reason else "")
    applied = applied_config(node)
    if applied is not None and fact.config_digest != applied:
        return False, f"{where} runs another machine config than the one this tool applied"
    return True, f"{where} is configured"


def apply_node(facts: Facts, node: Node) -> str | None:
    """Maintenance node: insecure apply. Configured node: dry-run, then authenticated apply if needed."""
    fact = facts.talos_nodes()[node.address]
    if fact.state == "unknown":         # the client config could not be had (op): not the node's doing
        return fact.reason
    if fact.state == "unreachable":
        return (f"node {node.name} ({node.address}) does not answer on the Talos API: {fact.reason}\n    fix: check "
                f"that it is powered on and reachable from here, and its address in talos.yaml")
    config, error = op.inject_documents(paths.node_config(node.name))
    if config is None:
        return error
    if fact.state == "maintenance":
        proof = _confirms_maintenance(node)
        if proof:
            return proof
        facts.leaving_maintenance(node.address)
        result = tools.talosctl_insecure(["apply-config", "--insecure", "-n", node.address, "-f", "/dev/stdin"],
                                         stdin=config, timeout=120)
        if not result.ok:
            return f"talosctl apply-config --insecure on {node.name}: {result.message()}"
        remember_applied(node, config_digest(config))
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
            f"confirm maintenance mode ({found}), so it refused this tool's client certificate (wrong credentials)"
            f"\n    fix: put the credentials it was configured with back into the 1Password item of talos.yaml, "
            f"or reset it to maintenance mode")


def _dry_run(talosconfig: str, node: Node, config: str) -> tools.Result:
    """`talosctl apply-config --dry-run`: what applying the config would do (changes nothing)."""
    return tools.talosctl(["apply-config", "-n", node.address, "-f", "/dev/stdin", "--dry-run"], talosconfig,
                          stdin=config, timeout=120)


def apply_preview(facts: Facts, node: Node) -> str:
    """For `doit plan`: what applying the rendered config to a configured node would do, from its
    dry run (reboot, in place, or nothing)."""
    talosconfig, error = facts.talosconfig()
    config, why = op.inject_documents(paths.node_config(node.name)) if talosconfig else (None, error)
    if config is None:
        return f"cannot ask: {why}"
    check = _dry_run(talosconfig, node, config)
    if not check.ok:
        return f"talosctl apply-config --dry-run failed: {check.message()}"
    if reports_no_changes(check.stderr):
        return "the node already runs this config"
    if reports_reboot(check.stderr):
        return "needs a reboot: rolled one node at a time, each only while etcd keeps quorum"
    return "applies without a reboot"


def _apply_authenticated(facts: Facts, node: Node, config: str) -> str | None:
    """Apply a changed config through the authenticated API (never --insecure)."""
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    args = ["apply-config", "-n", node.address, "-f", "/dev/stdin"]
    check = _dry_run(talosconfig, node, config)
    if not check.ok:
        return f"talosctl apply-config --dry-run on {node.name}: {check.message()}"
    if reports_no_changes(check.stderr):       # talosctl prints the dry-run summary on stderr (helpers/mode.go)
        report.say(f"node-{node.name}: the node already runs this config")
        remember_applied(node, facts.talos_nodes()[node.address].config_digest)
        return None
    reboots = reports_reboot(check.stderr)
    error = reboots and roll.gate(facts, node)
    if error:
        return f"not applying the config of {node.name} ({node.address}), which needs a reboot: {error}"
    result = tools.talosctl(args, talosconfig, stdin=config, timeout=120)
    if not result.ok:
        return f"talosctl apply-config on {node.name}: {result.message()}"
    remember_applied(node, config_digest(config))
    # A change Talos cannot apply in place reboots the node ("Applied configuration with a reboot",
    # v1alpha1_server.go ApplyConfiguration): wait until it answers again with this config, and, like
    # an upgrade, until its Node is Ready and etcd is healthy before the next node.
    return wait_until(f"{node.name} to run its new config", deadline("node", 600),
                      lambda: node_configured(facts, node), facts, interval=2.0) or (
        reboots and roll.await_healthy(facts, node)) or None


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
        with calls_until(end):
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
