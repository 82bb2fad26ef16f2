"""The no-op `doit bootstrap` next to its floor, measured side by side in one run, interleaved.

The floor is what no tool of this design can avoid on a no-op run: doit's start-up with this dodo
(`doit list`: load dodo.py, create every task) plus one batched `kubectl get` run in parallel with
the `op inject` -> `talosctl get machineconfig v1alpha1` chain (the tool's own queries). Also prints
how many `kubectl get` calls a one-edit bootstrap makes, and how the no-op and its floor grow from 3
to 100 nodes.

    python3 benchmarks/noop_floor_bench.py [--pairs N] [--nodes 3,100]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.render_bench import inventory  # noqa: E402
from tests.project import SHARED, Project  # noqa: E402
from tests.world.world import World  # noqa: E402

def floor_script(project: Project) -> str:
    """The floor as one bash command run in the project: the same kinds the tool asks for."""
    import json
    from tasks.facts import kinds
    talos = project.read_yaml("bootstrap/values/talos.yaml")
    nodes = ",".join(n["address"] for n in talos["nodes"])
    asked = [*kinds.BASE, *json.loads(project.path("build/api-kinds.json").read_text())]
    names = ",".join(kinds.type_name(k) for k in asked)
    return (f"{sys.executable} -m doit list >/dev/null && "
            f"{{ kubectl --kubeconfig build/kubeconfig get {names} -A -l 'status!=superseded' -o json "
            f"--request-timeout=10s >/dev/null & "
            f"talosctl --talosconfig <(op inject -i build/talos/talosconfig.yaml) get machineconfig v1alpha1 -n {nodes} "
            f"-o json >/dev/null; wait; }}")


def timed(argv: list[str], project: Project, env: dict, timeout: float = 600) -> float:
    """Seconds one command takes (it must succeed within timeout)."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=project.root, env=env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def bootstrapped(base: Path, count: int) -> tuple[Project, World, dict]:
    """A project with `count` nodes and its world, bootstrapped once."""
    import os
    project = Project.copy(base / f"repo-{count}")
    if count != 4:
        talos = project.read_yaml("bootstrap/values/talos.yaml")
        talos["nodes"] = inventory(count)
        project.write_yaml("bootstrap/values/talos.yaml", talos)
    world = World(base / f"world-{count}", project.root).start()
    env = {**os.environ, **world.env(), "BOOTSTRAP_SCHEMA_CACHE": str(base / "schemas")}
    # As on an operator's machine: Python keeps its bytecode (a sandbox's PYTHONDONTWRITEBYTECODE
    # would make every run compile the modules it imports, the no-op more of them than `doit list`).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if (SHARED / "schemas").is_dir():
        env["BOOTSTRAP_SCHEMA_MIRROR"] = str(SHARED / "schemas")
    try:
        fresh = timed([sys.executable, "-m", "doit", "bootstrap"], project, env, timeout=3600)
    except BaseException:
        world.stop()                # not yet in the caller's list of worlds to stop
        raise
    print(f"  fresh bootstrap with {count:3d} nodes: {fresh:6.1f} s", flush=True)
    return project, world, env


def side_by_side(project: Project, env: dict, pairs: int) -> tuple[list[float], list[float]]:
    """Interleaved (floor, no-op) timings, alternating which goes first."""
    floor, noop = [], []
    bootstrap = [sys.executable, "-m", "doit", "bootstrap"]
    script = ["bash", "-c", floor_script(project)]
    for i in range(pairs + 1):
        order = [(script, floor), (bootstrap, noop)]
        for argv, into in (order if i % 2 else order[::-1]):
            seconds = timed(argv, project, env)
            if i:                      # the first pair warms caches and is not counted
                into.append(seconds)
    return floor, noop


def kubectl_gets_of_one_edit(project: Project, world: World, env: dict) -> tuple[int, int]:
    """(kubectl get calls, mutating calls) of a bootstrap after one cilium.yaml edit."""
    cilium = project.read_yaml("bootstrap/values/cilium.yaml")
    cilium["values"] = {"operator": {"replicas": 1}}
    project.write_yaml("bootstrap/values/cilium.yaml", cilium)
    before = len(world.calls())
    timed([sys.executable, "-m", "doit", "bootstrap"], project, env)
    calls = world.calls()[before:]
    gets = [c for c in calls if c["tool"] == "kubectl" and "get" in c["argv"]]
    return len(gets), sum(1 for c in calls if c["mutating"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--nodes", default="3,100")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="noop-floor-bench-"))
    worlds = []
    try:
        project, world, env = bootstrapped(base, 4)
        worlds.append(world)
        floor, noop = side_by_side(project, env, args.pairs)
        med = statistics.median
        ratios = [n / f for f, n in zip(floor, noop)]
        print(f"example (4 nodes), {args.pairs} interleaved pairs, medians")
        print(f"  floor (doit list + kubectl get | op inject -> talosctl get)  {med(floor) * 1000:6.0f} ms")
        print(f"  no-op doit bootstrap                                       {med(noop) * 1000:6.0f} ms")
        print(f"  ratio no-op / floor: {med(noop) / med(floor):.2f}x of the medians, "
              f"{med(ratios):.2f}x median of the pairs (target <= 1.2x)")
        gets, mutating = kubectl_gets_of_one_edit(project, world, env)
        print(f"  one-edit bootstrap (cilium.yaml values): {gets} kubectl get call(s), {mutating} mutating "
              f"(target <= 2 gets)")
        counts = [int(c) for c in args.nodes.split(",")]
        by_size = {}
        for count in counts:
            project, world, env = bootstrapped(base, count)
            worlds.append(world)
            floor, noop = side_by_side(project, env, args.pairs)
            by_size[count] = (med(floor), med(noop))
            print(f"  {count:3d} nodes: floor {med(floor) * 1000:6.0f} ms, no-op {med(noop) * 1000:6.0f} ms "
                  f"(the tool's own part {(med(noop) - med(floor)) * 1000:5.0f} ms)", flush=True)
        if len(counts) > 1:
            low, high = counts[0], counts[-1]
            slope = [(by_size[high][i] - by_size[low][i]) / (high - low) * 1000 for i in (0, 1)]
            print(f"  growth {low} -> {high} nodes, per node: no-op {slope[1]:.2f} ms, floor {slope[0]:.2f} ms "
                  f"(kubectl and the simulated talosctl), the tool's own part {slope[1] - slope[0]:.2f} ms "
                  f"(target <= 1 ms)")
    finally:
        for world in worlds:
            world.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
