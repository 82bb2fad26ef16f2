"""Cordon/drain before, and uncordon after, an upgrade or `reboot --drain`, against the world's
Kubernetes API server.

cmd/talosctl/cmd/talos/drain.go drainNodes/uncordonNodes, drain/drain.go ProgressWriter (one
reporter message: every node's latest line, sorted by node), pkg/reporter/reporter.go (not a
terminal: the trimmed message when it changed, on stderr), nodedrain/nodedrain.go (messages,
"error getting node %q: %w", "error resolving Kubernetes node name for %s: %w", ...). The world's
API server has no pods/eviction subresource, so kubectl's drain helper deletes ("deleting pod").
"""
from __future__ import annotations

import sys
import time
import urllib.parse

from tests.world import talos_client as tcl
from tests.world import talos_kube as tk
from tests.world import talos_resources as res
from tests.world import talos_session as ts
from tests.world.talos_client import CliError, RpcError


class Reporter:
    """reporter.Reporter without a terminal: print a message when it differs from the last one."""

    def __init__(self):
        """No line printed yet."""
        self.last = None

    def report(self, message: str) -> None:
        """Report(): strings.TrimSpace, tabs to four spaces, skip repeats."""
        line = message.strip().replace("\t", "    ")
        if line != self.last:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            self.last = line


class Progress:
    """drain.ProgressWriter: the latest message per Kubernetes node."""

    def __init__(self, reporter: Reporter):
        """Empty."""
        self.reporter, self.states = reporter, {}

    def update(self, node: str, message: str) -> None:
        """UpdateNode + PrintProgress."""
        self.states[node] = message
        self.reporter.report("".join(self.states[n] + "\n" for n in sorted(self.states)))


def _api(world) -> dict:
    """The API server as kubeclient.FromTalosClient reaches it (through the admin kubeconfig)."""
    api = tk.apiserver_info(world)
    if api is None:
        raise CliError("error creating Kubernetes client for drain: the world's API server is not running")
    return api


def _node(api: dict, name: str, wrap: str) -> dict:
    """GET /api/v1/nodes/<name>."""
    status, body = tk.api_request(api, "GET", f"/api/v1/nodes/{name}")
    if status != 200:
        raise CliError(f'{wrap} "{name}": {body.get("message", body)}')
    return body


def _cordon(api: dict, name: str, unschedulable: bool) -> None:
    """drain.RunCordonOrUncordon: a merge patch of spec.unschedulable."""
    tk.api_request(api, "PATCH", f"/api/v1/nodes/{name}", {"spec": {"unschedulable": unschedulable or None}},
                   content_type="application/merge-patch+json")


def _evictable(api: dict, name: str) -> list[dict]:
    """The node's pods the drain helper removes (not DaemonSet-owned, not mirror pods)."""
    selector = urllib.parse.quote(f"spec.nodeName={name}")
    _, body = tk.api_request(api, "GET", f"/api/v1/pods?fieldSelector={selector}")
    return [p for p in body.get("items") or []
            if not any(o.get("kind") == "DaemonSet" for o in p["metadata"].get("ownerReferences") or [])
            and "kubernetes.io/config.mirror" not in (p["metadata"].get("annotations") or {})]


def drain(session, reporter: Reporter) -> dict[str, str]:
    """drainNodes: Talos node -> Kubernetes node name, each cordoned and drained."""
    world, names = tcl.world_dir(), {}
    api = _api(world)
    progress = Progress(reporter)
    for target in session.nodes:
        state = tcl.snapshot(world)
        try:
            node = ts.proxied(state, session, target)
        except RpcError as exc:
            raise CliError(f"error resolving Kubernetes node name for {target}: error getting Kubernetes node name "
                           f"from Talos API: {exc}") from None
        name = res.nodename(node)[0]["spec"]["nodename"]
        names[target] = name
        _node(api, name, "error getting node")
        progress.update(name, f"{name}: cordoning node")
        _cordon(api, name, True)
        progress.update(name, f"{name}: node cordoned")
        progress.update(name, f"{name}: draining node")
        for pod in _evictable(api, name):
            ns, pod_name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            progress.update(name, f"{name}: deleting pod {ns}/{pod_name}")
            tk.api_request(api, "DELETE", f"/api/v1/namespaces/{ns}/pods/{pod_name}")
            progress.update(name, f"{name}: evicted pod {ns}/{pod_name}")
        progress.update(name, f"{name}: node drained")
    return names


def _node_ready(body: dict) -> bool:
    """The Node's Ready condition is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (body.get("status") or {}).get("conditions") or [])


def uncordon(names: dict[str, str], timeout: float, reporter: Reporter) -> None:
    """uncordonNodes: wait for each node to be Ready, then uncordon it."""
    api = tk.apiserver_info(tcl.world_dir())
    if api is None:
        raise CliError("error creating Kubernetes client for uncordon: the world's API server is not running")
    progress = Progress(reporter)
    for name in names.values():
        progress.update(name, f"{name}: waiting for node to become Ready")
        deadline = time.monotonic() + timeout
        while not _node_ready(tk.api_request(api, "GET", f"/api/v1/nodes/{name}")[1]):
            if time.monotonic() > deadline:
                raise CliError(f'error waiting for node "{name}" to become Ready: context deadline exceeded')
            time.sleep(0.2)
        _node(api, name, "error getting node")
        progress.update(name, f"{name}: uncordoning node")
        _cordon(api, name, False)
        progress.update(name, f"{name}: node uncordoned")
