"""Version facts: the Talos version each node runs and the Kubernetes version of its kubelet and
control plane, from facts the run reads anyway, so a converged cluster costs no extra call: the
Node's status.nodeInfo (osImage "Talos (vX.Y.Z)" and kubeletVersion, which the kubelet posts after
every boot) and the control-plane images of the machine config the node runs (Talos renders its
static pods from them). Only configured nodes without a Node object are asked, in one
`talosctl get version` (Versions.runtime.talos.dev, pkg/machinery/resources/runtime/version.go)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import tools
from ..settings.model import Cluster
from .kube import KubeFacts
from .talos import NodeFact, json_stream

OS_IMAGE = re.compile(r"^Talos \((v[^)]+)\)$")      # version.Name + " (" + version.Tag + ")"


@dataclass(frozen=True)
class NodeVersions:
    """What one node runs ("" where it cannot be told, with the reason)."""

    talos: str = ""
    kubelet: str = ""
    control_plane: tuple[tuple[str, str], ...] = ()     # (component, version), control planes only
    reason: str = ""


def node_object(kube: KubeFacts, address: str) -> dict | None:
    """The Kubernetes Node whose InternalIP is the address."""
    return nodes_by_address(kube).get(address)


def nodes_by_address(kube: KubeFacts) -> dict[str, dict]:
    """InternalIP -> Kubernetes Node (one pass over the objects, so asking for every node stays linear)."""
    found = {}
    for (kind, _, _), obj in kube.objects.items():
        for a in ((obj.get("status") or {}).get("addresses") or []) if kind == "Node" else []:
            if a.get("type") == "InternalIP":
                found.setdefault(a.get("address"), obj)
    return found


def from_node_object(obj: dict | None) -> tuple[str, str]:
    """(Talos version, kubelet version) a Node's nodeInfo shows."""
    info = ((obj or {}).get("status") or {}).get("nodeInfo") or {}
    match = OS_IMAGE.match(str(info.get("osImage", "")))
    return (match.group(1) if match else ""), str(info.get("kubeletVersion", ""))


def ask_talos(talosconfig: str, addresses: list[str]) -> dict[str, str]:
    """Node -> Talos version from one `talosctl get version` across the given nodes."""
    result = tools.talosctl(["get", "version", "-n", ",".join(addresses), "-o", "json"], talosconfig, timeout=30)
    return {item["node"]: str((item.get("spec") or {}).get("version", ""))
            for item in json_stream(result.stdout) if item.get("node") in addresses}


def query_versions(cluster: Cluster, nodes: dict[str, NodeFact], kube: KubeFacts,
                   talosconfig: str | None) -> dict[str, NodeVersions]:
    """Every inventory node's versions (address -> NodeVersions)."""
    by_address = nodes_by_address(kube) if kube.reachable else {}
    seen = {n.address: from_node_object(by_address.get(n.address)) if kube.reachable else ("", "")
            for n in cluster.nodes}
    configured = [a for a, fact in nodes.items() if fact.state == "configured"]
    missing = [a for a in configured if not seen[a][0]]
    asked = ask_talos(talosconfig, missing) if missing and talosconfig else {}
    out = {}
    for address, fact in nodes.items():
        talos = seen[address][0] or asked.get(address, "")
        why = "" if talos else (f"the node is {fact.state}" if fact.state != "configured" else
                                "neither its Kubernetes Node nor its Talos API tells")
        out[address] = NodeVersions(talos, seen[address][1], fact.control_plane, why)
    return out
