"""The rolling Talos upgrade: every configured node that runs another Talos version than
talos.yaml's talosVersion gets `talosctl upgrade --image <installerImage>:<talosVersion>`, control
planes first, then workers, one node at a time. Before a control plane goes down every etcd member
must be started and healthy and losing one must keep a quorum (the rules Talos itself applies,
internal/pkg/etcd/etcd.go ValidateForUpgrade: two members are refused). After each node the roll
waits, with a deadline, until the node answers with the new version, its Kubernetes Node is Ready
and etcd is healthy again. Resumable: the facts say which nodes are still behind; an upgrade issued
and not yet seen through is remembered (build/state/talos-upgrades.json), so a rerun waits for a
node that is rebooting instead of upgrading it a second time."""
from __future__ import annotations

import json
import time

from .. import paths, report, tools
from ..facts import Facts
from ..facts.kube import condition
from ..facts.versions import ask_talos, node_object
from ..files import write_if_changed
from ..settings.model import Cluster, Node
from .api import api
from .waits import deadline, wait_until

ISSUED = paths.STATE / "talos-upgrades.json"    # node name -> {"to": version, "at": epoch seconds}
LEGACY_BELOW = (1, 13, 0)    # older nodes take the legacy API, where --preserve keeps a lone etcd's data


def wanted(cluster: Cluster) -> tuple[str, str]:
    """(the Talos version the settings want, its installer image)."""
    talos = cluster.settings["talos"]
    return talos["talosVersion"], f"{talos['installerImage']}:{talos['talosVersion']}"


def roll_order(cluster: Cluster) -> list[Node]:
    """Control planes first (inventory order), then workers."""
    return [*cluster.controlplanes, *cluster.workers]


def versions(facts: Facts) -> dict:
    """The nodes' versions, reading Kubernetes Nodes only from this cluster's API server."""
    return facts.versions(trusted_api=api(facts)[0] is not None)


def behind(facts: Facts) -> list[tuple[Node, str]]:
    """Configured nodes not running the wanted Talos version, with the version they run."""
    version, _ = wanted(facts.cluster)
    nodes, found = facts.talos_nodes(), versions(facts)
    return [(n, found[n.address].talos) for n in roll_order(facts.cluster)
            if nodes[n.address].state == "configured" and found[n.address].talos != version]


def talos_upgraded(facts: Facts) -> tuple[bool, str]:
    """Done when every configured node runs talosVersion (nodes not configured yet install it)."""
    version, _ = wanted(facts.cluster)
    late = behind(facts)
    if not late:
        return True, f"every configured node runs Talos {version}"
    return False, f"upgrade to Talos {version}: " + ", ".join(
        f"{n.name} runs {v or 'an unknown version'}" for n, v in late)


