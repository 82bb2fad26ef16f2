"""`talosctl bootstrap` and `talosctl etcd members|status|leave|remove-member|forfeit-leadership`.

Client: cmd/talosctl/cmd/talos/bootstrap.go, etcd.go. Server: v1alpha1_server.go Bootstrap,
EtcdMemberList, EtcdStatus, EtcdLeaveCluster, EtcdRemoveMemberByID, EtcdForfeitLeadership;
internal/pkg/etcd/etcd.go (LeaveCluster, RemoveMemberByMemberID, ForfeitLeadership, GetEndpoints)
and local_member.go GetLocalMemberID; machinehelper.CheckControlplane. Every call goes through
FilterMessages: a node's failure is "<node>: <status>" in a multierror (plain errors: Unknown).
"""
from __future__ import annotations

import hashlib
import sys
import time

from tests.world import talos_client as tcl
from tests.world import talos_kube as tk
from tests.world import talos_resources as res
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world.talos_client import CliError, RpcError, rpc

ETCD_VERSION = "3.6.12"  # constants.DefaultEtcdVersion v3.6.12: the server's Version; storage "3.6.0"
# An etcd client against a local etcd that does not run (UNVERIFIED: grpc-go's dial error shape).
ETCD_DOWN = ('connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:2379: '
             'connect: connection refused"')


def member_id(node: dict) -> int:
    """A stable 64-bit etcd member ID for a node (its stale member keeps the ID it had)."""
    cluster = (node.get("stale_member") or {}).get("cluster") or node["cluster_name"]
    return int(hashlib.sha256(f"{cluster}/{node['address']}".encode()).hexdigest()[:16], 16)


def member_name(node: dict) -> str:
    """The member's name: the node's hostname when it joined."""
    return (node.get("stale_member") or {}).get("hostname") or node["hostname"]


def _check_controlplane(node: dict, api: str) -> None:
    """machinehelper.CheckControlplane: "%s is only available on control plane nodes"."""
    if node["machine_type"] not in ("controlplane", "init"):
        raise rpc("Unimplemented", f"{api} is only available on control plane nodes")


def _endpoints(state: dict, node: dict) -> None:
    """etcd.NewClientFromControlPlaneIPs: needs the control plane endpoints (k8s Endpoint resources)."""
    if not st.etcd_exists(state, node["cluster_name"]):
        raise rpc("Unknown", "failed to create etcd client: no controlplane endpoints discovered yet")


def _running_members(state: dict, cluster: str) -> list[dict]:
    """Members whose etcd answers."""
    return [n for n in st.etcd_members(state, cluster)
            if not n.get("unreachable") and not st.is_rebooting(n) and n["etcd"] == "Running"]


def bootstrap_node(address: str) -> None:
    """(*Server).Bootstrap: bootstrap allowed (CRI up), control plane, empty etcd data directory."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        if not st.is_ready(node):
            raise rpc("FailedPrecondition", "bootstrap is not available yet")
        _check_controlplane(node, "bootstrap")
        if node["etcd_member"]:
            raise rpc("AlreadyExists", "etcd data directory is not empty")
        node.update(stage="bootstrapped", etcd_member=True, etcd_left=False, bootstrapped_at=time.time())


def cmd_bootstrap(flags) -> None:
    """bootstrap: silent on success; "error executing bootstrap: %w"."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl bootstrap"')  # cobra.NoArgs (args.go)
    session = ts.connect(flags)
    if len(session.nodes) > 1:
        raise CliError('command "bootstrap" is not supported with multiple nodes')
    if flags["recover-from"]:
        raise CliError("the simulated talosctl does not support --recover-from")
    ts.executing("bootstrap", session, bootstrap_node)
    state = tcl.snapshot(tcl.world_dir())
    for member in st.cluster_nodes(state, state[tcl.host_of(session.nodes[0])]["cluster_name"]):
        tk.kubelet_joins(tcl.world_dir(), member["address"])


def _members(state: dict, node: dict) -> list[list[str]]:
    """EtcdMemberList{QueryLocal: true}: the local etcd's member list (sorted by ID)."""
    _check_controlplane(node, "member list")
    if node["etcd"] != "Running":
        raise rpc("Unavailable", ETCD_DOWN)
    members = sorted(st.etcd_members(state, node["cluster_name"]), key=member_id)
    return [[f"{member_id(m):016x}", member_name(m), f"https://{m['address']}:2380", f"https://{m['address']}:2379",
             "false"] for m in members]


def _status(state: dict, node: dict) -> list[str]:
    """EtcdStatus: the local member's status row (etcd.go etcdStatusCmd pattern)."""
    _check_controlplane(node, "etcd status")
    if node["etcd"] != "Running":
        raise rpc("Unknown", f"failed to query etcd status: rpc error: code = Unavailable desc = {ETCD_DOWN}")
    leader = next((m for m in st.etcd_members(state, node["cluster_name"]) if m.get("etcd_leader")), node)
    size, used = 20 * 1024 * 1024, 9 * 1024 * 1024
    return [f"{member_id(node):016x}", res.humanize_bytes(size), f"{res.humanize_bytes(used)} ({used / size * 100:.2f}%)",
            f"{member_id(leader):016x}", "1234", "2", "1234", "false", ETCD_VERSION, "3.6.0", ""]


