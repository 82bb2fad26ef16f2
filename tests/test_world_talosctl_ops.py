"""The fake talosctl's lifecycle commands (reset, reboot, upgrade, upgrade-k8s, etcd leave /
remove-member / forfeit-leadership), checked against siderolabs/talos v1.13.9."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.world import cilium
from tests.world import talos_kube as tk
from tests.world import talos_state as st
from tests.world.fixtures import make_apiserver  # noqa: F401 - fixture
from tests.world.talos_testkit import (CP1, CP2, NODES, WK1, bootstrapped, configs, insecure_apply,  # noqa: F401
                                       world)

INSTALLER = "ghcr.io/siderolabs/installer:v1.13.9"


def _stderr_lines(result) -> list[str]:
    return result.stderr.splitlines()


@pytest.fixture
def kube(bootstrapped, make_apiserver):  # noqa: F811
    """The world's Kubernetes API server with every node registered and Ready (a cilium agent, its
    CRDs served as cilium-operator registers them, makes each node's network ready; like the chart's
    agent it runs in the host network, the only kind of pod a kubelet starts before its CNI is up)."""
    handle = make_apiserver(directory=bootstrapped.dir)
    handle.seed(*[cilium.crd(plural) for plural in cilium.CRDS])
    handle.seed({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system"},
                 "spec": {"selector": {"matchLabels": {"k8s-app": "cilium"}}, "template": {
                     "metadata": {"labels": {"k8s-app": "cilium"}},
                     "spec": {"hostNetwork": True,
                              "containers": [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.18.0"}]}}}})
    for addr in NODES:
        st.set_node(bootstrapped.dir, addr, k8s_ready=True)
    state = {a: st.get_node(bootstrapped.dir, a) for a in NODES}
    tk.register_nodes(tk.apiserver_info(bootstrapped.dir), list(state.values()))
    yield bootstrapped
    handle.stop()


# ---------------------------------------------------------------- reset

def test_reset_with_wait_tracks_until_stop_all_services_then_maintenance(bootstrapped):
    """reset.go: tracker (action/tracker.go, node.go) prints `"%q: %v"` lines on stderr; graceful CP
    runs the "leave" phase; with --reboot the post check passes once the maintenance API answers."""
    result = bootstrapped.talosctl("reset", "-n", CP2, "--reboot")
    assert (result.returncode, result.stdout) == (0, "")
    lines = _stderr_lines(result)
    assert lines[:3] == ['"10.0.48.12": waiting for actor ID', lines[1], '"10.0.48.12": sequence: reset action: START']
    assert lines[1].startswith('"10.0.48.12": actor ID: ')
    assert '"10.0.48.12": task: leaveEtcd action: START' in lines
    assert lines[-3:-1] == ['"10.0.48.12": phase: stopEverything action: START', '"10.0.48.12": events check condition met'] \
        or '"10.0.48.12": events check condition met' in lines
    assert lines[-1] == '"10.0.48.12": post check passed'
    node = bootstrapped.node(CP2)
    assert node["stage"] == "maintenance" and not node["stale_member"]
    members = bootstrapped.talosctl("etcd", "members", "-n", CP1).stdout
    assert "cp-2" not in members


def test_reset_without_wait_is_silent_and_non_graceful_leaves_a_stale_member(bootstrapped, configs):
    """--wait=false: silent; graceful=false skips LeaveEtcd, so etcd still lists the member until
    `etcd remove-member <hex>`; then the machine can join again."""
    result = bootstrapped.talosctl("reset", "-n", CP2, "--graceful=false", "--reboot", "--wait=false")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    time.sleep(0.4)
    rows = [line.split() for line in bootstrapped.talosctl("etcd", "members", "-n", CP1).stdout.splitlines()[1:]]
    stale = next(r for r in rows if r[2] == "cp-2")
    insecure_apply(bootstrapped, CP2, configs[CP2])
    assert bootstrapped.node(CP2)["etcd"] == "Preparing"   # cannot join while its old member exists
    removed = bootstrapped.talosctl("etcd", "remove-member", "-n", CP1, stale[1])
    assert (removed.returncode, removed.stdout, removed.stderr) == (0, "", "")
    assert bootstrapped.node(CP2)["etcd"] == "Running"


def test_reset_errors(bootstrapped):
    """reset.go: "cannot use --wait and --insecure together"; the maintenance API refuses Reset (Admin
    only, authz ErrNotAuthorized); Reset input checks ("reset user disk failed: device %s wasn't found")."""
    both = bootstrapped.run("talosctl", "reset", "--insecure", "-n", CP1)
    assert (both.returncode, both.stderr) == (1, "cannot use --wait and --insecure together\n")
    disk = bootstrapped.talosctl("reset", "-n", WK1, "--wait=false", "--user-disks-to-wipe", "/dev/nope")
    assert disk.stderr == ("error executing reset: 1 error occurred:\n\t* 10.0.48.21: rpc error: code = Unknown desc = "
                           "reset user disk failed: device /dev/nope wasn't found\n\n\n")


def test_reset_insecure_on_a_maintenance_node_is_not_authorized(world):
    result = world.run("talosctl", "reset", "--insecure", "--wait=false", "-n", CP1)
    assert result.stderr == "error executing reset: rpc error: code = PermissionDenied desc = not authorized\n"


def test_reset_without_reboot_powers_off(bootstrapped):
    assert bootstrapped.talosctl("reset", "-n", WK1, "--graceful=false").returncode == 0
    assert bootstrapped.node(WK1)["unreachable"] is True


# ---------------------------------------------------------------- etcd membership

def test_etcd_leave(bootstrapped):
    """etcd.go: FailIfMultiNodes (usage follows: the text has "command"); silent success; the node's
    etcd stops (service Finished) and it is no longer a member; a worker: CheckControlplane."""
    several = bootstrapped.talosctl("etcd", "leave", "-n", f"{CP1},{CP2}")
    assert several.stderr.startswith('command "etcd leave" is not supported with multiple nodes\n\nUsage:')
    worker = bootstrapped.talosctl("etcd", "leave", "-n", WK1)
    assert worker.stderr == ("1 error occurred:\n\t* 10.0.48.21: rpc error: code = Unimplemented desc = etcd leave is "
                             "only available on control plane nodes\n\n\n")
    left = bootstrapped.talosctl("etcd", "leave", "-n", CP2)
    assert (left.returncode, left.stdout, left.stderr) == (0, "", "")
    assert bootstrapped.node(CP2)["etcd"] == "Finished"
    assert "cp-2" not in bootstrapped.talosctl("etcd", "members", "-n", CP1).stdout


def test_etcd_leave_without_quorum_fails(bootstrapped):
    """etcd MemberRemove (strict reconfig): "failed to leave cluster: failed to remove member %d:
    etcdserver: re-configuration failed due to not enough started members" (member id in decimal)."""
    st.set_node(bootstrapped.dir, CP1, unreachable=True)
    write = bootstrapped.files["talosconfig"].read_text().replace("10.0.48.11", "10.0.48.12")
    bootstrapped.files["talosconfig"].write_text(write)
    result = bootstrapped.talosctl("etcd", "leave", "-n", CP2)
    assert result.returncode == 1
    assert result.stderr.startswith("1 error occurred:\n\t* 10.0.48.12: rpc error: code = Unknown desc = failed to "
                                    "leave cluster: failed to remove member ")
    assert result.stderr.endswith(": etcdserver: re-configuration failed due to not enough started members\n\n\n")