def issued() -> dict:
    """Upgrades issued and not yet seen through."""
    try:
        found = json.loads(ISSUED.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def remember_issued(node: Node, version: str | None) -> None:
    """Record (or, with None, forget) an upgrade issued to a node."""
    found = {k: v for k, v in issued().items() if k != node.name}
    if version:
        found[node.name] = {"to": version, "at": time.time()}
    write_if_changed(ISSUED, json.dumps(found, indent=1, sort_keys=True) + "\n")


def roll_talos(facts: Facts) -> str | None:
    """Upgrade the nodes that are behind, one at a time; the first failure stops the roll."""
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    for node, running in behind(facts):
        error = upgrade_node(facts, node, running, talosconfig)
        facts.invalidate()
        if error:
            return error
    return None


def upgrade_node(facts: Facts, node: Node, running: str, talosconfig: str) -> str | None:
    """One node: gate, upgrade, wait until it is back. A node already told to upgrade is awaited."""
    version, image = wanted(facts.cluster)
    where = f"{node.name} ({node.address})"
    if issued().get(node.name, {}).get("to") == version:
        answered = ask_talos(talosconfig, [node.address]).get(node.address)
        if answered != running:         # rebooting, or back with the new version: never twice
            report.say(f"talos-upgrade: {where} was told to upgrade to {version} by an earlier run; waiting for it")
            return await_node(facts, node, version, talosconfig)
        report.say(f"talos-upgrade: {where} was told to upgrade by an earlier run and still runs {running}; again")
    error = gate(facts, node)
    if error:
        return f"not upgrading {where}: {error}"
    preserve = preserve_flags(node.is_controlplane and len(facts.etcd_health().members) == 1, running)
    report.say(f"talos-upgrade: {where} {running or 'unknown'} -> {version}")
    seconds = deadline("upgrade", 900)
    remember_issued(node, version)
    result = tools.talosctl(["upgrade", "-n", node.address, "--image", image, "--timeout", f"{seconds:.0f}s",
                             *preserve], talosconfig, timeout=seconds + 60)
    if not result.ok and "upgrade completed" not in result.stderr:    # the installer refused: nothing to await
        remember_issued(node, None)
        return f"talosctl upgrade on {where}: {result.message()}"
    if not result.ok:       # installed, then the reboot was not seen through in time
        ok, why = node_back(facts, node, version, talosconfig)
        if ok:
            remember_issued(node, None)
            return None
        return (f"gave up after {seconds:.0f}s waiting for {_awaited(node, version)}: {why} "
                f"(talosctl: {result.message().splitlines()[-1]})")
    return await_node(facts, node, version, talosconfig)


def _awaited(node: Node, version: str) -> str:
    """What the roll waits for after a node's upgrade."""
    return f"{node.name} ({node.address}) to answer with Talos {version}, its Kubernetes Node Ready" + (
        " and every etcd member healthy" if node.is_controlplane else "")


def gate(facts: Facts, node: Node) -> str | None:
    """Before a control plane goes down: quorum kept without it, then every member healthy (waited
    for, with a deadline). Workers pass at once."""
    if not node.is_controlplane:
        return None
    return quorum_refusal(facts) or wait_until(f"etcd to allow taking {node.name} ({node.address}) down",
                                               deadline("etcd", 300), lambda: etcd_allows(facts), facts,
                                               interval=2.0)


def await_healthy(facts: Facts, node: Node) -> str | None:
    """After a reboot: the node's Kubernetes Node Ready and, for a control plane, etcd healthy."""
    def healthy() -> tuple[bool, str]:
        ok, why = node_ready(facts, node)
        return etcd_allows(facts) if ok and node.is_controlplane else (ok, why)
    return wait_until(f"{node.name} ({node.address}) to be Ready with etcd healthy after its reboot",
                      deadline("upgrade", 900), healthy, facts, interval=2.0)


def preserve_flags(lone_member: bool, running: str) -> list[str]:
    """--preserve for the lone etcd member on a node older than v1.13: only talosctl's legacy upgrade
    API carries it; against v1.13 it is deprecated and ignored (cmd/talosctl/cmd/talos/upgrade.go)."""
    try:
        legacy = tuple(int(p) for p in running.lstrip("v").split("-")[0].split(".")) < LEGACY_BELOW
    except ValueError:
        legacy = False
    return ["--preserve"] if lone_member and legacy else []


def await_node(facts: Facts, node: Node, version: str, talosconfig: str) -> str | None:
    """Wait until the node answers with the version, its Node is Ready and etcd is healthy."""
    error = wait_until(_awaited(node, version), deadline("upgrade", 900), lambda: node_back(facts, node, version, talosconfig),
                       facts, interval=2.0)
    if error is None:
        remember_issued(node, None)
    return error


def node_back(facts: Facts, node: Node, version: str, talosconfig: str) -> tuple[bool, str]:
    """The node's own Talos API answers with the version; its Node is Ready; etcd is healthy."""
    answered = ask_talos(talosconfig, [node.address]).get(node.address)
    if answered != version:
        return False, f"its Talos API answers {answered}" if answered else "its Talos API does not answer"
    ok, why = node_ready(facts, node)
    if not ok or not node.is_controlplane:
        return ok, why
    return etcd_allows(facts)


def node_ready(facts: Facts, node: Node) -> tuple[bool, str]:
    """The node's Kubernetes Node has Ready=True."""
    kube, why = api(facts)
    if kube is None:
        return False, why
    obj = node_object(kube, node.address)
    if obj is None:
        return False, f"no Kubernetes Node has InternalIP {node.address}"
    ready = condition(obj, "Ready") or {}
    return ready.get("status") == "True", f"its Node is Ready={ready.get('status', 'unknown')}"


def quorum_refusal(facts: Facts) -> str | None:
    """Why taking any etcd member down would cost quorum (ValidateForUpgrade refuses two members:
    one left of two is below quorum; a single member may go down alone)."""
    count = len(facts.etcd_health().members)
    if count == 2:
        return ("etcd has 2 members: taking one down leaves 1 of 2, below quorum (2); "
                "add a third control plane first")
    return None


def etcd_allows(facts: Facts) -> tuple[bool, str]:
    """Every member started and healthy (ValidateForUpgrade: "all members must be healthy")."""
    health = facts.etcd_health()
    if health.reason:
        return False, health.reason
    sick = health.unhealthy()
    if sick:
        return False, "etcd members not healthy: " + ", ".join(f"{m.hostname} ({m.address})" for m in sick)
    return True, f"all {len(health.members)} etcd members healthy"
