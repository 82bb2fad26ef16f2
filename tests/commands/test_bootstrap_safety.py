"""Nothing lost, nothing applied that the settings do not render: node configs changed behind the
tool's back and edits made while a stage works (the shared simulated cluster)."""
from __future__ import annotations

import re

import yaml

from tests.project import executed_tasks
from tests.world import talos_state
from tests.world.shims import add_fault, clear_faults

WORKER = "10.0.48.21"


def _install_disk(config_text: str) -> str:
    """The install disk in a machine config as the node holds it."""
    return next(yaml.safe_load_all(config_text))["machine"]["install"]["disk"]


def _set_install_disk(cluster, disk: str) -> None:
    talos = cluster.project.read_yaml("bootstrap/values/talos.yaml")
    talos["nodes"][3]["installDisk"] = disk
    cluster.project.write_yaml("bootstrap/values/talos.yaml", talos)


def test_a_config_applied_by_hand_is_not_up_to_date(cluster):
    """Another config on a node (applied by hand) makes its stage run again, and it gets this tool's."""
    ours = talos_state.get_node(cluster.world.dir, WORKER)["config"]
    theirs = re.sub(r"(?m)^(\s+disk: ).*$", r'\1"/dev/sdz"', ours)
    assert theirs != ours
    with talos_state.locked(cluster.world.dir) as state:
        state[WORKER]["config"] = theirs
    plan = cluster.project.doit("plan", env=cluster.env)
    [line] = [line for line in plan.stdout.splitlines() if "would run" in line]
    assert line.startswith("node-worker-1") and "runs another machine config than the one this tool applied" in line
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert executed_tasks(result.stdout) == ["node-worker-1"]
    assert talos_state.get_node(cluster.world.dir, WORKER)["config"] == ours
    assert cluster.bootstrap().returncode == 0 and cluster.new_mutating() == []


def test_an_edit_rendered_while_a_node_stage_works_is_applied_next_run(cluster):
    """Settings edited and rendered while the node stage applies the previous config: that run records
    the inputs it read, so the next run sees the edit and applies it (no lost update)."""
    _set_install_disk(cluster, "/dev/sdb")
    add_fault(cluster.world.dir, tool="talosctl", match=rf"apply-config -n {WORKER} -f /dev/stdin$", action="hang",
              seconds=4, times=1)
    try:
        running = cluster.bootstrap_in_background(f"apply-config -n {WORKER} -f /dev/stdin")
        _set_install_disk(cluster, "/dev/sdc")                  # edited and rendered meanwhile
        assert cluster.project.doit("render", env=cluster.env).returncode == 0
        out, err = running.communicate(timeout=120)
    finally:
        clear_faults(cluster.world.dir)
    assert running.returncode == 0, out[-2000:] + err[-2000:]
    assert _install_disk(talos_state.get_node(cluster.world.dir, WORKER)["config"]) == "/dev/sdb"
    plan = cluster.project.doit("plan", env=cluster.env)
    assert "build/talos/worker-1.yaml changed" in plan.stdout, plan.stdout
    cluster.converge()
    assert _install_disk(talos_state.get_node(cluster.world.dir, WORKER)["config"]) == "/dev/sdc"
    _set_install_disk(cluster, "/dev/sda")
    cluster.converge()