def test_etcd_remove_member_errors(bootstrapped):
    """ParseMemberID: "error parsing member ID: error parsing etcd member id: strconv.ParseUint: ...";
    unknown ID: NotFound "failed to remove member %d: etcdserver: member not found"."""
    bad = bootstrapped.talosctl("etcd", "remove-member", "-n", CP1, "xyz")
    assert bad.stderr == ('error parsing member ID: error parsing etcd member id: strconv.ParseUint: parsing "xyz": '
                          "invalid syntax\n")
    unknown = bootstrapped.talosctl("etcd", "remove-member", "-n", CP1, "ff")
    assert unknown.stderr == ("1 error occurred:\n\t* 10.0.48.11: rpc error: code = NotFound desc = failed to remove "
                              "member 255: etcdserver: member not found\n\n\n")
    none = bootstrapped.talosctl("etcd", "remove-member", "-n", CP1)
    assert none.stderr.startswith("accepts 1 arg(s), received 0\n\nUsage:")


def test_etcd_forfeit_leadership(bootstrapped):
    """EtcdForfeitLeadership: silent; the leader moves to another member; alone: "failed to forfeit
    leadership: cannot forfeit leadership, only one member"."""
    leader = lambda: bootstrapped.talosctl("etcd", "status", "-n", CP1).stdout.splitlines()[1].split()[7]  # noqa: E731
    ids = {line.split()[2]: line.split()[1] for line in
           bootstrapped.talosctl("etcd", "members", "-n", CP1).stdout.splitlines()[1:]}
    assert leader() == ids["cp-1"]
    result = bootstrapped.talosctl("etcd", "forfeit-leadership", "-n", CP1)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert leader() == ids["cp-2"]
    assert bootstrapped.talosctl("etcd", "leave", "-n", CP2).returncode == 0
    alone = bootstrapped.talosctl("etcd", "forfeit-leadership", "-n", CP1)
    assert alone.stderr == ("1 error occurred:\n\t* 10.0.48.11: rpc error: code = Unknown desc = failed to forfeit "
                            "leadership: cannot forfeit leadership, only one member\n\n\n")


