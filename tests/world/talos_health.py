"""`talosctl health` in the world: the real check list, evaluated against talos.json and the
fake API server, reported like check.StderrReporter in a non-terminal.

Check names and order: siderolabs/talos pkg/cluster/check/default.go (PreBootSequenceChecks,
K8sComponentsReadinessChecks, DefaultClusterChecks). Progress lines "waiting for <check>: ..." /
": OK" and the final "context deadline exceeded": siderolabs/talos#2589, onedr0p/cluster-template#1500.
"""
from __future__ import annotations

import os
import sys
import time

from tests.world import talos_client as tcl
from tests.world import talos_kube as tk
from tests.world import talos_state as st

SKIP = object()


def _per_node(errors: list[tuple[str, str]]) -> str | None:
    """Combine per-node failures like the checks do (go-multierror)."""
    return tcl.multierror([f"{n}: {m}" for n, m in errors]).rstrip("\n") if errors else None


def _reach(state: dict, addrs: list[str]) -> list[tuple[str, str]]:
    """Connection failures for the given nodes (no hang simulation inside checks)."""
    bad = []
    for addr in addrs:
        node = state.get(addr)
        if node is None or node.get("unreachable"):
            bad.append((addr, tcl.UNREACHABLE.format(addr=addr)))
    return bad


def etcd_healthy(ctx) -> str | None:
    """ServiceHealthAssertion(etcd) on control planes (check/service.go wording)."""
    errors = _reach(ctx.state, ctx.cps)
    for addr in ctx.cps:
        node = ctx.state.get(addr)
        if node and not node.get("unreachable") and node.get("etcd") != "Running":
            last = {"Waiting": "Waiting for etcd spec", "Preparing": "Running pre state"}.get(node.get("etcd"), "")
            errors.append((addr, f'service "etcd" not in expected state "Running": current state '
                                 f'[{node.get("etcd") or "Finished"}] {last}'.rstrip()))
    return _per_node(errors)


def etcd_members_are_cps(ctx) -> str | None:
    """EtcdControlPlaneNodesAssertion (approximate wording)."""
    members = sorted(a for a, n in ctx.state.items() if n.get("etcd_member") and n.get("cluster_name") == ctx.cluster)
    if members != sorted(ctx.cps):
        return f"etcd member ips {members} are not equal to control plane node ips {sorted(ctx.cps)}"
    return None


def apid_ready(ctx) -> str | None:
    """ApidReadyAssertion: every node answers the authenticated API."""
    errors = _reach(ctx.state, ctx.all)
    for addr in ctx.all:
        node = ctx.state.get(addr)
        if node and not node.get("unreachable") and node["stage"] == "maintenance":
            errors.append((addr, tcl.UNKNOWN_CA))
    return _per_node(errors)


def all_booted(ctx) -> str | None:
    """AllNodesBootedAssertion: every node finished its boot sequence (approximate wording)."""
    errors = [(a, "node is not in running stage: booting") for a in ctx.all
              if a in ctx.state and not st.is_ready(ctx.state[a])]
    return _per_node(errors)


def kubelet_healthy(ctx) -> str | None:
    """ServiceHealthAssertion(kubelet) on control planes."""
    errors = [(a, "service is not healthy: kubelet") for a in ctx.cps
              if a in ctx.state and not st.is_ready(ctx.state[a])]
    return _per_node(errors)


def _k8s_nodes(ctx) -> list[dict]:
    """Nodes from the fake API server, or the connection error a real check would see."""
    server = ctx.endpoint.rstrip("/") if ctx.endpoint else "https://<unknown>:6443"
    if ctx.api is None:
        host = server.split("://", 1)[-1]
        raise RuntimeError(f'Get "{server}/api/v1/nodes": dial tcp {host}: connect: connection refused')
    return tk.list_nodes(ctx.api)


def _expected_hostnames(ctx) -> set:
    """Hostnames the cluster's nodes register with."""
    return {ctx.state[a]["hostname"] for a in ctx.all if a in ctx.state and ctx.state[a].get("hostname")}


