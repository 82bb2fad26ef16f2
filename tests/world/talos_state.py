"""Per-node state of the simulated Talos machines: DIR/talos.json, keyed by node address.

Every read-modify-write holds an exclusive flock on DIR/talos.lock and replaces the file
atomically, so concurrent fake talosctl processes never lose an update.

Node schema (see new_node()):
- configs: "config" (the active machine config, the applied bytes verbatim as a real node keeps
  them) and "persistent_config" (on disk: ahead after `staged`, behind after `try`);
  "try_rollback_at"/"try_rollback_config" for `--mode try`;
- facts derived from the active config: "machine_type", "cluster_name", "endpoint", "hostname",
  "machine_ca_sha256" (a talosconfig's `ca` must match it);
- lifecycle: "stage" maintenance|configured|bootstrapped, "configured_at" (last boot into a
  config), "bootstrapped_at", "apply_count", "boot_id", "rebooting_until" (unreachable until then;
  the reboot then activates the persistent config and "upgrade_to"), "apply_rebooted"
  (ApplyConfiguration refuses more changes until the reboot);
- etcd: "etcd" None|Waiting|Preparing|Running|Finished (derived; a member's runs once its node is ready
  after a boot), "etcd_member" (sticky: bootstrapped,
  or a ready control plane that joined an existing etcd), "etcd_leader", "etcd_left" (left or
  removed: etcd stays stopped until a reset), "stale_member" ({cluster, hostname} of a member
  that was wiped without leaving: the cluster still lists it, and the machine cannot join again
  until it is removed);
- knobs tests set (kept across reset, they describe the hardware): "ready_after" seconds after a
  boot before the node is ready, "unreachable" (off or cut off), "hang_seconds", "talos_version",
  "installer_image", "reboot_seconds" (how long a reboot keeps the node unreachable; default
  $TALOS_WORLD_REBOOT_SECONDS or 1s), "disks", "links", "k8s_ready" (the Node's Ready condition);
  "k8s_registered", "kubelet_resync" (the machine rebooted: its kubelet posts its node status again,
  so the Node's nodeInfo shows the Talos version it booted, kubelet_node_status.go setNodeStatus).

Quorum watch: every state change checks each cluster's etcd; when fewer members answer than a quorum
(len(members)/2 + 1, etcd's raft quorum) the world appends the episode to DIR/etcd-quorum.json, so
a test can assert that an upgrade never cost quorum. Reboots begun are recorded by talos_reboots.py.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from pathlib import Path

from tests.world import talos_reboots

STATE_FILE = "talos.json"
LOCK_FILE = "talos.lock"
QUORUM_FILE = "etcd-quorum.json"
DEFAULT_TALOS_VERSION = "v1.13.9"
DEFAULT_INSTALLER = "ghcr.io/siderolabs/installer"
DEFAULT_REBOOT_SECONDS = 1.0

# Fields a reset keeps: they describe the simulated hardware/network, not the installed OS.
KNOBS = ("ready_after", "unreachable", "hang_seconds", "talos_version", "installer_image", "reboot_seconds",
         "disks", "links", "k8s_ready", "stale_member")


def default_disks() -> list[dict]:
    """The example inventory's install disks (bootstrap/values/talos.yaml): an NVMe and a SATA disk."""
    return [
        {"id": "nvme0n1", "dev_path": "/dev/nvme0n1", "size": 1000204886016, "io_size": 512, "sector_size": 512,
         "model": "Samsung SSD 980 PRO 1TB", "serial": "S5GXNX0W100001", "wwid": "eui.002538b111111111",
         "bus_path": "/pci0000:00/0000:00:01.2/0000:02:00.0/nvme", "sub_system": "/sys/class/block",
         "transport": "nvme"},
        {"id": "sda", "dev_path": "/dev/sda", "size": 480103981056, "io_size": 512, "sector_size": 512,
         "model": "INTEL SSDSC2KB48", "serial": "PHYS000000001", "wwid": "naa.55cd2e4150000001",
         "bus_path": "/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0", "sub_system": "/sys/class/block",
         "transport": "sata"},
    ]


