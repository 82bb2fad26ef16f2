"""Reboot watch: every reboot a machine begins (an apply that needs one, an upgrade, a reset with
--reboot) is appended to DIR/reboots.json with the other nodes of its cluster that were down at that
moment: rebooting, cut off, or, for a control plane, its etcd not running. A test then asserts that a
roll took each node down only once the one before it was back. This is the world watching itself,
like the quorum watch in talos_state.py; no Talos behaviour is modelled here."""
from __future__ import annotations

import json
import time
from pathlib import Path

REBOOTS_FILE = "reboots.json"


def records(world: Path, name: str) -> list:
    """A record file of the world's watches (a JSON list), empty before its first entry."""
    try:
        return json.loads((Path(world) / name).read_text())
    except FileNotFoundError:
        return []


def reboot_episodes(world: Path) -> list[dict]:
    """Every reboot begun ({address, cluster, at, down}), oldest first."""
    return records(world, REBOOTS_FILE)


def _down(node: dict, now: float) -> bool:
    """The node does not answer, or (a control plane) its etcd does not run."""
    from tests.world import talos_state as st
    return bool(node.get("unreachable")) or st.is_rebooting(node, now) or (
        node["machine_type"] == "controlplane" and node["etcd"] != "Running")


def watch_reboots(world: Path, before: dict, state: dict) -> None:
    """Record the reboots begun by this state change (a new rebooting_until in the future)."""
    from tests.world import talos_state as st
    now = time.time()
    begun = [n for a, n in sorted(state.items()) if st.is_rebooting(n, now)
             and n["rebooting_until"] != (before.get(a) or {}).get("rebooting_until")]
    if not begun:
        return
    episodes = reboot_episodes(world)
    for node in begun:
        others = [n["address"] for n in st.cluster_nodes(state, node["cluster_name"])
                  if n["address"] != node["address"] and _down(n, now)]
        episodes.append({"address": node["address"], "cluster": node["cluster_name"], "at": now, "down": others})
    (Path(world) / REBOOTS_FILE).write_text(json.dumps(episodes, indent=1) + "\n")
