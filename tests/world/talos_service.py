"""`talosctl service [<id> [start|stop|restart|status]]` (cmd/talosctl/cmd/talos/service.go).

ServiceList goes through FilterMessages: with some nodes failing, cli.Warning("%s", err) on
stderr and exit 0; all failing: "error listing services: %w". `service <id>` renders
formatters.RenderServicesInfo (NODE/ID/STATE/HEALTH/EVENTS, newest event first) for the nodes
that have the service, or fails with `service %q is not registered on any nodes`.
Event texts: siderolabs/talos#6205, #12214, #2589, #7014.
"""
from __future__ import annotations

import sys
import time

from tests.world import talos_client as tcl
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world.fake_cobra import go_duration
from tests.world.talos_client import CliError, RpcError


def _since(ts_: float | None) -> str:
    """time.Since(ts).Round(time.Second) as a Go duration."""
    return go_duration(time.time() - (ts_ or time.time()))


def _etcd_service(node: dict) -> tuple[str, str, list]:
    """The etcd service: (state, health, events oldest first)."""
    base = node["configured_at"]
    waiting = ("Waiting", "Waiting for etcd spec", base)
    preparing = ("Preparing", "Running pre state", base)
    state = node["etcd"]
    if state == "Running":
        return "Running", "OK", [waiting, preparing, ("Running", "Health check successful",
                                                       node["bootstrapped_at"] or base)]
    if state == "Finished":
        return "Finished", "?", [waiting, preparing, ("Finished", "Service finished successfully", base)]
    if state == "Preparing":
        return "Preparing", "?", [waiting, preparing]
    return "Waiting", "?", [waiting]


def services(node: dict) -> list[tuple[str, str, str, list]]:
    """(id, state, health, events) of a configured node's services, sorted by id."""
    base = node["configured_at"] or time.time()
    up = ("Running", "OK", [("Running", "Health check successful", base)])
    kubelet = up if st.is_ready(node) else ("Preparing", "?", [("Preparing", "Running pre state", base)])
    rows = [("apid",) + up, ("auditd",) + up, ("containerd",) + up, ("cri",) + up, ("dashboard",) + up]
    if node["machine_type"] == "controlplane":
        rows.append(("etcd",) + _etcd_service(node))
    rows += [("kubelet",) + kubelet, ("machined",) + up, ("syslogd",) + up]
    if node["machine_type"] == "controlplane":
        rows.append(("trustd",) + up)
    return rows + [("udevd",) + up]


def _info_rows(node_name: str, service: tuple) -> list[list[str]]:
    """RenderServicesInfo rows for one node's service."""
    sid, state, health, events = service
    rows = [["NODE", node_name], ["ID", sid], ["STATE", state], ["HEALTH", health]]
    label = "EVENTS"
    for ev_state, message, when in reversed(events):
        rows.append([label, f"[{ev_state}]: {message} ({_since(when)} ago)"])
        label = ""
    return rows


def cmd_service(flags) -> None:
    """service [<id> [status]]; start/stop/restart are not simulated."""
    if len(flags.args) > 2:
        raise CliError(f"accepts at most 2 arg(s), received {len(flags.args)}")  # cobra.MaximumNArgs (args.go)
    service = flags.args[0] if flags.args else ""
    action = flags.args[1] if len(flags.args) == 2 else "status"
    session = ts.connect(flags)
    if action in ("start", "stop", "restart"):
        raise CliError(f"the simulated talosctl does not support service {action}")
    if action != "status":
        raise CliError(f'unsupported service action: "{action}"')
    try:
        results, errors = ts.one2many(session, lambda state, node, target: services(node))
    except RpcError as exc:
        raise CliError(f"error listing services: {exc}") from None
    if errors and not results:
        raise CliError(f"error listing services: {tcl.multierror(errors)}")
    if errors:
        tcl.warn(tcl.multierror(errors))
    if not service:
        rows = [["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT"]]
        rows += [[name, sid, state, health, f"{_since(events[-1][2])} ago", events[-1][1] if events else "<none>"]
                 for name, svcs in results for sid, state, health, events in svcs]
        sys.stdout.write(tcl.tabwrite(rows))
        return
    rows = [row for name, svcs in results for svc in svcs if svc[0] == service for row in _info_rows(name, svc)]
    if not rows:
        raise CliError(f'service "{service}" is not registered on any nodes')
    sys.stdout.write(tcl.tabwrite(rows))