def default_links(address: str) -> list[dict]:
    """The example inventory's links (bond members enp1s0f0/enp1s0f1, worker eno1/eno2) and lo."""
    last = int(address.rsplit(".", 1)[-1]) if address.rsplit(".", 1)[-1].isdigit() else 0
    links = [{"id": "lo", "index": 1, "type": "loopback", "hardwareAddr": "00:00:00:00:00:00"}]
    for index, (name, driver) in enumerate((("enp1s0f0", "ixgbe"), ("enp1s0f1", "ixgbe"),
                                            ("eno1", "igb"), ("eno2", "igb")), start=2):
        links.append({"id": name, "index": index, "type": "ether", "driver": driver,
                      "hardwareAddr": f"3c:ec:ef:{last:02x}:{index:02x}:{0x10 + index:02x}"})
    return links


def new_node(address: str) -> dict:
    """A freshly booted machine in maintenance mode (no config, no etcd)."""
    return {
        "address": address, "stage": "maintenance", "config": None, "persistent_config": None,
        "try_rollback_at": None, "try_rollback_config": None,
        "machine_type": None, "cluster_name": None, "endpoint": None, "hostname": None, "machine_ca_sha256": None,
        "etcd": None, "etcd_member": False, "etcd_leader": False, "etcd_left": False, "stale_member": None,
        "configured_at": None, "bootstrapped_at": None, "apply_count": 0, "boot_id": str(uuid.uuid4()),
        "rebooting_until": None, "upgrade_to": None, "apply_rebooted": False, "k8s_registered": False,
        "kubelet_resync": False,
        "ready_after": 0.0, "unreachable": False, "hang_seconds": 0.0, "talos_version": DEFAULT_TALOS_VERSION,
        "installer_image": f"{DEFAULT_INSTALLER}:{DEFAULT_TALOS_VERSION}", "reboot_seconds": None,
        "disks": default_disks(), "links": default_links(address), "k8s_ready": False,
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
        refresh(state)
        yield state
        refresh(state)
        if json.dumps(state, sort_keys=True) != before:
            save(world, state)
            watch_quorum(world, state)
            talos_reboots.watch_reboots(world, json.loads(before), state)


def is_rebooting(node: dict, now: float | None = None) -> bool:
    """True while a reboot keeps the machine off the network."""
    return node.get("rebooting_until") is not None and (now or time.time()) < node["rebooting_until"]


def is_ready(node: dict, now: float | None = None) -> bool:
    """A configured node is ready (apid up, bootstrap allowed) ready_after seconds after its boot."""
    if node["stage"] == "maintenance" or node["configured_at"] is None or is_rebooting(node, now):
        return False
    return (now or time.time()) >= node["configured_at"] + float(node.get("ready_after") or 0)


def cluster_nodes(state: dict, cluster: str | None) -> list[dict]:
    """Configured nodes of one cluster, by address order."""
    return [n for _, n in sorted(state.items())
            if n["stage"] != "maintenance" and n["cluster_name"] == cluster]


def etcd_members(state: dict, cluster: str | None) -> list[dict]:
    """The cluster's etcd members, stale ones (wiped machines never removed) included."""
    return [n for _, n in sorted(state.items())
            if (n["etcd_member"] and n["stage"] != "maintenance" and n["cluster_name"] == cluster)
            or (n.get("stale_member") or {}).get("cluster") == cluster]


def etcd_exists(state: dict, cluster: str | None) -> bool:
    """True once any node of the cluster holds etcd data (bootstrapped or joined)."""
    return any(n["etcd_member"] for n in cluster_nodes(state, cluster))


def _etcd_state(node: dict, now: float) -> str | None:
    """Derive the etcd service state of one node."""
    if node["stage"] == "maintenance" or node["machine_type"] != "controlplane":
        return None
    if node.get("etcd_left"):
        return "Finished"
    if node["etcd_member"]:     # after a boot, etcd runs once the node is ready (ready_after)
        return "Running" if is_rebooting(node, now) or is_ready(node, now) else "Preparing"
    return "Preparing" if is_ready(node, now) else "Waiting"


def reboot_seconds(node: dict) -> float:
    """The node's reboot duration knob, else $TALOS_WORLD_REBOOT_SECONDS, else 1s."""
    if node.get("reboot_seconds") is not None:
        return float(node["reboot_seconds"])
    return float(os.environ.get("TALOS_WORLD_REBOOT_SECONDS") or DEFAULT_REBOOT_SECONDS)


def begin_reboot(node: dict, now: float | None = None) -> None:
    """The machine goes down now and comes back reboot_seconds later (see _finish_reboot)."""
    node["rebooting_until"] = (now or time.time()) + reboot_seconds(node)


def _finish_reboot(node: dict, now: float) -> None:
    """Back up: the persistent config becomes active, a staged upgrade becomes the running version."""
    from tests.world import talos_config as tc

    node.update(rebooting_until=None, apply_rebooted=False, boot_id=str(uuid.uuid4()), try_rollback_at=None)
    if node.get("upgrade_to"):
        node.update(talos_version=node["upgrade_to"], upgrade_to=None)
    if node.get("k8s_registered"):
        node["kubelet_resync"] = True
    if node["stage"] != "maintenance" and node.get("persistent_config"):
        set_active_config(node, tc.parse(node["persistent_config"].encode()))
        node["configured_at"] = now


def set_active_config(node: dict, cfg) -> None:
    """Make `cfg` (a talos_config.MachineConfig) the active config and record its facts."""
    address = node["address"]
    node.update(config=cfg.text, machine_type=cfg.machine.get("type"), cluster_name=cfg.cluster.get("clusterName"),
                endpoint=(cfg.cluster.get("controlPlane") or {}).get("endpoint"),
                hostname=cfg.hostname() or f"talos-{address.replace('.', '-').replace(':', '-')}",
                machine_ca_sha256=cfg.machine_ca_sha256())
    if node["stage"] == "maintenance":
        node.update(stage="configured", configured_at=time.time())


def refresh(state: dict, now: float | None = None) -> None:
    """Recompute derived fields: finished reboots, try-mode rollbacks, etcd joins and leaders."""
    from tests.world import talos_config as tc

    now = now or time.time()
    for node in state.values():
        if node.get("rebooting_until") is not None and now >= node["rebooting_until"]:
            _finish_reboot(node, now)
        if node.get("try_rollback_at") is not None and now >= node["try_rollback_at"]:
            set_active_config(node, tc.parse(node["try_rollback_config"].encode()))
            node.update(try_rollback_at=None, try_rollback_config=None)
    for node in state.values():
        if (node["machine_type"] == "controlplane" and is_ready(node, now) and not node["etcd_member"]
                and not node.get("etcd_left") and not node.get("stale_member")
                and etcd_exists(state, node["cluster_name"])):
            node["etcd_member"] = True
        node["etcd"] = _etcd_state(node, now)
    _elect_leaders(state, now)


def _elect_leaders(state: dict, now: float) -> None:
    """One etcd leader per cluster among the members that run: the current one, else the first."""
    for cluster in {n["cluster_name"] for n in state.values() if n["etcd_member"]}:
        members = [n for n in etcd_members(state, cluster) if n["etcd_member"]]
        running = [n for n in members if not n.get("unreachable") and not is_rebooting(n, now)]
        if any(n.get("etcd_leader") for n in running):
            continue
        for node in members:
            node["etcd_leader"] = False
        if running:
            running[0]["etcd_leader"] = True


def members_down(state: dict, cluster: str, now: float | None = None) -> tuple[list[str], list[str]]:
    """(every etcd member's address, those whose etcd does not answer: off, rebooting or stopped)."""
    members = etcd_members(state, cluster)
    down = [n["address"] for n in members if not n["etcd_member"] or n.get("unreachable")
            or is_rebooting(n, now) or n["etcd"] != "Running"]
    return [n["address"] for n in members], down


def quorum_episodes(world: Path) -> list[dict]:
    """Every time a cluster's etcd lost quorum ({cluster, members, down, at}), oldest first."""
    return talos_reboots.records(world, QUORUM_FILE)


def watch_quorum(world: Path, state: dict) -> None:
    """Record a loss of quorum (raft needs len(members)/2 + 1 members answering), once per episode."""
    episodes = quorum_episodes(world)
    for cluster in sorted({n["cluster_name"] for n in state.values() if n["etcd_member"]}):
        members, down = members_down(state, cluster)
        if len(members) - len(down) >= len(members) // 2 + 1:
            continue
        last = next((e for e in reversed(episodes) if e["cluster"] == cluster), None)
        if last is None or last["down"] != down:
            episodes.append({"cluster": cluster, "members": members, "down": down, "at": time.time()})
            (Path(world) / QUORUM_FILE).write_text(json.dumps(episodes, indent=1) + "\n")


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