def _node_check(check):
    """A Kubernetes node assertion: fetch the nodes, or report the fetch error like the check would."""
    def run(ctx) -> str | None:
        try:
            nodes = _k8s_nodes(ctx)
        except Exception as exc:  # noqa: BLE001 - report like the check would
            return str(exc)
        return check(ctx, nodes)
    run.__doc__ = check.__doc__
    return run


@_node_check
def k8s_nodes_reported(ctx, nodes) -> str | None:
    """K8sAllNodesReportedAssertion (approximate wording)."""
    missing = sorted(_expected_hostnames(ctx) - {n["metadata"]["name"] for n in nodes})
    return f"some nodes are not reported: {missing}" if missing else None


@_node_check
def k8s_nodes_ready(ctx, nodes) -> str | None:
    """K8sAllNodesReadyAssertion: "some nodes are not ready: [...]"."""
    wanted = _expected_hostnames(ctx)
    bad = sorted(n["metadata"]["name"] for n in nodes if n["metadata"]["name"] in wanted
                 and not any(c.get("type") == "Ready" and c.get("status") == "True"
                             for c in (n.get("status") or {}).get("conditions") or []))
    return f"some nodes are not ready: {bad}" if bad else None


@_node_check
def k8s_schedulable(ctx, nodes) -> str | None:
    """K8sAllNodesSchedulableAssertion."""
    bad = sorted(n["metadata"]["name"] for n in nodes if (n.get("spec") or {}).get("unschedulable"))
    return f"some nodes are not schedulable: {bad}" if bad else None


def ok(_ctx) -> None:
    """A check the world always passes (memory/disk sizes, diagnostics, static pods)."""
    return None


def skip(_ctx):
    """kube-proxy/coredns are not deployed by Talos here: the check is skipped."""
    return SKIP


CHECKS = [
    ("etcd to be healthy", etcd_healthy),
    ("etcd members to be consistent across nodes", ok),
    ("etcd members to be control plane nodes", etcd_members_are_cps),
    ("apid to be ready", apid_ready),
    ("all nodes memory sizes", ok),
    ("all nodes disk sizes", ok),
    ("no diagnostics", ok),
    ("kubelet to be healthy", kubelet_healthy),
    ("all nodes to finish boot sequence", all_booted),
    ("all k8s nodes to report", k8s_nodes_reported),
    ("all control plane static pods to be running", ok),
    ("all control plane components to be ready", ok),
    ("all k8s nodes to report ready", k8s_nodes_ready),
    ("kube-proxy to report ready", skip),
    ("coredns to report ready", skip),
    ("all k8s nodes to report schedulable", k8s_schedulable),
]


class Context:
    """Inputs of one health evaluation."""

    def __init__(self, world, cps: list[str], workers: list[str], cluster: str | None, endpoint: str | None):
        """Nodes to check, the cluster they belong to and its Kubernetes endpoint."""
        self.world, self.cps, self.workers = world, cps, workers
        self.all = cps + workers
        self.cluster, self.endpoint = cluster, endpoint
        self.api = tk.apiserver_info(world)
        self.state = {}

    def reload(self) -> None:
        """Refresh the world state before each poll."""
        self.state = tcl.snapshot(self.world)


def _say(line: str) -> None:
    """Report one progress line on stderr."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run(ctx: Context, timeout: float) -> None:
    """Wait for every check in order; raise CliError("context deadline exceeded") on timeout."""
    poll = float(os.environ.get("TALOS_WORLD_POLL_SECONDS", "0.2"))
    deadline = time.monotonic() + timeout
    for name, check in CHECKS:
        _say(f"waiting for {name}: ...")
        last = None
        while True:
            ctx.reload()
            result = check(ctx)
            if result is None or result is SKIP:
                _say(f"waiting for {name}: {'OK' if result is None else 'SKIP'}")
                break
            if result != last:
                _say(f"waiting for {name}: {result}")
                last = result
            if time.monotonic() + poll > deadline:
                raise tcl.CliError("context deadline exceeded")
            time.sleep(poll)
