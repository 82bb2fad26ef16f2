"""The fake talosctl's client side: errors as talosctl prints them, and the "network" (which node
answers, through which endpoint, with which gRPC error).

Error texts (each cited):
- UNREACHABLE: siderolabs/talos#10880 (grpc-go's dial error for a machine that is off).
- REFUSED: the same dial error while a machine reboots (its apid port is closed): #3352.
- UNKNOWN_CA: siderolabs/talos#9241, #8442 (authenticated call to a maintenance node, or a
  talosconfig whose CA is not the node's).
- CERT_REQUIRED: FIELD-NOTES (--insecure against a configured node: apid requires a client
  certificate; grpc-go reports the TLS 1.3 alert as "error reading server preface").
- NO_NODES: cmd/talosctl/pkg/talos/global/client.go getNodes().
- MULTI_NODE: cmd/talosctl/pkg/talos/helpers/checks.go FailIfMultiNodes().
Aggregation: apid (internal/app/apid/pkg/backend/apid.go BuildError) puts each failed node's
error in the reply metadata with the target as given in -n; pkg/machinery/client/reply.go
FilterMessages joins them as NodeError "<node>: <error>" with hashicorp/go-multierror v1.1.1.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.world import talos_state as st

UNREACHABLE = ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
               'dialing: dial tcp {addr}:50000: connect: no route to host"')
REFUSED = ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
           'dialing: dial tcp {addr}:50000: connect: connection refused"')
UNKNOWN_CA = ('rpc error: code = Unavailable desc = connection error: desc = "transport: authentication '
              'handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown '
              'authority"')
CERT_REQUIRED = ('rpc error: code = Unavailable desc = connection error: desc = "error reading server '
                 'preface: remote error: tls: certificate required"')
NO_NODES = ("nodes are not set for the command: please use `--nodes` flag or configuration file to set "
            "the nodes to run the command against")
MULTI_NODE = 'command "{command}" is not supported with multiple nodes'
NOT_AUTHORIZED = ("PermissionDenied", "not authorized")  # pkg/grpc/middleware/authz/authorizer.go ErrNotAuthorized


class CliError(Exception):
    """A failure printed by root.go Execute (exit 1); `suppressed`: common.SuppressErrors (tracker)."""

    def __init__(self, message: str, suppressed: bool = False):
        """Keep the message and whether Execute stays silent."""
        super().__init__(message)
        self.suppressed = suppressed


class RpcError(Exception):
    """A gRPC status error: str() is grpc-go's "rpc error: code = X desc = Y"."""

    def __init__(self, code: str, desc: str):
        """Keep the status code and description."""
        super().__init__(f"rpc error: code = {code} desc = {desc}")
        self.code, self.desc = code, desc


def rpc(code: str, desc: str) -> RpcError:
    """A status error (plain Go errors returned by a handler arrive with code Unknown)."""
    return RpcError(code, desc)


def dial_error(template: str, addr: str) -> RpcError:
    """One of the Unavailable dial errors above, for `addr`."""
    return RpcError("Unavailable", template.format(addr=addr).split("desc = ", 1)[1])


def multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror v1.1.1 format.go ListFormatFunc."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    return f"{len(errors)} errors occurred:\n\t" + "\n\t".join(f"* {e}" for e in errors) + "\n\n"


def warn(text: str) -> None:
    """pkg/cli/output.go Warning("%s", err): the format gets the newline, so one follows the text."""
    sys.stderr.write("WARNING: " + text + "\n")


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


def snapshot(world: Path) -> dict:
    """A refreshed copy of the whole world state (the lock is released on return)."""
    with st.locked(world) as state:
        return {k: dict(v) for k, v in state.items()}


def dial(state: dict, addr: str) -> dict:
    """Reach a machine's port 50000: unknown/off -> no route, rebooting -> refused; hang_seconds delays."""
    node = state.get(host_of(addr))
    if node is None or node.get("unreachable"):
        raise dial_error(UNREACHABLE, host_of(addr))
    if st.is_rebooting(node):
        raise dial_error(REFUSED, host_of(addr))
    if node.get("hang_seconds"):
        time.sleep(float(node["hang_seconds"]))
    return node


def maintenance(state: dict, addr: str) -> dict:
    """A maintenance-API call (--insecure, no client certificate) straight to `addr`."""
    node = dial(state, addr)
    if node["stage"] != "maintenance":
        raise RpcError("Unavailable", CERT_REQUIRED.split("desc = ", 1)[1])
    return node


def fail_if_multi_nodes(nodes: list[str], command: str) -> None:
    """helpers.FailIfMultiNodes (only when the nodes metadata has more than one entry)."""
    if len(nodes) > 1:
        raise CliError(MULTI_NODE.format(command=command))


def tabwrite(rows: list[list[str]]) -> str:
    """text/tabwriter.NewWriter(w, 0, 0, 3, ' ', 0): cells padded by 3, the last cell unpadded."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    return "".join("".join(c.ljust(widths[i] + 3) for i, c in enumerate(r[:-1])) + "".join(r[-1:]) + "\n"
                   for r in rows)
