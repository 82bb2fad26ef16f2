"""The simulated cluster from the command line, and the project's helmfiles against it."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import yaml

from tests.project import REPO_ROOT, Project, require_shared


def _world(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.world", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


def _sourced(world_dir, command: str, cwd=REPO_ROOT) -> subprocess.CompletedProcess:
    """Run a shell command after `. DIR/env`, in the repository root (or cwd)."""
    return subprocess.run(["bash", "-c", f". {world_dir}/env && {command}"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"})


def test_start_env_calls_and_stop_leave_no_process(tmp_path):
    """start writes DIR/env; every tool resolves into the world and is logged; stop leaves nothing."""
    world_dir = tmp_path / "world"
    started = time.monotonic()
    assert _world("start", str(world_dir)).returncode == 0
    assert time.monotonic() - started < 15
    try:
        for tool in ("talosctl", "op", "kubectl", "helm", "helmfile"):
            where = _sourced(world_dir, f"command -v {tool}").stdout.strip()
            assert where == str(world_dir / "bin" / tool)
        assert _sourced(world_dir, "op whoami && talosctl version --client && helm version --short").returncode == 0
        admin_kubeconfig = yaml.safe_load((world_dir / "apiserver.json").read_text())["kubeconfig"]
        listed = _sourced(world_dir, f"kubectl --kubeconfig {admin_kubeconfig} get namespace kube-system")
        assert listed.returncode == 0, listed.stderr
        tools = [yaml.safe_load(line)["tool"] for line in (world_dir / "calls.jsonl").read_text().splitlines()]
        assert {"op", "talosctl", "helm", "kubectl"} <= set(tools)
        pid = yaml.safe_load((world_dir / "apiserver.json").read_text())["pid"]
    finally:
        assert _world("stop", str(world_dir)).returncode == 0
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()


def test_start_uses_the_real_charts_when_shared_has_them(tmp_path):
    """DIR/env points BOOTSTRAP_CHART_SOURCE at ../shared/charts; --charts stand-in writes stand-ins."""
    charts = require_shared("charts")
    real, stand_in = tmp_path / "real", tmp_path / "stand-in"
    assert _world("start", str(real)).returncode == 0
    assert _world("start", "--charts", "stand-in", str(stand_in)).returncode == 0
    try:
        assert f"BOOTSTRAP_CHART_SOURCE={charts}\n" in (real / "env").read_text()
        assert not (real / "charts").exists()
        assert f"BOOTSTRAP_CHART_SOURCE={stand_in / 'charts'}\n" in (stand_in / "env").read_text()
        assert (stand_in / "charts" / "cilium-1.19.4" / "Chart.yaml").is_file()
    finally:
        _world("stop", str(real))
        _world("stop", str(stand_in))


def test_crd_helmfile_renders_offline_without_envoy_gateway(tmp_path):
    """The requirements' step-3 command, as written, after `doit render` in the world's environment
    (its chart source: the real charts), in a copy of the project (no network)."""
    world_dir, project = tmp_path / "world", Project.copy(tmp_path / "repo")
    assert _world("start", str(world_dir)).returncode == 0
    try:
        result = _sourced(world_dir, f"{sys.executable} -m doit render >/dev/null && helmfile -f "
                                     "bootstrap/helmfile.d/00-crds.yaml template --selector name!=envoy-gateway",
                          cwd=project.root)
    finally:
        _world("stop", str(world_dir))
    assert result.returncode == 0, result.stderr
    crds = [d for d in yaml.safe_load_all(result.stdout) if d and d.get("kind") == "CustomResourceDefinition"]
    names = {d["metadata"]["name"] for d in crds}
    assert "clustersecretstores.external-secrets.io" in names and "fluxinstances.fluxcd.controlplane.io" in names
    assert not any(n.endswith("gateway.envoyproxy.io") for n in names)
