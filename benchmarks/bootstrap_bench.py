"""Benchmark `doit bootstrap` in the simulated cluster and print figures: the full bootstrap, the
no-op rerun (and how many cluster queries it makes), a one-edit rerun, and the same rerun done
the way existing just/Taskfile bootstraps do it (every stage re-executed unconditionally).

    python3 benchmarks/bootstrap_bench.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.project import SHARED, Project  # noqa: E402
from tests.world.world import World, admin  # noqa: E402


def timed_doit(project: Project, env: dict, *args: str) -> float:
    """Seconds one doit run takes (it must succeed)."""
    start = time.perf_counter()
    result = project.doit(*args, env=env, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"doit {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def shell(project: Project, env: dict, command: str) -> None:
    """One step of a just/Taskfile-style recipe (bash, pipefail); failures the recipes tolerate pass."""
    start = time.perf_counter()
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=project.root, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900)
    if os.environ.get("BENCH_VERBOSE"):
        print(f"    {time.perf_counter() - start:5.2f} s exit {done.returncode}: {command[:70]}  "
              f"{done.stderr.strip().splitlines()[-1:] if done.returncode else ''}")


def unconditional_rerun(project: Project, env: dict, world: World) -> float:
    """Every stage again, as the existing recipes do it: no up-to-date checks at all."""
    talos = project.read_yaml("bootstrap/values/talos.yaml")
    first = next(n for n in talos["nodes"] if n["role"] == "controlplane")["address"]
    tc = "--talosconfig <(op inject -i build/talos/talosconfig.yaml)"
    ssa = "--kubeconfig build/kubeconfig apply --server-side --force-conflicts --field-manager=talos-flux-bootstrap"
    steps = [f"op inject -i build/talos/{n['name']}.yaml | talosctl apply-config --insecure -n {n['address']} "
             "-f /dev/stdin" for n in talos["nodes"]]      # fails with "certificate required": ignored
    steps += [f"talosctl {tc} bootstrap -n {first}",       # AlreadyExists: ignored
              f"talosctl {tc} kubeconfig build/.bench-kubeconfig -n {first} --force",
              f"op inject -i bootstrap/resources.yaml | kubectl {ssa} -f -",
              f"helmfile -f bootstrap/helmfile.d/00-crds.yaml template -q --selector name!=envoy-gateway | kubectl {ssa} -f -",
              "KUBECONFIG=$PWD/build/kubeconfig helmfile -f bootstrap/helmfile.d/01-apps.yaml sync",
              f"kubectl {ssa} -f build/manifests/",
              "kubectl --kubeconfig build/kubeconfig -n flux-system wait kustomization/flux-system "
              "--for=condition=Ready --timeout=300s"]
    start = time.perf_counter()
    for step in steps:
        shell(project, env, step)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    base = Path(tempfile.mkdtemp(prefix="bootstrap-bench-"))
    world = None
    try:
        project = Project.copy(base / "repo")
        world = World(base / "world", project.root)
        started = time.perf_counter()
        world.start()
        world_start = time.perf_counter() - started
        env = {**world.env(), "BOOTSTRAP_SCHEMA_CACHE": str(base / "schemas")}
        if (SHARED / "schemas").is_dir():
            env["BOOTSTRAP_SCHEMA_MIRROR"] = str(SHARED / "schemas")
        full = timed_doit(project, env, "bootstrap")
        noop, queries, api_requests = [], [], []
        for _ in range(runs):
            calls_before = len(world.calls())
            admin(world, "DELETE", "requests")
            noop.append(timed_doit(project, env, "bootstrap"))
            new_calls = world.calls()[calls_before:]
            assert not any(c["mutating"] for c in new_calls), "a no-op rerun changed the cluster"
            queries.append(len(new_calls))
            api_requests.append(admin(world, "GET", "requests/count")["count"])
        edits = []
        for i in range(runs):
            cilium = project.read_yaml("bootstrap/values/cilium.yaml")
            cilium["values"] = {"operator": {"replicas": 1 + (i % 2)}}
            project.write_yaml("bootstrap/values/cilium.yaml", cilium)
            edits.append(timed_doit(project, env, "bootstrap"))
        unconditional = [unconditional_rerun(project, env, world) for _ in range(runs)]
        med = statistics.median
        print(f"simulated cluster: {len(project.read_yaml('bootstrap/values/talos.yaml')['nodes'])} nodes, "
              f"9 releases ({world.charts} charts); world start {world_start:.2f} s; medians of {runs} runs")
        print(f"  full bootstrap (fresh cluster)        {full:7.2f} s")
        print(f"  no-op rerun                           {med(noop):7.2f} s   (target < 2 s)")
        print(f"  cluster queries in a no-op rerun      {med(queries):7.0f} tool calls, "
              f"{med(api_requests):.0f} API requests, 0 mutating")
        print(f"  one-edit rerun (cilium.yaml values)   {med(edits):7.2f} s")
        print(f"  unconditional rerun (just/Taskfile)   {med(unconditional):7.2f} s")
        print(f"  speed-up of the no-op rerun           {med(unconditional) / med(noop):7.1f}x (target >= 10x)")
    finally:
        if world is not None:
            world.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
