"""The legacy `talosctl upgrade` path (MachineService.Upgrade), used with --legacy or when a node
runs Talos older than the LifecycleService API (upgrade.go upgradeLegacy, doUpgradeLegacy,
upgradeGetActorID; v1alpha1_server.go (*Server).Upgrade; internal/pkg/etcd ValidateForUpgrade).

With --wait (drain forces it): the action tracker (MachineReadyEventFn, boot ID post check), no
drain. Without: ClientVersionCheck, then a table "NODE\\tACK\\tSTARTED" on stdout with rows
"%s\\t%s\\t%s\\t\\n" (node, "Upgrade request received", time.Now()); "error performing upgrade: %s".
The server refuses a control plane upgrade (unless --force/--preserve) that would leave etcd
without quorum: "error validating etcd for upgrade: etcd member count(%d) is insufficient ...".
"""
from __future__ import annotations

import sys
import time

from tests.world import talos_client as tcl
from tests.world import talos_compat as compat
from tests.world import talos_etcd as etcd
from tests.world import talos_get
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world import talos_tracker
from tests.world.talos_client import CliError, RpcError, rpc

ACK = "Upgrade request received"


def _validate_etcd(state: dict, node: dict, flags) -> None:
    """Upgrade's pre-checks on a control plane: etcd client, then ValidateForUpgrade."""
    if node["machine_type"] == "worker" or flags["force"] or flags["preserve"]:
        return
    if not st.etcd_exists(state, node["cluster_name"]):
        raise rpc("Unknown", "failed to create etcd client: no controlplane endpoints discovered yet")
    members = st.etcd_members(state, node["cluster_name"])
    if len(members) == 2:
        raise rpc("Unknown", "error validating etcd for upgrade: etcd member count(2) is insufficient to maintain "
                             "quorum if upgrade commences")
    for member in members:
        if member.get("unreachable") or st.is_rebooting(member) or member["etcd"] != "Running":
            raise rpc("Unknown", f"error validating etcd for upgrade: etcd member {etcd.member_id(member):016x} is not "
                                 "healthy; all members must be healthy to perform an upgrade: context deadline exceeded")


def upgrade_node(address: str, image: str, version: str, flags) -> str | None:
    """(*Server).Upgrade: checks, install + reboot; the sequence error (UNVERIFIED text) if the installer refuses."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        _validate_etcd(state, node, flags)
        problem = compat.upgradeable_from(version, node["talos_version"])
        if problem:
            return f"pre-flight checks failed: {problem}"
        node.update(upgrade_to=version, installer_image=image)
        st.begin_reboot(node)
        return None


def go_time_now() -> str:
    """Go's time.Now().String(): "2006-01-02 15:04:05.999999999 -0700 MST m=+0.000000001"."""
    now = time.time()
    fraction = f"{int(now % 1 * 1e9):09d}".rstrip("0")
    return (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + (f".{fraction}" if fraction else "")
            + f" +0000 UTC m=+{time.process_time():.9f}")


def run(flags, version: str) -> None:
    """upgradeLegacy: the tracker with --wait, else doUpgradeLegacy."""
    if flags["reboot-mode"] == "force":
        raise CliError("invalid reboot mode: force")
    sequence, outcome = ("stageUpgrade" if flags["stage"] else "upgrade"), {}

    def action(address: str) -> None:
        outcome[address] = upgrade_node(address, flags["image"], version, flags)

    def events(node: dict) -> tuple[list[str], str | None]:
        problem = outcome[node["address"]]
        lines = [f"sequence: {sequence} action: START"]
        return lines + ([f"sequence: {sequence} action: STOP error: [code: {problem} message: FATAL]"]
                        if problem else []), problem

    if flags["wait"] or flags["debug"] or flags["drain"]:
        talos_tracker.Tracker(flags, action, events, talos_tracker.ready, talos_tracker.rebooted).run()
        return
    session = ts.connect(flags)
    talos_get.client_version_check(talos_get.node_versions(session))
    try:
        results, errors = ts.one2many(session, lambda state, node, target: upgrade_node(
            node["address"], flags["image"], version, flags))
    except RpcError as exc:
        raise CliError(f"error performing upgrade: {exc}") from None
    if errors and not results:
        raise CliError(f"error performing upgrade: {tcl.multierror(errors)}")
    if errors:
        tcl.warn(tcl.multierror(errors))
    sys.stdout.write(tcl.tabwrite([["NODE", "ACK", "STARTED"]]
                                  + [[target, ACK, go_time_now(), ""] for target, _ in results]))
