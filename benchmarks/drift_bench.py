"""Benchmark `doit check` (the drift check reads the GitOps tree as Flux does) and print figures: on the
shipped example tree, and on a generated tree of 400+ YAML files (the example's apps plus generated apps,
half of them kustomize folders built by the real `kubectl kustomize`, and a second cluster that is never
read). For each: the check run after `doit forget check` (median of --runs) and the no-op rerun, which
must execute nothing.

    python3 benchmarks/drift_bench.py [--runs N] [--apps N]

Upstream schemas are fetched from a closed loopback port (each is a warning), so no network is used.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.project import REPO_ROOT, Project, executed_tasks  # noqa: E402
from tests.world.binaries import ensure_binaries  # noqa: E402

HELMRELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: {name}
  values:
    replicas: 1
"""
OCIREPOSITORY = """apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {name}
spec:
  interval: 15m
  url: oci://ghcr.io/example/charts/{name}
  ref:
    semver: ">=1.0.0 <2.0.0"
"""
FLUX_KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: {path}
  sourceRef:
    kind: GitRepository
    name: flux-system
  targetNamespace: bench
  postBuild:
    substitute:
      APP: {name}
"""
KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - helmrelease.yaml
  - ocirepository.yaml
configMapGenerator:
  - name: {name}-values
    literals: [greeting=hello]
"""


def generate_tree(dest: Path, apps: int) -> int:
    """The example tree plus `apps` generated apps (every other one a kustomize folder) and a second
    cluster of the same size that this cluster never reconciles; returns the number of YAML files."""
    shutil.copytree(REPO_ROOT / "examples" / "home-ops", dest)
    for i in range(apps):
        name = f"app-{i:03d}"
        for root in ("kubernetes/apps/bench", "kubernetes/other-cluster/apps"):
            app = dest / root / name
            (app / "app").mkdir(parents=True)
            (app / "ks.yaml").write_text(FLUX_KS.format(name=name, path=f"./{root}/{name}/app"))
            (app / "app" / "helmrelease.yaml").write_text(HELMRELEASE.format(name=name))
            (app / "app" / "ocirepository.yaml").write_text(OCIREPOSITORY.format(name=name))
            if i % 2:
                (app / "app" / "kustomization.yaml").write_text(KUSTOMIZATION.format(name=name))
    return sum(1 for p in dest.rglob("*") if p.suffix in (".yaml", ".yml"))


def timed_check(project: Project, env: dict) -> tuple[float, list[str]]:
    """Seconds of one `doit check` (it must pass) and the tasks it executed."""
    start = time.perf_counter()
    result = project.doit("check", env=env, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"doit check failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start, executed_tasks(result.stdout)


def measure(project: Project, env: dict, runs: int) -> tuple[float, float, list[str]]:
    """Median seconds of a full check, then the no-op rerun's seconds and executed tasks."""
    full = []
    for _ in range(runs):
        project.doit("forget", "check", env=env)
        seconds, ran = timed_check(project, env)
        assert ran == ["check"], ran
        full.append(seconds)
    noop, ran = timed_check(project, env)
    return statistics.median(full), noop, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--apps", type=int, default=100)
    args = parser.parse_args()
    env = {"KUBECTL": str(ensure_binaries()["kubectl"]), "BOOTSTRAP_SCHEMA_MIRROR": "http://127.0.0.1:9"}
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.copy(Path(tmp) / "repo")
        full, noop, ran = measure(project, env, args.runs)
        print(f"example tree (examples/home-ops): doit check {full:.2f} s (median of {args.runs}); "
              f"no-op {noop:.2f} s, executed {ran or 'nothing'}")
        files = generate_tree(project.path("bench-tree"), args.apps)
        common = project.path("bootstrap/values/common.yaml")
        common.write_text(common.read_text().replace("path: examples/home-ops", "path: bench-tree"))
        full, noop, ran = measure(project, env, args.runs)
        print(f"generated tree ({files} YAML files, {args.apps} apps reconciled, {args.apps // 2} built by kubectl "
              f"kustomize, {args.apps} apps of another cluster never read): doit check {full:.2f} s "
              f"(median of {args.runs}); no-op {noop:.2f} s, executed {ran or 'nothing'}")


if __name__ == "__main__":
    main()