def _print_table(header: str, results: list, errors: list[str], prefix: str) -> None:
    """Partial failure: WARNING (stderr) then the table; all failed: "<prefix>: %w"."""
    if errors and not results:
        raise CliError(f"{prefix}: {tcl.multierror(errors)}")
    if errors:
        tcl.warn(tcl.multierror(errors))
    rows = [[node] + row for node, rows in results for row in rows]
    sys.stdout.write(tcl.tabwrite(([header.split("\t")] if rows else []) + rows))


def _leave(address: str) -> None:
    """EtcdLeaveCluster: remove the local member (quorum permitting), stop etcd, wipe its data."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        _check_controlplane(node, "etcd leave")
        _endpoints(state, node)
        if not node["etcd_member"]:
            # GetLocalMemberID waits 3 minutes for the EtcdMember resource (the world does not wait).
            raise rpc("Unknown", "failed to leave cluster: failed to get local etcd member ID: context deadline exceeded")
        _remove(state, node, "failed to leave cluster: ")
        node.update(etcd_member=False, etcd_leader=False, etcd_left=True)


def _remove(state: dict, node: dict, wrap: str) -> None:
    """etcd MemberRemove with strict reconfiguration: the remaining members must keep a quorum."""
    remaining = [m for m in st.etcd_members(state, node["cluster_name"]) if m is not node]
    running = [m for m in _running_members(state, node["cluster_name"]) if m is not node]
    if remaining and len(running) < len(remaining) // 2 + 1:
        raise rpc("Unknown", f"{wrap}failed to remove member {member_id(node)}: "
                             "etcdserver: re-configuration failed due to not enough started members")


def _remove_member(address: str, wanted: int) -> None:
    """EtcdRemoveMemberByID: NotFound for an unknown ID, "failed to remove member: %w" otherwise."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        _check_controlplane(node, "etcd remove member")
        _endpoints(state, node)
        target = next((m for m in st.etcd_members(state, node["cluster_name"]) if member_id(m) == wanted), None)
        if target is None:
            raise rpc("NotFound", f"failed to remove member {wanted}: etcdserver: member not found")
        _remove(state, target, "failed to remove member: ")
        if target.get("stale_member"):
            target["stale_member"] = None
        else:
            target.update(etcd_member=False, etcd_leader=False, etcd_left=True)


def _forfeit(address: str) -> None:
    """EtcdForfeitLeadership: move leadership to another member when this one leads."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        _check_controlplane(node, "etcd forfeit leadership")
        _endpoints(state, node)
        if not node["etcd_member"]:
            raise rpc("Unknown", "failed to get local etcd member ID: context deadline exceeded")
        members = sorted(st.etcd_members(state, node["cluster_name"]), key=member_id)
        if len(members) == 1:
            raise rpc("Unknown", "failed to forfeit leadership: cannot forfeit leadership, only one member")
        if node.get("etcd_leader"):
            node["etcd_leader"] = False
            next(m for m in members if m is not node)["etcd_leader"] = True


def _parse_id(text: str) -> int:
    """etcdresource.ParseMemberID: strconv.ParseUint(id, 16, 64)."""
    try:
        value = int(text, 16)
    except ValueError:
        raise CliError(f'error parsing member ID: error parsing etcd member id: strconv.ParseUint: '
                       f'parsing "{text}": invalid syntax') from None
    if value >= 2 ** 64 or text.startswith(("-", "+", "0x")):
        raise CliError(f'error parsing member ID: error parsing etcd member id: strconv.ParseUint: '
                       f'parsing "{text}": value out of range')
    return value


def cmd_etcd(flags, sub: str) -> None:
    """etcd members|status|leave|remove-member|forfeit-leadership."""
    expected = 1 if sub == "remove-member" else 0
    if len(flags.args) != expected:
        raise CliError(f"accepts {expected} arg(s), received {len(flags.args)}" if expected else
                       f'unknown command "{flags.args[0]}" for "talosctl etcd {sub}"')  # cobra ExactArgs/NoArgs
    session = ts.connect(flags)
    if sub == "leave":
        tcl.fail_if_multi_nodes(session.nodes, "etcd leave")
    member = _parse_id(flags.args[0]) if sub == "remove-member" else None
    calls = {"members": lambda state, node, _: _members(state, node),
             "status": lambda state, node, _: [_status(state, node)],
             "leave": lambda state, node, _: _leave(node["address"]),
             "remove-member": lambda state, node, _: _remove_member(node["address"], member),
             "forfeit-leadership": lambda state, node, _: _forfeit(node["address"])}
    try:
        results, errors = ts.one2many(session, calls[sub])
    except RpcError as exc:
        raise CliError({"members": "error getting members: ", "status": "error getting status: "}.get(sub, "")
                       + str(exc)) from None
    if sub == "members":  # a member list always holds the local member: the first reply has rows
        _print_table("NODE\tID\tHOSTNAME\tPEER URLS\tCLIENT URLS\tLEARNER", results, errors, "error getting members")
    elif sub == "status":
        _print_table("NODE\tMEMBER\tDB SIZE\tIN USE\tLEADER\tRAFT INDEX\tRAFT TERM\tRAFT APPLIED INDEX\tLEARNER\t"
                     "PROTOCOL\tSTORAGE\tERRORS", results, errors, "error getting status")
    elif errors:
        raise CliError(tcl.multierror(errors))