# ---------------------------------------------------------------- reboot / upgrade

def test_reboot_with_and_without_wait(bootstrapped):
    """reboot.go rebootInternal: tracker lines ("sequence: reboot action: START", the retryable "error:
    reboot sequence completed", "unavailable, retrying...", "events check condition met", "post check
    passed"); --wait=false: silent, the node is away for a moment."""
    tracked = bootstrapped.talosctl("reboot", "-n", CP2)
    lines = _stderr_lines(tracked)
    assert tracked.returncode == 0 and lines[2:4] == ['"10.0.48.12": sequence: reboot action: START',
                                                      '"10.0.48.12": error: reboot sequence completed']
    assert lines[-2:] == ['"10.0.48.12": events check condition met', '"10.0.48.12": post check passed']
    st.set_node(bootstrapped.dir, CP2, reboot_seconds=5)     # away long enough to be seen under load
    quiet = bootstrapped.talosctl("reboot", "-n", CP2, "--wait=false")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert "connect: connection refused" in bootstrapped.talosctl("version", "-n", CP2).stderr


def test_upgrade_prints_progress_on_stderr_and_reboots_into_the_new_version(bootstrapped):
    """upgrade.go (lifecycle path): pflag's deprecation notice for --stage, "%s: pulled image %s", the
    installer's lines as "<node>: <message>", "Exit code: 0", "%s: upgrade completed", then the reboot
    tracker; the node is unreachable while it reboots, then runs the installer's version."""
    st.set_node(bootstrapped.dir, CP2, talos_version="v1.13.8")
    result = bootstrapped.talosctl("upgrade", "-n", CP2, "--image", INSTALLER, "--drain=false", "--stage")
    assert (result.returncode, result.stdout) == (0, "")
    lines = _stderr_lines(result)
    assert lines[:8] == [
        "Flag --stage has been deprecated, legacy flag for MachineService.Upgrade fallback, to be removed in Talos 1.18",
        f"10.0.48.12: pulled image {INSTALLER}",
        "10.0.48.12: running pre-flight checks",
        "10.0.48.12: host Talos version: v1.13.8",
        "10.0.48.12: all pre-flight checks successful",
        "10.0.48.12: installation of v1.13.9 complete",
        "10.0.48.12: Exit code: 0",
        "10.0.48.12: upgrade completed"]
    assert lines[8] == "WARNING: 10.0.48.12: server version 1.13.8 is older than client version 1.13.9"
    assert '"10.0.48.12": unavailable, retrying...' in lines and lines[-1] == '"10.0.48.12": post check passed'
    assert bootstrapped.node(CP2)["talos_version"] == "v1.13.9"


