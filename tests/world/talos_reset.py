"""`talosctl reset` (cmd/talosctl/cmd/talos/reset.go) and the node's Reset
(v1alpha1_server.go (*Server).Reset, v1alpha1_sequencer.go Reset phases).

--wait (default) runs the action tracker until the "stopAllServices" task event (with --reboot,
the post check passes once the node answers the maintenance API). --wait=false: silent, errors
"error executing reset: %s". --wait with --insecure: "cannot use --wait and --insecure together".
Graceful resets of a control plane leave etcd ("leave" phase, LeaveEtcd); a non-graceful reset
wipes the machine but leaves its etcd member behind (stale until `etcd remove-member`).
"""
from __future__ import annotations

from tests.world import talos_client as tcl
from tests.world import talos_config as tc
from tests.world import talos_etcd as etcd
from tests.world import talos_get
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world import talos_tracker
from tests.world.talos_client import CliError, RpcError, rpc

SYSTEM_LABELS = ("STATE", "EPHEMERAL", "META")


def _check_request(node: dict, flags) -> None:
    """Reset's input checks (plain errors: code Unknown)."""
    mode = flags["wipe-mode"]
    if mode == "system-disk" and flags["user-disks-to-wipe"]:
        raise rpc("Unknown", "reset failed: invalid input, wipe mode SYSTEM_DISK doesn't support UserDisksToWipe parameter")
    system = (tc.parse(node["config"].encode()).machine.get("install") or {}).get("disk") if node["config"] else None
    for device in flags["user-disks-to-wipe"]:
        if device not in [d["dev_path"] for d in node.get("disks") or []]:
            raise rpc("Unknown", f"reset user disk failed: device {device} wasn't found")
        if device == system:
            raise rpc("Unknown", f"reset user disk failed: device {device} is the system disk")
    if mode == "user-disks" and flags["system-labels-to-wipe"]:
        raise rpc("Unknown", "reset failed: invalid input, wipe mode USER_DISKS doesn't support SystemPartitionsToWipe parameter")
    for label in flags["system-labels-to-wipe"]:
        if label not in SYSTEM_LABELS:
            raise rpc("Unknown", f'failed to get volume status with label "{label}": resource '
                                 f"VolumeStatuses.block.talos.dev(runtime/{label}@undefined) doesn't exist")


def _leave_error(state: dict, node: dict) -> str | None:
    """LeaveEtcd during a graceful reset: the quorum check of the member removal."""
    try:
        etcd._remove(state, node, "failed to leave cluster: ")
    except RpcError as exc:
        return exc.desc
    return None


def reset_node(address: str, flags) -> str | None:
    """Run the reset on one node; returns the sequence error (the node keeps running) or None."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        _check_request(node, flags)
        graceful, member = flags["graceful"], node["etcd_member"]
        if graceful and member and node["machine_type"] != "worker":
            problem = _leave_error(state, node)
            if problem:
                return problem
        stale = {"cluster": node["cluster_name"], "hostname": node["hostname"]} if member and not graceful else None
        fresh = st.reset_node(node)
        fresh["stale_member"] = stale or node.get("stale_member")
        if flags["reboot"]:
            st.begin_reboot(fresh)
        else:
            fresh["unreachable"] = True  # powered off
        state[address] = fresh
    return None


def _phases(node: dict, flags) -> list[tuple[str, str]]:
    """(phase, task) of the Reset sequence up to stopAllServices."""
    graceful = flags["graceful"]
    phases = [("drain", "cordonAndDrainNode")] if graceful else []
    phases += [("cleanup", "removeAllPods" if graceful else "stopAllPods"), ("dbus", "stopDBus")]
    phases += [("leave", "leaveEtcd")] if graceful and node["machine_type"] != "worker" else []
    return phases + [("preReset", "sendResetSignal"), ("stopServices", "stopServicesForUpgrade"),
                     ("umount", "unmountPodMounts"), ("unmountBind", "unmountSystemDiskBindMounts"),
                     ("unmountSystem", "unmountEphemeralPartition"), ("volumeFinalize", "teardownLifecycle")]


def _tracked(flags) -> None:
    """reset with --wait: the tracker, expecting the stopAllServices task."""
    outcome = {}

    def action(address: str) -> None:
        outcome[address] = reset_node(address, flags)

    def events(node: dict) -> tuple[list[str], str | None]:
        lines = ["sequence: reset action: START"]
        for phase, task in _phases(node, flags):
            lines += [f"phase: {phase} action: START", f"task: {task} action: START"]
            if task == "leaveEtcd" and outcome[node["address"]]:
                lines.append(f"sequence: reset action: STOP error: [code: {outcome[node['address']]} message: FATAL]")
                return lines, outcome[node["address"]]
            lines += [f"task: {task} action: STOP", f"phase: {phase} action: STOP"]
        return lines + ["phase: stopEverything action: START"], None

    def in_maintenance(node: dict, _boot_id: str) -> bool:
        return node is not None and node["stage"] == "maintenance" and not st.is_rebooting(node)

    talos_tracker.Tracker(flags, action, events, None, in_maintenance if flags["reboot"] else None).run()


def cmd_reset(flags) -> None:
    """reset [--graceful] [--reboot] [--wait] [--insecure] [--wipe-mode M]."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl reset"')  # cobra.NoArgs (args.go)
    wait = flags["wait"] or flags["debug"]
    if wait and flags["insecure"]:
        raise CliError("cannot use --wait and --insecure together")
    if wait:
        _tracked(flags)
        return
    if flags["insecure"]:
        if not flags["nodes"]:
            raise CliError("failed to determine endpoints")  # client.go New(), unwrapped by WithClientMaintenance
        try:
            node = tcl.maintenance(tcl.snapshot(tcl.world_dir()), flags["nodes"][0])
        except RpcError as exc:
            raise CliError(str(exc)) from None
        talos_get.client_version_check([("", node["talos_version"])])
        raise CliError(f"error executing reset: {RpcError(*tcl.NOT_AUTHORIZED)}")  # Reset is Admin-only
    session = ts.connect(flags)
    talos_get.client_version_check(talos_get.node_versions(session))
    ts.executing("reset", session, lambda address: reset_node(address, flags))
