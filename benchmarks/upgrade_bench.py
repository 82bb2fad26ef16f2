"""A rolling Talos upgrade of the example inventory (3 control planes + 1 worker) in the simulated
cluster, and the no-op rerun after it. The nodes are set to run an older Talos than talosVersion
(as after an edit of talosVersion), then `doit bootstrap` rolls them one at a time.

    python3 benchmarks/upgrade_bench.py [--rounds N] [--reboot-seconds S]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.noop_floor_bench import bootstrapped, timed  # noqa: E402
from tests.world import talos_kube, talos_state  # noqa: E402

OLD = "v1.13.8"


def installed_at(world_dir: Path, addresses: list[str], version: str) -> None:
    """As if every node had been installed at `version`; kubelets post the version they run."""
    for address in addresses:
        talos_state.set_node(world_dir, address, talos_version=version, kubelet_resync=True)
    talos_kube.resync_kubelets(world_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reboot-seconds", default="1")
    args = parser.parse_args()
    os.environ["TALOS_WORLD_REBOOT_SECONDS"] = args.reboot_seconds
    with tempfile.TemporaryDirectory(prefix="upgrade-bench-") as base:
        project, world, env = bootstrapped(Path(base), 4)
        try:
            report(*measure(project, world, env, args.rounds), args.reboot_seconds)
        finally:
            world.stop()


def measure(project, world, env, rounds: int) -> tuple[list[float], list[float], list[int], int]:
    """(roll seconds, no-op seconds, upgrade calls per round, node count) over the rounds."""
    addresses = [n["address"] for n in project.read_yaml("bootstrap/values/talos.yaml")["nodes"]]
    bootstrap = [sys.executable, "-m", "doit", "bootstrap"]
    rolls, noops, calls = [], [], []
    for _ in range(rounds):
        installed_at(world.dir, addresses, OLD)
        before = len(world.calls())
        rolls.append(timed(bootstrap, project, env))
        calls.append(sum(1 for c in world.calls()[before:] if c["mutating"] and "upgrade" in c["argv"]))
        noops.append(timed(bootstrap, project, env))
    return rolls, noops, calls, len(addresses)


def report(rolls: list[float], noops: list[float], calls: list[int], nodes: int, reboot: str) -> None:
    """Print the medians."""
    med = statistics.median
    print(f"rolling upgrade of {nodes} nodes ({reboot}s reboots), {len(rolls)} rounds, medians")
    print(f"  roll {OLD} -> talosVersion: {med(rolls):6.1f} s ({med(rolls) / nodes:.1f} s per node), "
          f"talosctl upgrade calls per round: {calls}")
    print(f"  no-op rerun after it:       {med(noops):6.1f} s")


if __name__ == "__main__":
    main()