def test_upgrade_without_wait_reboots_in_the_background(bootstrapped):
    st.set_node(bootstrapped.dir, CP2, talos_version="v1.13.8", reboot_seconds=3)
    result = bootstrapped.talosctl("upgrade", "-n", CP2, "--image", INSTALLER, "--drain=false", "--wait=false")
    assert result.returncode == 0 and "10.0.48.12: upgrade completed\n" in result.stderr
    assert "connect: connection refused" in bootstrapped.talosctl("version", "-n", CP2).stderr
    deadline = time.monotonic() + 30
    while (back := bootstrapped.talosctl("version", "-n", CP2)).returncode != 0:  # "Server:" comes either way
        assert time.monotonic() < deadline, f"{CP2} not back within 30 s: {back.stderr}"
        time.sleep(0.5)
    assert "\tTag:         v1.13.9\n" in back.stdout.split("Server:")[1]


def test_upgrade_refused_by_the_installer(bootstrapped):
    """compatibility.UpgradeableFrom in the installer's pre-flight checks; exit code 1 ->
    "error during upgrade: node %s: upgrade failed with exit code %d"."""
    result = bootstrapped.talosctl("upgrade", "-n", CP2, "--image", "ghcr.io/siderolabs/installer:v1.11.0",
                                   "--drain=false")
    assert result.returncode == 1
    assert "10.0.48.12: pre-flight checks failed: host version 1.13.9 is too new to downgrade to Talos 1.11.0\n" \
           in result.stderr
    assert result.stderr.endswith("10.0.48.12: upgrade failed with exit code 1\n"
                                  "error during upgrade: node 10.0.48.12: upgrade failed with exit code 1\n")
    assert bootstrapped.node(CP2)["talos_version"] == "v1.13.9"


