"""Talos facts: each node's state and the digest of the config it runs, from one authenticated
`talosctl get machineconfig v1alpha1` across every node (the spec is the applied config, byte for
byte: Talos keeps the bytes it was given), and etcd's state from one `talosctl service etcd`. Query
and parse only; the stages decide what the facts mean for them."""
from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
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
    config_digest: str = ""        # sha256 of the machine config the node runs (configured nodes)
    # Control-plane component -> version, from the images of the config it runs (Talos renders
    # its static pods from them): what the node's control plane runs, at no extra call.
    control_plane: tuple[tuple[str, str], ...] = ()


def config_digest(config: str | bytes) -> str:
    """How a machine config is remembered: its sha256 (the config itself holds secrets)."""
    return "sha256:" + hashlib.sha256(config if isinstance(config, bytes) else config.encode()).hexdigest()


def _machineconfig(talosconfig: str, addresses: list[str]) -> tuple[dict[str, NodeFact], tools.Result]:
    """The configured nodes among addresses, from one `get machineconfig v1alpha1`."""
    result = tools.talosctl(["get", "machineconfig", "v1alpha1", "-n", ",".join(addresses), "-o", "json"],
                            talosconfig, timeout=60)
    found = {}
    for item in json_stream(result.stdout):
        if item.get("node") in addresses and isinstance(item.get("spec"), str):
            found[item["node"]] = NodeFact(item["node"], "configured", config_digest=config_digest(item["spec"]),
                                           control_plane=control_plane_versions(item["spec"]))
    return found, result


CONTROL_PLANE = {"apiServer": "kube-apiserver", "controllerManager": "kube-controller-manager",
                 "scheduler": "kube-scheduler"}
IMAGE = re.compile(r"^\s+image:\s*(\S+)\s*$")


def control_plane_versions(config: str) -> tuple[tuple[str, str], ...]:
    """Component -> image tag of cluster.apiServer/controllerManager/scheduler.image in a machine config
    (a line scan, any indentation: parsing every node's config would cost each run)."""
    found, section, depth = {}, None, 0
    for line in config.splitlines():
        indent, key = len(line) - len(line.lstrip()), line.strip()
        if not key or key.startswith("#"):
            continue
        if section and indent <= depth:
            section = None
        if key.rstrip(":") in CONTROL_PLANE and key.endswith(":"):
            section, depth = CONTROL_PLANE[key.rstrip(":")], indent
        elif section and IMAGE.match(line):
            found[section] = image_tag(IMAGE.match(line).group(1))
    return tuple(sorted(found.items()))


def image_tag(image: str) -> str:
    """The tag of an image reference (digest dropped): ghcr.io/x/y:v1.2.3@sha256:.. -> v1.2.3."""
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""


def _one_node(talosconfig: str, address: str) -> NodeFact:
    """A node the batched query did not answer for, asked alone: its own error tells why. (A `get`
    across nodes resolves the resource on the first node and reports other nodes' errors without
    their address, so only a single-node call names the cause; cmd/talosctl/cmd/talos/get.go.)"""
    found, result = _machineconfig(talosconfig, [address])
    if address in found:
        return found[address]
    message = result.message()
    # Only a hint: an insecure apply still needs the node itself to confirm maintenance mode.
    return NodeFact(address, "maintenance" if classify_text(message) == "tls" else "unreachable", message.strip())


def query_nodes(cluster: Cluster, talosconfig: str | None, why_not: str,
                known: dict[str, NodeFact] | None = None) -> dict[str, NodeFact]:
    """Every node's state: one call when all nodes answer, one more per node that did not (unless
    `known` already holds its answer: a node found in maintenance stays there until it is configured)."""
    addresses = [n.address for n in cluster.nodes]
    if talosconfig is None:
        return {a: NodeFact(a, "unknown", f"talosconfig: {why_not}") for a in addresses}
    found, _ = _machineconfig(talosconfig, addresses)
    found.update({a: fact for a, fact in (known or {}).items() if a in addresses and a not in found})
    missing = [a for a in addresses if a not in found]
    if missing:
        with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
            found.update(zip(missing, pool.map(lambda a: _one_node(talosconfig, a), missing)))
    return {a: found[a] for a in addresses}


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
