"""Day two through the same chain, end to end in a simulated cluster of its own (3 control planes and
a worker, the shipped inventory): Talos and Kubernetes version edits roll through, interrupted rolls
resume, a node that does not come back stops the roll, a config change that needs a reboot rolls one
node at a time, nodes outside the inventory are reported and removed only on request (through
`etcd remove-member` when `etcd leave` cannot reach the node). The tests run in file order, each leaving the cluster converged."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.commands.conftest import Cluster
from tests.project import Project
from tests.world import talos_client as tcl
from tests.world import talos_kube as tk
from tests.world import talos_reboots as rb
from tests.world import talos_state as st
from tests.world.shims import add_fault
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
    mark = len(day2.world.calls())
    out = plan(day2)
    etcd = [c["argv"] for c in day2.world.calls()[mark:] if c["tool"] == "talosctl" and "etcd" in c["argv"]]
    assert len(etcd) == 1 and "members" in etcd[0]      # the members plan reports; health only before a reboot
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


def set_talos_setting(cluster: Cluster, **changes) -> None:
    set_setting(cluster, "talos", **changes)


def set_setting(cluster: Cluster, name: str, **changes) -> None:
    """Edit top-level keys of bootstrap/values/<name>.yaml."""
    values = cluster.project.read_yaml(f"bootstrap/values/{name}.yaml")
    values.update(changes)
    cluster.project.write_yaml(f"bootstrap/values/{name}.yaml", values)


def k8s_upgrades(calls: list[dict]) -> list[int]:
    """Positions of the mutating `talosctl upgrade-k8s` calls."""
    return [i for i, c in enumerate(calls) if c["tool"] == "talosctl" and "upgrade-k8s" in c["argv"] and c["mutating"]]


def test_kubernetes_version_edit_runs_one_upgrade_k8s(day2):
    set_talos_setting(day2, kubernetesVersion="v1.35.0")
    before = plan(day2)
    assert stage_line(before, "kubernetes-upgrade").startswith(
        "kubernetes-upgrade would run: upgrade to Kubernetes v1.35.0: cp-1 runs v1.34.1")
    assert "talosctl upgrade-k8s --dry-run:" in before and "  > update kubelet: 1.34.1 -> 1.35.0" in before
    result = day2.bootstrap(timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    calls = day2.new_mutating()
    assert len(k8s_upgrades(calls)) == 1 and upgrades(calls) == []
    again = day2.bootstrap()
    assert again.returncode == 0 and day2.new_mutating() == []
    assert "would run" not in plan(day2)


def test_both_edited_rolls_talos_first_then_kubernetes(day2):
    installed_at(day2, OLD)
    set_talos_setting(day2, kubernetesVersion="v1.36.3")
    result = day2.bootstrap(timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    calls = day2.new_mutating()
    talos = [i for i, c in enumerate(calls) if c["tool"] == "talosctl" and "upgrade" in c["argv"]]
    assert upgrades(calls) == ORDER and len(k8s_upgrades(calls)) == 1 and max(talos) < k8s_upgrades(calls)[0]
    again = day2.bootstrap()
    assert again.returncode == 0 and day2.new_mutating() == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_roll_resumes_with_the_nodes_not_yet_upgraded(day2, signum):
    """Stopped once the second control plane runs the new version (cp-3 answers slowly meanwhile, so
    the roll cannot have started it): the next run upgrades cp-3 and the worker only."""
    installed_at(day2, OLD)
    process = day2.bootstrap_in_background("upgrade -n 10.0.48.12")
    st.set_node(day2.world.dir, CPS[2], hang_seconds=20)
    deadline = time.monotonic() + 120
    while st.get_node(day2.world.dir, CPS[1])["talos_version"] != NEW:
        assert time.monotonic() < deadline and process.poll() is None, "cp-2 never ran the new version"
        time.sleep(0.2)
    os.kill(process.pid, signum)
    process.communicate(timeout=120)
    st.set_node(day2.world.dir, CPS[2], hang_seconds=0.0)
    first = upgrades(day2.new_mutating())
    assert first == CPS[:2]
    result = day2.bootstrap(timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert upgrades(day2.new_mutating()) == [CPS[2], WORKER]
    assert versions_of(day2) == dict.fromkeys(ORDER, NEW)


def test_a_node_that_does_not_come_back_stops_the_roll_naming_it(day2):
    installed_at(day2, OLD)
    st.set_node(day2.world.dir, CPS[1], reboot_seconds=3600)
    day2.env["BOOTSTRAP_TIMEOUT_UPGRADE"] = "15"
    try:
        result = day2.bootstrap(timeout=900)
    finally:
        del day2.env["BOOTSTRAP_TIMEOUT_UPGRADE"]
    assert result.returncode != 0
    assert "gave up after 15s waiting for cp-2 (10.0.48.12) to answer with Talos v1.13.9" in result.stderr + result.stdout
    assert upgrades(day2.new_mutating()) == CPS[:2]
    assert versions_of(day2)[CPS[2]] == OLD and versions_of(day2)[WORKER] == OLD
    st.set_node(day2.world.dir, CPS[1], reboot_seconds=None, rebooting_until=time.time())
    day2.converge()
    assert upgrades(day2.new_mutating()) == [CPS[2], WORKER]      # cp-2 came back: never upgraded twice


def applies(calls: list[dict]) -> list[str]:
    """The node of every mutating `talosctl apply-config` call, in order."""
    return [c["argv"][c["argv"].index("-n") + 1] for c in calls
            if c["tool"] == "talosctl" and "apply-config" in c["argv"] and c["mutating"]]


def test_a_config_change_that_needs_a_reboot_rolls_one_node_at_a_time(day2):
    """keepUnpackedLayers: false drops machine.files from every node config, a change Talos cannot
    apply in place (v1alpha1_runtime.go CanApplyImmediate): apply-config's dry run says "with a reboot".
    Reboots last 3 s and etcd runs 2 s after the boot here, so a roll that did not wait for a node to
    be back would take the next one down while it is still down."""
    for address in ORDER:
        st.set_node(day2.world.dir, address, reboot_seconds=3, ready_after=2)
    set_setting(day2, "spegel", keepUnpackedLayers=False)
    before = len(day2.world.calls())
    planned = plan(day2)
    assert stage_line(planned, "node-cp-1") == "node-cp-1 would run: build/talos/cp-1.yaml changed"
    assert "node configs (talosctl apply-config --dry-run):" in planned     # plan says what the roll will do
    for name, address in zip(("cp-1", "cp-2", "cp-3", "worker-1"), ORDER):
        assert f"  {name} ({address}): needs a reboot" in planned, planned
    assert not any(c["mutating"] for c in day2.world.calls()[before:])
    reboots, episodes = len(rb.reboot_episodes(day2.world.dir)), len(st.quorum_episodes(day2.world.dir))
    try:
        result = day2.bootstrap(timeout=900)
    finally:
        for address in ORDER:
            st.set_node(day2.world.dir, address, reboot_seconds=None, ready_after=0.0)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert applies(day2.new_mutating()) == ORDER           # once each, control planes first
    rebooted = rb.reboot_episodes(day2.world.dir)[reboots:]
    assert [(e["address"], e["down"]) for e in rebooted] == [(a, []) for a in ORDER]
    assert st.quorum_episodes(day2.world.dir)[episodes:] == []
    assert all("20-customization.part" not in st.get_node(day2.world.dir, a)["config"] for a in ORDER)
    again = day2.bootstrap()
    assert again.returncode == 0 and day2.new_mutating() == []
    assert "would run" not in plan(day2)


def inventory_without(cluster: Cluster, name: str, replacement: dict | None = None) -> None:
    talos = cluster.project.read_yaml("bootstrap/values/talos.yaml")
    talos["nodes"] = [n for n in talos["nodes"] if n["name"] != name] + ([replacement] if replacement else [])
    cluster.project.write_yaml("bootstrap/values/talos.yaml", talos)


def remove(cluster: Cluster, name: str) -> subprocess.CompletedProcess:
    cluster.mark = len(cluster.world.calls())
    return cluster.project.doit("remove-node", "--name", name, env=cluster.env, timeout=300)


def test_nodes_outside_the_inventory_are_reported_and_removed_on_request(day2):
    inventory_without(day2, "worker-1")
    inventory_without(day2, "cp-3", {"name": "cp-4", "role": "controlplane", "address": "10.0.48.14",
                                     "installDisk": "/dev/nvme0n1"})
    st.seed_nodes(day2.world.dir, ["10.0.48.14"])
    out = plan(day2)
    assert "  Kubernetes Node worker-1 (10.0.48.21) is not in the inventory" in out
    assert "  Kubernetes Node cp-3 (10.0.48.13) is not in the inventory" in out
    assert "is not an inventory control plane" in out and "etcd member cp-3 (10.0.48.13" in out
    st.set_node(day2.world.dir, CPS[1], unreachable=True)
    refused = remove(day2, "cp-3")
    st.set_node(day2.world.dir, CPS[1], unreachable=False)
    assert refused.returncode != 0 and day2.new_mutating() == []
    assert "Kubernetes Node worker-1 (10.0.48.21) is not in the inventory; a run never removes it" in refused.stderr
    assert ("not removing cp-3: removing etcd member cp-3 leaves 2 member(s) of which 1 healthy, below quorum (2)"
            in refused.stdout + refused.stderr)
    for name, address in (("worker-1", WORKER), ("cp-3", CPS[2])):
        result = remove(day2, name)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert st.get_node(day2.world.dir, address)["stage"] == "maintenance"
    assert "not in the inventory" not in plan(day2)
    assert st.quorum_episodes(day2.world.dir) == []


def test_remove_node_removes_the_member_through_another_control_plane_when_leave_cannot_reach_it(day2):
    """`etcd leave` runs on the leaving node; when it does not answer (here the one leave call fails as
    talosctl prints an unreachable node: its dial error in a multierror, exit 1), a healthy control plane
    removes the member by ID; the node is then reset to maintenance and its Node deleted. cp-2 of the
    two members left by the previous test goes: one of one healthy remaining keeps a quorum."""
    cp2 = CPS[1]
    assert sorted(m["address"] for m in st.etcd_members(st.load(day2.world.dir), "home")) == CPS[:2]
    inventory_without(day2, "cp-2")
    inventory_without(day2, "cp-4")         # never configured; the inventory keeps an odd count
    dial = tcl.dial_error(tcl.UNREACHABLE, cp2)
    add_fault(day2.world.dir, tool="talosctl", match=r"etcd leave -n 10\.0\.48\.12", action="fail", exit=1,
              stderr=tcl.multierror([f"{cp2}: {dial}"]) + "\n", times=1)
    result = remove(day2, "cp-2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    talos = [(verb, c["argv"][c["argv"].index("-n") + 1]) for c in day2.new_mutating() if c["tool"] == "talosctl"
             for verb in ("leave", "remove-member", "reset") if verb in c["argv"]]
    assert talos == [("leave", cp2), ("remove-member", CPS[0]), ("reset", cp2)]
    assert [m["address"] for m in st.etcd_members(st.load(day2.world.dir), "home")] == [CPS[0]]
    assert st.get_node(day2.world.dir, cp2)["stage"] == "maintenance"
    assert "delete node cp-2" in " ".join([c for c in day2.new_mutating() if c["tool"] == "kubectl"][-1]["argv"])
    assert "not in the inventory" not in plan(day2)
    assert st.quorum_episodes(day2.world.dir) == []
