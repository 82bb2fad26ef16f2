"""Per-node state of the simulated Talos machines: DIR/talos.json, keyed by node address.

Every read-modify-write holds an exclusive flock on DIR/talos.lock and replaces the file
atomically, so concurrent fake talosctl processes never lose an update.

Node schema (see new_node()):
- lifecycle: "stage" maintenance|configured|bootstrapped, "configured_at", "bootstrapped_at",
  "apply_count", "staged_config_sha256";
- facts of the applied config (never the config itself): "config_sha256", "config_paths"
  (dotted leaf path -> 12-hex hash, for secret-free dry-run diffs), "machine_type", "cluster_name",
  "endpoint" (cluster.controlPlane.endpoint), "hostname", "machine_ca_sha256" (a talosconfig `ca`
  must match it);
- derived on every access (refresh()): "etcd" None|Waiting|Preparing|Running, "etcd_member"
  (sticky: bootstrapped, or a ready control plane that joined an existing etcd);
- knobs tests set (kept across reset): "ready_after" seconds after the first apply before the node
  is ready (bootstrap allowed), "unreachable", "hang_seconds", "talos_version", "k8s_ready"
  (the Ready condition of the Node registered by `talosctl kubeconfig`); "k8s_registered".
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

STATE_FILE = "talos.json"
LOCK_FILE = "talos.lock"
DEFAULT_TALOS_VERSION = "v1.13.9"

# Fields a reset keeps: they describe the simulated hardware/network, not the installed OS.
KNOBS = ("ready_after", "unreachable", "hang_seconds", "talos_version", "k8s_ready")


def new_node(address: str) -> dict:
    """A freshly booted machine in maintenance mode (no config, no etcd)."""
    return {
        "address": address,
        "stage": "maintenance",
        "config_sha256": None,
        "config_paths": {},
        "machine_type": None,
        "cluster_name": None,
        "endpoint": None,
        "hostname": None,
        "machine_ca_sha256": None,
        "staged_config_sha256": None,
        "etcd": None,
        "etcd_member": False,
        "configured_at": None,
        "bootstrapped_at": None,
        "apply_count": 0,
        "k8s_registered": False,
        "ready_after": 0.0,
        "unreachable": False,
        "hang_seconds": 0.0,
        "talos_version": DEFAULT_TALOS_VERSION,
        "k8s_ready": False,
    }


def state_path(world: Path) -> Path:
    """Path of talos.json in a world directory."""
    return Path(world) / STATE_FILE


def load(world: Path) -> dict:
    """Read talos.json ({} when absent)."""
    try:
        return json.loads(state_path(world).read_text())
    except FileNotFoundError:
        return {}


def save(world: Path, state: dict) -> None:
    """Atomically replace talos.json."""
    path = state_path(world)
    tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def locked(world: Path):
    """Yield the state under an exclusive lock; save it back if it changed."""
    Path(world).mkdir(parents=True, exist_ok=True)
    with open(Path(world) / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = load(world)
        before = json.dumps(state, sort_keys=True)
        yield state
        refresh(state)
        if json.dumps(state, sort_keys=True) != before:
            save(world, state)


def is_ready(node: dict, now: float | None = None) -> bool:
    """A configured node is ready (apid up, bootstrap allowed) after its ready_after delay."""
    if node["stage"] == "maintenance" or node["configured_at"] is None:
        return False
    return (now or time.time()) >= node["configured_at"] + float(node.get("ready_after") or 0)


def cluster_nodes(state: dict, cluster: str | None) -> list[dict]:
    """Configured nodes of one cluster, by address order."""
    return [n for _, n in sorted(state.items())
            if n["stage"] != "maintenance" and n["cluster_name"] == cluster]


def etcd_exists(state: dict, cluster: str | None) -> bool:
    """True once any node of the cluster holds etcd data (bootstrapped or joined)."""
    return any(n["etcd_member"] for n in cluster_nodes(state, cluster))


def _etcd_state(state: dict, node: dict, now: float) -> str | None:
    """Derive the etcd service state of one node."""
    if node["stage"] == "maintenance" or node["machine_type"] != "controlplane":
        return None
    if node["etcd_member"]:
        return "Running"
    return "Preparing" if is_ready(node, now) else "Waiting"


def refresh(state: dict, now: float | None = None) -> None:
    """Recompute derived fields: ready control planes join an existing etcd cluster."""
    now = now or time.time()
    for node in state.values():
        cluster = node["cluster_name"]
        if (node["machine_type"] == "controlplane" and is_ready(node, now)
                and not node["etcd_member"] and etcd_exists(state, cluster)):
            node["etcd_member"] = True
        node["etcd"] = _etcd_state(state, node, now)


def reset_node(node: dict) -> dict:
    """Wipe a node back to maintenance, keeping its hardware knobs."""
    fresh = new_node(node["address"])
    fresh.update({k: node[k] for k in KNOBS if k in node})
    return fresh


def seed_nodes(world: Path, addresses: list[str], **knobs) -> None:
    """Create (or overwrite) nodes in maintenance mode, with optional knobs for all of them."""
    with locked(world) as state:
        for address in addresses:
            node = new_node(address)
            node.update(knobs)
            state[address] = node


def set_node(world: Path, address: str, **fields) -> None:
    """Change fields (fault knobs such as unreachable/hang_seconds/ready_after) of one node."""
    with locked(world) as state:
        state[address].update(fields)


def get_node(world: Path, address: str) -> dict:
    """Return one node's state (refreshed)."""
    with locked(world) as state:
        return dict(state[address])
