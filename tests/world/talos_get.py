"""`talosctl get` and `talosctl version`, and helpers.ClientVersionCheck which both use.

- get.go getResources + helpers/resources.go ForEachResource: the RD is resolved from the FIRST
  node (its failure fails the command, nothing printed), then each node is listed One2One; a
  node's error is appended as-is (no node prefix) and the multierror ends the command after the
  other nodes' resources were written. --insecure: no nodes metadata, the node column is "".
- version.go: "Client:" (+ long or --short client version) and "Server:" are printed before
  contacting the nodes; partial failures are a WARNING; all failed: "error getting version: %s".
- helpers/checks.go ClientVersionCheck: Version on all nodes, errors ignored, "WARNING: %s\\n" with
  "<node>: server version X is older than client version Y" joined by ", ".
"""
from __future__ import annotations

import re
import sys

from tests.world import talos_client as tcl
from tests.world import talos_output as out
from tests.world import talos_rd as rd
from tests.world import talos_resources as res
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world.talos_client import CliError, RpcError

CLIENT = {"tag": st.DEFAULT_TALOS_VERSION, "sha": "3ebd10a7", "go": "go1.25.9", "os": "linux", "arch": "amd64"}
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")


def semver(text: str) -> tuple:
    """blang/semver ParseTolerant as a sortable key (a pre-release sorts before the release)."""
    match = _SEMVER.match(text)
    if not match:
        return (0, 0, 0, (0,), text)
    pre = match.group(4)
    pre_key = (1,) if not pre else (0,) + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)), pre_key, text.lstrip("v"))


def client_version_check(versions: list[tuple[str, str]]) -> None:
    """helpers.ClientVersionCheck over (hostname, tag) of the nodes that answered."""
    client = semver(CLIENT["tag"])
    older = [f"{node}: server version {tag.lstrip('v')} is older than client version {client[4]}"
             for node, tag in versions if semver(tag) < client]
    if older:
        sys.stderr.write("WARNING: " + ", ".join(older) + "\n")


def node_versions(session) -> list[tuple[str, str]]:
    """MachineService.Version One2Many: (node, tag) of the nodes that answered (errors ignored)."""
    try:
        results, _ = ts.one2many(session, lambda state, node, target: node["talos_version"], at_once=True)
    except RpcError:
        return []
    return results


def _long(tag: str) -> str:
    """pkg/machinery/version/version.go versionTemplate (Built is never set)."""
    return (f"\tTag:         {tag}\n\tSHA:         {CLIENT['sha']}\n\tBuilt:       \n"
            f"\tGo version:  {CLIENT['go']}\n\tOS/Arch:     {CLIENT['os']}/{CLIENT['arch']}\n")


def _server_block(node: str, tag: str) -> str:
    """cmdVersion: NODE line, the long version, Enabled features (RBAC)."""
    return f"\tNODE:        {node}\n" + _long(tag) + "\tEnabled:     RBAC\n"


def cmd_version(flags) -> None:
    """version [--client] [--short] [--insecure] (version.go)."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl version"')  # cobra.NoArgs (args.go)
    if flags["json"]:
        raise CliError("the simulated talosctl does not support version --json")
    sys.stdout.write("Client:\n" + (f"Talos {CLIENT['tag']}\n" if flags["short"] else _long(CLIENT["tag"])))
    if flags["client"]:
        return
    sys.stdout.write("Server:\n")
    sys.stdout.flush()
    if flags["insecure"]:
        try:
            node = _insecure_node(flags)
        except RpcError as exc:
            raise CliError(f"error getting version: {exc}") from None
        sys.stdout.write(_server_block(tcl.host_of(flags["nodes"][0]), node["talos_version"]))  # no metadata: peer address
        return
    session = ts.connect(flags)
    try:
        results, errors = ts.one2many(session, lambda state, node, target: node["talos_version"])
    except RpcError as exc:
        raise CliError(f"error getting version: {exc}") from None
    if errors and not results:
        raise CliError(f"error getting version: {tcl.multierror(errors)}")
    if errors:
        tcl.warn(tcl.multierror(errors))
    sys.stdout.write("".join(_server_block(node, tag) for node, tag in results))


def _insecure_node(flags) -> dict:
    """WithClientMaintenance: the call goes to the first -n endpoint's maintenance API."""
    if not flags["nodes"]:
        raise CliError("failed to determine endpoints")  # client.go New(), unwrapped in WithClientMaintenance
    return tcl.maintenance(tcl.snapshot(tcl.world_dir()), flags["nodes"][0])


def _list(rtype: str, state: dict, node: dict, flags) -> list[dict]:
    """COSI List (or Get with an id) on one node."""
    if rtype in res.SENSITIVE and node["stage"] == "maintenance":
        raise RpcError(*tcl.NOT_AUTHORIZED)  # internal/app/resources/access.go: Reader role, Sensitive type
    items = res.resources(rtype, state, node)
    if items is None:
        raise CliError(f'the simulated talosctl has no data for resource "{rtype}"')
    namespace = flags["namespace"]
    items = [i for i in items if not namespace or i["metadata"]["namespace"] == namespace]
    if len(flags.args) == 2:
        items = [i for i in items if i["metadata"]["id"] == flags.args[1]]
        if not items:
            ns = namespace or (res.resources(rtype, state, node) or [{"metadata": {"namespace": ""}}])[0]["metadata"]["namespace"]
            raise RpcError("NotFound", f"resource {rtype}({ns}/{flags.args[1]}@undefined) doesn't exist")  # inmem ErrNotFound
    return items


def cmd_get(flags) -> None:
    """get <type> [<id>] [-o table|json|yaml] [--insecure] (get.go getResources)."""
    if not 1 <= len(flags.args) <= 2:
        raise CliError(f"accepts between 1 and 2 arg(s), received {len(flags.args)}")  # cobra.RangeArgs (args.go)
    if flags["watch"]:
        raise CliError("the simulated talosctl does not support get --watch")
    world = tcl.world_dir()
    if flags["insecure"]:
        try:
            first = _insecure_node(flags)
        except RpcError as exc:
            raise CliError(str(exc)) from None
        client_version_check([("", first["talos_version"])])
        nodes, lookup = [""], (lambda state, target: tcl.maintenance(state, flags["nodes"][0]))
    else:
        session = ts.connect(flags)
        client_version_check(node_versions(session))
        nodes, lookup = session.nodes, (lambda state, target: ts.proxied(state, session, target))
    writer = out.Writer(flags["output"])
    # One state for every node: apid fans the request out to all of them at once (one2many).
    state = tcl.snapshot(world)
    try:
        head = lookup(state, nodes[0])
        rtype = rd.resolve(flags.args[0])
    except RpcError as exc:
        raise CliError(str(exc)) from None
    writer.header(rtype, res.columns(rtype, head["talos_version"]))
    errors = []
    for target in nodes:
        try:
            for item in _list(rtype, state, lookup(state, target), flags):
                writer.resource(target, item)
        except RpcError as exc:
            errors.append(str(exc))
    writer.flush()
    if errors:
        raise CliError(tcl.multierror(errors))