def test_upgrade_reads_the_talosconfig_twice_so_a_pipe_fails(bootstrapped):
    """WithClientAndNodes then WithClient(TalosVersionCheck): the second config.Open of a drained pipe
    decodes nothing: "error checking Talos version compatibility: failed to open config file %q: EOF"."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, bootstrapped.files["talosconfig"].read_bytes())
    os.close(write_fd)
    try:
        result = subprocess.run(["talosctl", "--talosconfig", f"/dev/fd/{read_fd}", "upgrade", "-n", CP2,
                                 "--image", INSTALLER], text=True, capture_output=True, env=bootstrapped.env,
                                pass_fds=(read_fd,), timeout=60)
    finally:
        os.close(read_fd)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f'error checking Talos version compatibility: failed to open config file '
                             f'"/dev/fd/{read_fd}": EOF\n')


def test_upgrade_drains_and_uncordons_through_kubernetes(kube):
    """drain.go + nodedrain.go: "<name>: cordoning node", ": node cordoned", ": draining node",
    ": node drained"; after the reboot ": waiting for node to become Ready", ": uncordoning node",
    ": node uncordoned" (reporter lines on stderr)."""
    result = kube.talosctl("upgrade", "-n", WK1, "--image", INSTALLER)
    assert result.returncode == 0, result.stderr
    lines = _stderr_lines(result)
    for expected in ("wk-1: cordoning node", "wk-1: node cordoned", "wk-1: draining node", "wk-1: node drained",
                     "wk-1: waiting for node to become Ready", "wk-1: uncordoning node", "wk-1: node uncordoned"):
        assert expected in lines
    assert lines.index("wk-1: node drained") < lines.index('"10.0.48.21": waiting for actor ID')
    status, node = tk.api_request(tk.apiserver_info(kube.dir), "GET", "/api/v1/nodes/wk-1")
    assert status == 200 and not (node.get("spec") or {}).get("unschedulable")


def test_upgrade_k8s_dry_run(kube):
    """upgrade-k8s.go / pkg/cluster/kubernetes: every line on stdout; detected version (static pods at
    the default 1.36.3), path check, "> %q: Talos version %s is compatible with Kubernetes version %s",
    pre-pull and per-component lines, " > skipped in dry-run"."""
    result = kube.talosctl("upgrade-k8s", "-n", CP1, "--to", "1.36.3", "--dry-run")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:4] == ["automatically detected the lowest Kubernetes version 1.36.3",
                         'discovered controlplane nodes ["10.0.48.11" "10.0.48.12"]',
                         'discovered worker nodes ["10.0.48.21"]',
                         '> "10.0.48.11": Talos version 1.13.9 is compatible with Kubernetes version 1.36.3']
    assert '> "10.0.48.21": Talos version 1.13.9 is compatible with Kubernetes version 1.36.3' in lines
    assert ' > "10.0.48.11": pre-pulling registry.k8s.io/kube-apiserver:v1.36.3' in lines
    assert 'updating "kube-apiserver" to version "1.36.3"' in lines
    assert " > update kubelet: 1.34.1 -> 1.36.3" in lines and " > skipped in dry-run" in lines
    assert lines[-1] == "updating manifests (dry run)"
    kubelet = kube.talosctl("get", "machineconfig", "v1alpha1", "-n", WK1, "-o", "yaml").stdout
    assert "kubelet:v1.34.1" in kubelet


def test_upgrade_k8s_unsupported_path_and_incompatible_talos(kube):
    """Upgrade(): `unsupported upgrade path %s (from %q to %q)`; CheckCompatibility: `node %q: version
    of Kubernetes %s is too new to be used with Talos %s`."""
    skip = kube.talosctl("upgrade-k8s", "-n", CP1, "--from", "1.34.1", "--to", "1.36.3")
    assert skip.stdout == "" and skip.stderr == 'unsupported upgrade path 1.34->1.36 (from "1.34.1" to "1.36.3")\n'
    st.set_node(kube.dir, WK1, talos_version="v1.12.11")
    old = kube.talosctl("upgrade-k8s", "-n", CP1, "--from", "1.35.0", "--to", "1.36.3", "--dry-run")
    assert old.returncode == 1
    assert old.stderr.endswith('node "10.0.48.21": version of Kubernetes 1.36.3 is too new to be used with Talos '
                               '1.12.11\n')


def test_upgrade_k8s_moves_kubelets_and_control_plane_images(kube):
    """A real run patches the machine configs (NO_REBOOT): kubelet and static pod images at the target."""
    result = kube.talosctl("upgrade-k8s", "-n", CP1, "--from", "1.35.4", "--to", "1.36.3")
    assert result.returncode == 0, result.stderr
    assert ' < "10.0.48.21": successfully updated' in result.stdout.splitlines()
    pods = kube.talosctl("get", "staticpods", "-n", CP1, "-o", "yaml").stdout
    assert "image: registry.k8s.io/kube-apiserver:v1.36.3" in pods
    config = kube.talosctl("get", "machineconfig", "v1alpha1", "-n", WK1, "-o", "yaml").stdout
    assert "ghcr.io/siderolabs/kubelet:v1.36.3" in config
    _, node = tk.api_request(tk.apiserver_info(kube.dir), "GET", "/api/v1/nodes/wk-1")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.36.3"


def test_reboot_drain_opens_the_talosconfig_again_so_a_pipe_fails(kube):
    """reboot.go rebootRun with --drain: WithClientAndNodes (drain), the tracker's WithClient, the
    deferred uncordon's WithClientAndNodes: the 2nd and 3rd config.Open of a pipe read EOF, joined by
    errors.Join; the node was cordoned and stays so."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, kube.files["talosconfig"].read_bytes())
    os.close(write_fd)
    try:
        result = subprocess.run(["talosctl", "--talosconfig", f"/dev/fd/{read_fd}", "reboot", "-n", WK1, "--drain"],
                                text=True, capture_output=True, env=kube.env, pass_fds=(read_fd,), timeout=60)
    finally:
        os.close(read_fd)
    failure = f'failed to open config file "/dev/fd/{read_fd}": EOF'
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.endswith(f"wk-1: node drained\n{failure}\n{failure}\n")
    _, node = tk.api_request(tk.apiserver_info(kube.dir), "GET", "/api/v1/nodes/wk-1")
    assert node["spec"]["unschedulable"] is True


def test_upgrade_from_talos_1_12_falls_back_to_the_legacy_api(bootstrapped):
    """TalosVersionCheck outside ">1.13.0-alpha.2 <2.0.0": the reporter's "New upgrade API is not
    available, falling back to legacy", then upgradeLegacy's tracker (no drain); the worker reboots
    into the installer's version."""
    st.set_node(bootstrapped.dir, WK1, talos_version="v1.12.11")
    result = bootstrapped.talosctl("upgrade", "-n", WK1, "--image", INSTALLER)
    assert result.returncode == 0, result.stderr
    lines = _stderr_lines(result)
    assert lines[:4] == ["New upgrade API is not available, falling back to legacy",
                         "WARNING: 10.0.48.21: server version 1.12.11 is older than client version 1.13.9",
                         '"10.0.48.21": waiting for actor ID', lines[3]]
    assert '"10.0.48.21": sequence: upgrade action: START' in lines and "cordoning" not in result.stderr
    assert lines[-1] == '"10.0.48.21": post check passed'
    assert bootstrapped.node(WK1)["talos_version"] == "v1.13.9"


