"""Benchmark `doit render`: cold, no-op and one-edit renders of the example, and cold renders of
3, 30 and 100-node inventories, next to `doit list` (doit's start-up floor). Prints figures.

    python3 benchmarks/render_bench.py [--runs N]

Runs in throw-away copies of the project; schemas come from ../shared/schemas when present
(BOOTSTRAP_SCHEMA_MIRROR may name a folder), otherwise the upstream checks are skipped offline.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.project import SHARED, Project  # noqa: E402


def timed(project: Project, *args: str) -> float:
    """Seconds one doit invocation takes (it must succeed)."""
    start = time.perf_counter()
    result = project.doit(*args)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"doit {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def fresh(base: Path, name: str) -> Project:
    """A new copy of the project without build/ or doit state."""
    return Project.copy(base / name)


def inventory(count: int) -> list[dict]:
    """count nodes (3 control planes, the rest workers) on addresses outside the LB pool."""
    free = [str(ipaddress.ip_address("10.0.48.0") + i) for i in list(range(2, 50)) + list(range(201, 255))]
    free = [a for a in free if a != "10.0.48.55"]
    if count > len(free):
        raise SystemExit(f"at most {len(free)} nodes fit beside the LB pool")
    return [{"name": f"{'cp' if i < 3 else 'worker'}-{i + 1}", "role": "controlplane" if i < 3 else "worker",
             "address": free[i], "installDisk": "/dev/sda"} for i in range(count)]


def median(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    if (SHARED / "schemas").is_dir():
        os.environ.setdefault("BOOTSTRAP_SCHEMA_MIRROR", str(SHARED / "schemas"))
    base = Path(tempfile.mkdtemp(prefix="render-bench-"))
    os.environ["BOOTSTRAP_SCHEMA_CACHE"] = str(base / "schema-cache")
    try:
        example = fresh(base, "example")
        timed(example, "render")            # warm the schema cache and the OS file cache
        cold, noop, edit, listing = [], [], [], []
        for i in range(runs):
            shutil.rmtree(example.path("build"))
            example.path(".doit.db").unlink()
            cold.append(timed(example, "render"))
            noop.append(timed(example, "render"))
            listing.append(timed(example, "list"))
            cilium = example.read_yaml("bootstrap/values/cilium.yaml")
            cilium["bgp"]["timers"]["holdTimeSeconds"] = 90 + i + 1
            example.write_yaml("bootstrap/values/cilium.yaml", cilium)
            edit.append(timed(example, "render"))
        print(f"example ({runs} runs, median)")
        print(f"  doit list          {median(listing)}   (start-up floor)")
        print(f"  cold render        {median(cold)}")
        print(f"  no-op render       {median(noop)}   ratio to doit list: "
              f"{statistics.median(noop) / statistics.median(listing):.2f}x (target <= 1.5x)")
        print(f"  one-edit render    {median(edit)}   (cilium.yaml)")
        print("cold render by inventory size")
        previous = None
        for count in (3, 30, 100):
            project = fresh(base, f"nodes-{count}")
            talos = project.read_yaml("bootstrap/values/talos.yaml")
            talos["nodes"] = inventory(count)
            project.write_yaml("bootstrap/values/talos.yaml", talos)
            timed(project, "render")          # warm-up: caches, .pyc files; not counted
            timings, lists = [], []
            for _ in range(runs):
                shutil.rmtree(project.path("build"), ignore_errors=True)
                project.path(".doit.db").unlink(missing_ok=True)
                timings.append(timed(project, "render"))
                lists.append(timed(project, "list"))
            slope = ""
            if previous:
                step = (statistics.median(timings) - previous[1]) / (count - previous[0]) * 1000
                slope = f"   +{step:4.1f} ms per added node"
            print(f"  {count:3d} nodes  render {median(timings)}   doit list {median(lists)}{slope}")
            previous = (count, statistics.median(timings))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
