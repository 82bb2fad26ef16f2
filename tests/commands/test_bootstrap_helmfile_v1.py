"""A fresh bootstrap with helmfile in v1 mode (HELMFILE_V1MODE=true reproduces helmfile v1, which
templates only *.gotmpl files): it passes and makes the same mutating calls in the same order as the
shared v0 cluster's first run."""
from __future__ import annotations

from tests.commands.conftest import Cluster
from tests.project import Project
from tests.world.world import World


def _signature(calls: list[dict]) -> list[str]:
    """Tool, verb and target of each mutating call (paths and ports differ between worlds)."""
    out = []
    for call in (c for c in calls if c["mutating"]):
        argv = [a for a in call["argv"] if not a.startswith(("/", "--talosconfig", "--kubeconfig", "--helm-binary"))]
        words = [a for a in argv if a in ("apply-config", "bootstrap", "apply", "sync", "upgrade", "install")
                 or a.startswith("name=") or a.startswith("10.0.48.")]
        out.append(f"{call['tool']} {' '.join(words)}")
    return out


def test_helmfile_v1_mode_bootstraps_with_the_same_calls(tmp_path_factory, schema_env, cluster):
    base = tmp_path_factory.mktemp("v1")
    project = Project.copy(base / "repo")
    world = World(base / "world", project.root).start()
    try:
        env = {**schema_env, **world.env(), "HELMFILE_V1MODE": "true", "BOOTSTRAP_TIMEOUT_FLUX": "60",
               "BOOTSTRAP_TIMEOUT_NODES": "60"}
        v1 = Cluster(project, world, env)
        result = v1.bootstrap()
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert _signature(world.calls()) == _signature(cluster.first_calls)
        assert v1.bootstrap().returncode == 0 and v1.new_mutating() == []
    finally:
        world.stop()
