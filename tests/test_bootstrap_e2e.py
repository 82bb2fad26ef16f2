"""`doit bootstrap` end to end in the simulated cluster: real kubectl/helm/helmfile, fake API,
fake talosctl and op. Each test gets its own project copy and world."""
from __future__ import annotations

import pytest

from tests.project import Project, executed_tasks
from tests.world.world import CANARY, World

pytest.importorskip("tests.world.apiserver")

ORDER = ["talosctl apply-config", "talosctl bootstrap", "kubectl apply", "helmfile sync"]


@pytest.fixture
def bootstrapped(tmp_path, schema_env):
    """A project copy bootstrapped once in a fresh world; yields (project, world, env, result)."""
    project = Project.copy(tmp_path / "repo")
    world = World(tmp_path / "world", project.root).start()
    env = {**schema_env, **world.env(), "BOOTSTRAP_TIMEOUT_FLUX": "60", "BOOTSTRAP_TIMEOUT_NODES": "60"}
    result = project.doit("bootstrap", env=env, timeout=600)
    yield project, world, env, result
    world.stop()


def _summary(call: dict) -> str:
    argv = [a for a in call["argv"] if not a.startswith("-")]
    return f"{call['tool']} {' '.join(argv[:3])}"


def test_fresh_cluster_reaches_flux(bootstrapped):
    """Exit 0, mutating calls in the required order, exactly one bootstrap, Flux Ready."""
    project, world, env, result = bootstrapped
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = world.mutating()
    bootstraps = [c for c in mutating if c["tool"] == "talosctl" and "bootstrap" in c["argv"]]
    assert len(bootstraps) == 1
    syncs = [c for c in mutating if c["tool"] == "helmfile"]
    released = [next(a.split("=", 1)[1] for a in c["argv"] if a.startswith("name=")) for c in syncs]
    assert released == ["cilium", "coredns", "spegel", "cert-manager", "external-secrets", "onepassword-connect",
                        "kube-vip", "flux-operator", "flux-instance"]
    first_sync = mutating.index(syncs[0])
    assert mutating.index(bootstraps[0]) < first_sync
    applies_before = [c for c in mutating[:first_sync] if c["tool"] == "kubectl"]
    assert len(applies_before) >= 2          # resources, then CRDs
    plan = project.doit("plan", env=env)
    assert "flux-ready" in plan.stdout and "would run" not in plan.stdout, plan.stdout


def test_rerun_and_lost_state_change_nothing(bootstrapped):
    """An immediate rerun, and a rerun after deleting doit's state, make zero mutating calls."""
    project, world, env, result = bootstrapped
    assert result.returncode == 0, result.stderr[-3000:]
    before = len(world.calls())
    again = project.doit("bootstrap", env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert [c for c in world.calls()[before:] if c["mutating"]] == []
    project.path(".doit.db").unlink()
    before = len(world.calls())
    third = project.doit("bootstrap", env=env)
    assert third.returncode == 0, third.stderr[-3000:]
    assert [_summary(c) for c in world.calls()[before:] if c["mutating"]] == []


def test_cilium_edit_reruns_only_the_cilium_release(bootstrapped):
    """Editing cilium.yaml: the only mutating calls are the Cilium release's."""
    project, world, env, result = bootstrapped
    assert result.returncode == 0, result.stderr[-3000:]
    cilium = project.read_yaml("bootstrap/values/cilium.yaml")
    cilium["values"] = {"operator": {"replicas": 1}}
    project.write_yaml("bootstrap/values/cilium.yaml", cilium)
    before = len(world.calls())
    rerun = project.doit("bootstrap", env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    mutating = [c for c in world.calls()[before:] if c["mutating"]]
    assert mutating and all("cilium" in " ".join(c["argv"]) for c in mutating), [_summary(c) for c in mutating]
    assert "release-cilium" in executed_tasks(rerun.stdout)


def test_canary_secret_never_on_disk_or_in_output(bootstrapped):
    """The fake 1Password's canary value appears in no file under build/, the doit state or output."""
    project, world, env, result = bootstrapped
    assert result.returncode == 0, result.stderr[-3000:]
    assert CANARY not in result.stdout + result.stderr
    for path in [*project.path("build").rglob("*"), project.path(".doit.db")]:
        if path.is_file():
            assert CANARY not in path.read_text(errors="replace"), path


def test_invalid_values_make_no_mutating_call(tmp_path, schema_env):
    """A guard violation stops the run before any cluster call that changes something."""
    project = Project.copy(tmp_path / "repo")
    world = World(tmp_path / "world", project.root).start()
    try:
        settings = project.read_yaml("bootstrap/values/kube-vip.yaml")
        settings["services"]["enabled"] = True
        project.write_yaml("bootstrap/values/kube-vip.yaml", settings)
        result = project.doit("bootstrap", env={**schema_env, **world.env()})
        assert result.returncode != 0
        assert "kube-vip-control-plane-only" in result.stdout + result.stderr
        assert world.mutating() == []
    finally:
        world.stop()
