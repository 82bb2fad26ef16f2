"""The fake talosctl's "network": which node answers, over which TLS, with which error text.

Error strings (each cited):
- UNREACHABLE: siderolabs/talos#10880 ("error applying new configuration: rpc error: code = Unavailable
  desc = connection error: desc = \"transport: Error while dialing: dial tcp <ip>:50000: connect: no
  route to host\"").
- UNKNOWN_CA: siderolabs/talos#9241, #8442 (authenticated call to a maintenance node, or a
  talosconfig whose CA is not the node's).
- CERT_REQUIRED: FIELD-NOTES (--insecure against a configured node: apid requires a client certificate;
  Go >= 1.21 clients get the TLS 1.3 alert on the first read, grpc-go wraps it as
  "error reading server preface").
- NO_ENDPOINTS: siderolabs/talos#10697 ("error constructing client: failed to determine endpoints").
- NO_NODES: cmd/talosctl/cmd/talos/root.go WithClient().
- MULTI_NODE: cmd/talosctl/pkg/talos/helpers FailIfMultiNodes().
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tests.world import talos_config as tc
from tests.world import talos_state as st

UNREACHABLE = ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
               'dialing: dial tcp {addr}:50000: connect: no route to host"')
UNKNOWN_CA = ('rpc error: code = Unavailable desc = connection error: desc = "transport: authentication '
              'handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown '
              'authority"')
CERT_REQUIRED = ('rpc error: code = Unavailable desc = connection error: desc = "error reading server '
                 'preface: remote error: tls: certificate required"')
NO_ENDPOINTS = "error constructing client: failed to determine endpoints"
NO_NODES = ("nodes are not set for the command: please use `--nodes` flag or configuration file to set "
            "the nodes to run the command against")
MULTI_NODE = 'command "{command}" is not supported with multiple nodes'


class CliError(Exception):
    """A command failure: printed to stderr (with the usage when `usage`), exit 1."""

    def __init__(self, message: str, usage: bool = False):
        """Keep the message and whether the usage follows it."""
        super().__init__(message)
        self.usage = usage


class RpcError(Exception):
    """A per-node gRPC failure ("rpc error: code = X desc = Y")."""


def rpc(code: str, desc: str) -> RpcError:
    """Build an RpcError in grpc-go's status text format."""
    return RpcError(f"rpc error: code = {code} desc = {desc}")


def world_dir() -> Path:
    """The world directory from TALOS_WORLD_DIR."""
    value = os.environ.get("TALOS_WORLD_DIR")
    if not value:
        raise CliError("TALOS_WORLD_DIR is not set (the simulated talosctl needs a world directory)")
    return Path(value)


def host_of(endpoint: str) -> str:
    """Strip scheme and port from an endpoint ("https://10.0.48.11:50000" -> "10.0.48.11")."""
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@dataclass
class Session:
    """An authenticated client: talosconfig context, endpoints and target nodes."""

    config: tc.TalosConfig
    endpoints: list
    nodes: list


def default_talosconfig() -> str:
    """$TALOSCONFIG or ~/.talos/config (pkg/machinery/client/config GetDefaultPath)."""
    return os.environ.get("TALOSCONFIG") or str(Path.home() / ".talos" / "config")


def open_session(flags, need_nodes: bool = True) -> Session:
    """Load the talosconfig and resolve endpoints/nodes like WithClient/WithClientNoNodes."""
    try:
        config = tc.load_talosconfig(flags["talosconfig"] or default_talosconfig(), flags["context"])
    except tc.ConfigError as exc:
        raise CliError(str(exc)) from None
    endpoints = flags["endpoints"] or config.endpoints
    if not endpoints:
        raise CliError(NO_ENDPOINTS)
    nodes = flags["nodes"] or config.nodes
    if need_nodes and not nodes:
        raise CliError(NO_NODES)
    return Session(config=config, endpoints=[host_of(e) for e in endpoints], nodes=[host_of(n) for n in nodes])


def snapshot(world: Path) -> dict:
    """A refreshed copy of the whole world state (the lock is released on return)."""
    with st.locked(world) as state:
        return {k: dict(v) for k, v in state.items()}


def _dial(state: dict, addr: str) -> dict:
    """Reach a machine's apid port: unknown or unreachable -> no route; hang_seconds -> delay."""
    node = state.get(addr)
    if node is None or node.get("unreachable"):
        raise RpcError(UNREACHABLE.format(addr=addr))
    if node.get("hang_seconds"):
        time.sleep(float(node["hang_seconds"]))
    return node


def _first_endpoint(state: dict, session: Session) -> dict:
    """The first endpoint that answers (the gRPC client fails over between endpoints)."""
    for host in session.endpoints:
        node = state.get(host)
        if node is not None and not node.get("unreachable"):
            return _dial(state, host)
    return _dial(state, session.endpoints[0])  # raises "no route to host"


def connect(state: dict, session: Session, addr: str) -> dict:
    """Authenticated call to `addr` through an endpoint (apid proxies to other nodes)."""
    endpoint = _first_endpoint(state, session)
    if endpoint["stage"] == "maintenance":
        raise RpcError(UNKNOWN_CA)
    if endpoint["machine_ca_sha256"] and endpoint["machine_ca_sha256"] != session.config.ca_sha256:
        raise RpcError(UNKNOWN_CA)
    if addr == endpoint["address"]:
        return endpoint
    target = _dial(state, addr)
    if target["stage"] == "maintenance" or target["machine_ca_sha256"] != endpoint["machine_ca_sha256"]:
        raise RpcError(UNKNOWN_CA)
    return target


def connect_insecure(state: dict, addr: str) -> dict:
    """Maintenance-API call (--insecure, no client certificate) straight to `addr`."""
    node = _dial(state, addr)
    if node["stage"] != "maintenance":
        raise RpcError(CERT_REQUIRED)
    return node


def join_node_errors(errors: list[tuple[str, str]], multi: bool) -> str:
    """Single node: the plain error; several: go-multierror with "node: error" entries."""
    if not multi and len(errors) == 1:
        return errors[0][1]
    return tc.multierror([f"{node}: {msg}" for node, msg in errors]).rstrip("\n")


def fail_if_multi_nodes(session: Session, command: str) -> None:
    """helpers.FailIfMultiNodes."""
    if len(session.nodes) > 1:
        raise CliError(MULTI_NODE.format(command=command))


def tabwrite(rows: list[list[str]]) -> str:
    """text/tabwriter with minwidth 0, padding 3, the last column unpadded."""
    widths = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i] + 3) for i, cell in enumerate(row[:-1])] + row[-1:]
        lines.append("".join(cells))
    return "".join(line + "\n" for line in lines)
