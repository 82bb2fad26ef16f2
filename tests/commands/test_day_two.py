"""Day two through the same chain, end to end in a simulated cluster of its own (3 control planes and
a worker, the shipped inventory): Talos and Kubernetes version edits roll through, interrupted rolls
resume, a node that does not come back stops the roll, nodes outside the inventory are reported and
removed only on request. The tests run in file order, each leaving the cluster converged."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.commands.conftest import Cluster
from tests.project import Project
from tests.world import talos_kube as tk
from tests.world import talos_state as st
from tests.world.world import World

OLD, NEW = "v1.13.8", "v1.13.9"
CPS = ["10.0.48.11", "10.0.48.12", "10.0.48.13"]
WORKER = "10.0.48.21"
ORDER = [*CPS, WORKER]


@pytest.fixture(scope="module")
def day2(tmp_path_factory, schema_env):
    """A cluster of its own, bootstrapped once for this module (the shared one keeps its order)."""
    base = tmp_path_factory.mktemp("day2")
    project = Project.copy(base / "repo")
    world = World(base / "world", project.root).start()
    env = {**schema_env, **world.env(), "BOOTSTRAP_TIMEOUT_FLUX": "60", "BOOTSTRAP_TIMEOUT_NODES": "60",
           "TALOS_WORLD_REBOOT_SECONDS": "0.5"}
    cluster = Cluster(project, world, env)
    first = cluster.bootstrap()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    yield cluster
    world.stop()


def installed_at(cluster: Cluster, version: str, addresses=ORDER) -> None:
    """As if the nodes had been installed at `version` (the settings then say NEW: an edit of
    talosVersion); their kubelets post the version they booted."""
    for address in addresses:
        st.set_node(cluster.world.dir, address, talos_version=version, kubelet_resync=True)
    tk.resync_kubelets(cluster.world.dir)


def upgrades(calls: list[dict]) -> list[str]:
    """The node of every `talosctl upgrade` call, in order."""
    return [c["argv"][c["argv"].index("-n") + 1] for c in calls
            if c["tool"] == "talosctl" and "upgrade" in c["argv"] and c["mutating"]]


def plan(cluster: Cluster) -> str:
    result = cluster.project.doit("plan", env=cluster.env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def stage_line(out: str, name: str) -> str:
    """The plan's line for a stage, its padding squeezed."""
    line = next(line for line in out.splitlines() if line.startswith(name + " "))
    return " ".join(line.split())


def versions_of(cluster: Cluster) -> dict[str, str]:
    return {a: st.get_node(cluster.world.dir, a)["talos_version"] for a in ORDER}


def test_plan_shows_each_nodes_versions_next_to_the_settings(day2):
    out = plan(day2)
    assert "versions (settings want Talos v1.13.9, Kubernetes v1.34.1):" in out
    assert "  cp-1      Talos v1.13.9, kubelet v1.34.1, kube-apiserver v1.34.1" in out
    assert stage_line(out, "talos-upgrade") == "talos-upgrade up to date: every configured node runs Talos v1.13.9"
    assert stage_line(out, "kubernetes-upgrade") == ("kubernetes-upgrade up to date: control plane and kubelets run "
                                                     "Kubernetes v1.34.1")


def test_talos_version_edit_rolls_control_planes_first_one_at_a_time(day2):
    installed_at(day2, OLD)
    before = plan(day2)
    assert stage_line(before, "talos-upgrade").startswith(
        "talos-upgrade would run: upgrade to Talos v1.13.9: cp-1 runs v1.13.8, cp-2 runs v1.13.8")
    assert "  worker-1  Talos v1.13.8 -> v1.13.9" in before
    episodes = len(st.quorum_episodes(day2.world.dir))
    result = day2.bootstrap(timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert upgrades(day2.new_mutating()) == ORDER
    assert versions_of(day2) == dict.fromkeys(ORDER, NEW)
    assert st.quorum_episodes(day2.world.dir)[episodes:] == []      # never two control planes down
    again = day2.bootstrap()
    assert again.returncode == 0 and day2.new_mutating() == []
    assert "would run" not in plan(day2)
