"""Talos facts: each node's state from one authenticated `talosctl get machinestatus` across every
node, and etcd's state from one `talosctl service etcd` across the control planes. Query and
parse only; the stages decide what the facts mean for them."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .. import tools
from ..settings.model import Cluster
from ..tools.outcomes import classify_text


@dataclass
class NodeFact:
    """A Talos node as its API answers: maintenance, configured, unreachable or unknown."""

    address: str
    state: str
    reason: str = ""


def query_nodes(cluster: Cluster, talosconfig: str | None, why_not: str) -> dict[str, NodeFact]:
    """Every node's state; `unknown` for all of them when there is no client config."""
    addresses = [n.address for n in cluster.nodes]
    if talosconfig is None:
        return {a: NodeFact(a, "unknown", f"talosconfig: {why_not}") for a in addresses}
    result = tools.talosctl(["get", "machinestatus", "-n", ",".join(addresses), "-o", "json"], talosconfig,
                            timeout=60)
    answered = {item.get("node") for item in json_stream(result.stdout)}
    facts = {}
    for address in addresses:
        if address in answered:
            facts[address] = NodeFact(address, "configured")
            continue
        line = _node_error(result, address, len(addresses))
        # Only a hint: an insecure apply still needs the node itself to confirm maintenance mode.
        state = "maintenance" if classify_text(line) == "tls" else "unreachable"
        facts[address] = NodeFact(address, state, line.strip())
    return facts


def query_etcd(cluster: Cluster, talosconfig: str | None, why_not: str) -> tuple[bool, str]:
    """Whether etcd runs on any control-plane node: then the cluster is bootstrapped, even if
    the first control plane was replaced and has not joined yet."""
    nodes = [n.address for n in cluster.controlplanes]
    if talosconfig is None:
        return False, f"talosconfig: {why_not}"
    result = tools.talosctl(["service", "etcd", "-n", ",".join(nodes)], talosconfig, timeout=30)
    states = service_states(result.stdout)
    running = [a for a in nodes if states.get(a) == "Running"]
    if running:
        return True, f"etcd runs on {', '.join(running)}"
    seen = ", ".join(f"{a} {states[a]}" for a in nodes if a in states) or result.message()
    return False, f"etcd runs on no control-plane node ({seen})"


def _node_error(result: tools.Result, address: str, count: int) -> str:
    """The error talosctl printed for one node (` * <address>: ...` when several were asked)."""
    if count == 1:
        return result.message()
    pattern = re.compile(rf"^\s*\*?\s*{re.escape(address)}:\s")
    return next((ln for ln in result.stderr.splitlines() if pattern.match(ln)), result.message())


def service_states(text: str) -> dict[str, str]:
    """Node -> STATE from `talosctl service <id>` output (one NODE/ID/STATE block per node)."""
    states, node = {}, None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "NODE":
            node = value.strip()
        elif key == "STATE" and node:
            states[node] = value.strip()
    return states


def json_stream(text: str) -> list[dict]:
    """Objects of a stream of concatenated JSON documents (talosctl -o json)."""
    decoder, items, index = json.JSONDecoder(), [], 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            item, index = decoder.raw_decode(text, index)
        except ValueError:
            break
        items.append(item)
    return items
