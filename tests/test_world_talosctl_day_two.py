"""The world's side of day two: etcd quorum is watched at every state change, every reboot is recorded
with the nodes down then, a member's etcd runs once its node is ready, kubelets post their
node status again after a reboot, a completed install that never rebooted may be installed again;
and the product's parsers read what the fake talosctl prints (etcd members/status, get version)."""
from __future__ import annotations

import time

from tasks.facts.etcd import parse_healthy, parse_members
from tasks.facts.talos import json_stream
from tests.world import talos_kube as tk
from tests.world import talos_reboots as rb
from tests.world import talos_state as st
from tests.world.fixtures import make_apiserver  # noqa: F401 - fixture
from tests.world.talos_testkit import CP1, CP2, NODES, WK1, bootstrapped, configs, world  # noqa: F401

INSTALLER = "ghcr.io/siderolabs/installer:v1.13.9"


def test_two_members_lose_quorum_when_one_reboots_and_the_world_records_it(bootstrapped):  # noqa: F811
    """raft quorum is len(members)/2 + 1: with two members, one rebooting leaves 1 < 2."""
    assert st.quorum_episodes(bootstrapped.dir) == []
    assert bootstrapped.talosctl("reboot", "-n", CP2, "--wait=false").returncode == 0
    episodes = st.quorum_episodes(bootstrapped.dir)
    assert [(e["members"], e["down"]) for e in episodes] == [([CP1, CP2], [CP2])]


def test_a_worker_reboot_costs_no_quorum(bootstrapped):  # noqa: F811
    assert bootstrapped.talosctl("reboot", "-n", WK1, "--wait=false").returncode == 0
    time.sleep(0.5)
    assert bootstrapped.talosctl("version", "-n", WK1).returncode == 0
    assert st.quorum_episodes(bootstrapped.dir) == []


def test_after_an_upgrade_the_kubelet_posts_the_booted_version(bootstrapped, make_apiserver):  # noqa: F811
    """kubelet_node_status.go: nodeInfo.osImage is "Talos (<tag>)" of the version the machine booted."""
    handle = make_apiserver(directory=bootstrapped.dir)
    try:
        st.set_node(bootstrapped.dir, WK1, talos_version="v1.13.8", k8s_ready=True)
        tk.register_nodes(tk.apiserver_info(bootstrapped.dir), [st.get_node(bootstrapped.dir, WK1)])
        st.set_node(bootstrapped.dir, WK1, k8s_registered=True)
        result = bootstrapped.talosctl("upgrade", "-n", WK1, "--image", INSTALLER, "--drain=false")
        assert result.returncode == 0, result.stderr
        _, node = tk.api_request(tk.apiserver_info(bootstrapped.dir), "GET", "/api/v1/nodes/wk-1")
        assert node["status"]["nodeInfo"]["osImage"] == "Talos (v1.13.9)"
    finally:
        handle.stop()


def test_an_install_that_never_rebooted_may_run_again(bootstrapped):  # noqa: F811
    """lifecycle.go holds its lock only while Upgrade runs: a second upgrade is not refused."""
    st.set_node(bootstrapped.dir, WK1, talos_version="v1.13.8")
    args = ("upgrade", "-n", WK1, "--image", INSTALLER, "--drain=false", "--no-reboot")
    assert bootstrapped.talosctl(*args).returncode == 0
    again = bootstrapped.talosctl(*args)
    assert again.returncode == 0, again.stderr


def test_the_product_reads_etcd_members_and_status_as_printed(bootstrapped):  # noqa: F811
    members = parse_members(bootstrapped.talosctl("etcd", "members", "-n", f"{CP1},{CP2}").stdout)
    assert sorted((m.hostname, m.address, m.learner) for m in members) == [("cp-1", CP1, False), ("cp-2", CP2, False)]
    assert parse_healthy(bootstrapped.talosctl("etcd", "status", "-n", f"{CP1},{CP2}").stdout) == {CP1, CP2}
    st.set_node(bootstrapped.dir, CP2, unreachable=True)
    partial = bootstrapped.talosctl("etcd", "status", "-n", f"{CP1},{CP2}")
    assert partial.returncode == 0 and partial.stderr.startswith("WARNING:")
    assert parse_healthy(partial.stdout) == {CP1}


def test_the_product_reads_get_version_as_printed(bootstrapped):  # noqa: F811
    st.set_node(bootstrapped.dir, WK1, talos_version="v1.13.8")
    items = json_stream(bootstrapped.talosctl("get", "version", "-n", ",".join(NODES), "-o", "json").stdout)
    assert {i["node"]: i["spec"]["version"] for i in items} == {CP1: "v1.13.9", CP2: "v1.13.9", WK1: "v1.13.8"}


def wait_for(what: str, check, seconds: float = 10.0) -> None:
    """Poll check() until true, failing after `seconds` with what it waited for."""
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, f"no {what} within {seconds}s"
        time.sleep(0.05)


def test_every_reboot_is_recorded_with_the_nodes_down_then_and_etcd_runs_once_the_node_is_ready(
        bootstrapped):  # noqa: F811
    """A control plane back from a reboot answers at once; its etcd runs ready_after seconds later."""
    st.set_node(bootstrapped.dir, CP2, reboot_seconds=1.0, ready_after=3.0)
    assert bootstrapped.talosctl("reboot", "-n", CP2, "--wait=false").returncode == 0
    assert bootstrapped.talosctl("reboot", "-n", WK1, "--wait=false").returncode == 0
    assert [(e["address"], e["down"]) for e in rb.reboot_episodes(bootstrapped.dir)] == [(CP2, []), (WK1, [CP2])]
    wait_for("answer from cp-2", lambda: bootstrapped.talosctl("version", "-n", CP2).returncode == 0)
    assert st.get_node(bootstrapped.dir, CP2)["etcd"] == "Preparing"
    wait_for("etcd running on cp-2", lambda: st.get_node(bootstrapped.dir, CP2)["etcd"] == "Running")