def test_legacy_upgrade_refuses_a_two_member_etcd_and_prints_a_table_without_wait(bootstrapped):
    """(*Server).Upgrade: ValidateForUpgrade "etcd member count(%d) is insufficient to maintain quorum if
    upgrade commences" (the tracker prints it, Execute stays silent); doUpgradeLegacy's NODE/ACK/STARTED."""
    refused = bootstrapped.talosctl("upgrade", "-n", CP1, "--image", INSTALLER, "--legacy")
    assert refused.returncode == 1 and refused.stdout == ""
    assert _stderr_lines(refused)[0] == ("WARNING: Forcing use of legacy upgrade method. This flag is deprecated and "
                                         "will be removed in Talos 1.18.")
    assert _stderr_lines(refused)[-1] == ('"10.0.48.11": rpc error: code = Unknown desc = error validating etcd for '
                                          "upgrade: etcd member count(2) is insufficient to maintain quorum if upgrade "
                                          "commences")
    table = bootstrapped.talosctl("upgrade", "-n", WK1, "--image", INSTALLER, "--legacy", "--drain=false",
                                  "--wait=false")
    assert table.returncode == 0
    header, row = table.stdout.splitlines()
    assert header.split() == ["NODE", "ACK", "STARTED"]
    assert row.startswith("10.0.48.21   Upgrade request received   ") and row.rstrip().endswith(row.split()[-1])
    assert " +0000 UTC m=+" in row


# ---------------------------------------------------------------- kubeconfig

def test_kubeconfig_to_stdout_writes_no_file_and_a_file_is_owner_only(bootstrapped, make_apiserver, tmp_path):  # noqa: F811
    """kubeconfig.go: `-` without merging prints the admin kubeconfig (stdoutOutput); a path is written
    with os.WriteFile(localPath, data, 0o600)."""
    handle = make_apiserver(directory=bootstrapped.dir)
    try:
        here = tmp_path / "here"
        here.mkdir()
        printed = bootstrapped.talosctl("kubeconfig", "-", "--merge=false", "-n", CP1, cwd=here)
        assert printed.returncode == 0, printed.stderr
        assert "client-key-data" in printed.stdout and list(here.iterdir()) == []
        target = here / "kc"
        written = bootstrapped.talosctl("kubeconfig", str(target), "--merge=false", "-n", CP1)
        assert written.returncode == 0 and (written.stdout, oct(target.stat().st_mode & 0o777)) == ("", "0o600")
        again = bootstrapped.talosctl("kubeconfig", str(target), "--merge=false", "-n", CP1)
        assert again.returncode == 1
        assert again.stderr == f'kubeconfig file already exists, use --force to overwrite: "{target}"\n'
    finally:
        handle.stop()


@pytest.mark.parametrize("allowed", [True, False])
def test_a_control_plane_is_tainted_unless_the_config_allows_scheduling_on_it(allowed):
    """node_taint_spec.go (NodeTaintSpecController): the control-plane NoSchedule taint only when
    cluster.allowSchedulingOnControlPlanes is not true; a worker never gets it."""
    config = ("version: v1alpha1\nmachine:\n  type: controlplane\ncluster:\n"
              f"  allowSchedulingOnControlPlanes: {str(allowed).lower()}\n")
    node = {"machine_type": "controlplane", "hostname": "cp-1", "address": CP1, "config": config,
            "talos_version": "v1.13.9"}
    taints = (tk.node_object(node).get("spec") or {}).get("taints") or []
    assert taints == ([] if allowed else [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    worker = {**node, "machine_type": "worker", "config": config.replace("controlplane", "worker")}
    assert not (tk.node_object(worker).get("spec") or {}).get("taints")
