"""The fake talosctl, driven as a subprocess through its shim (PATH = DIR/bin first)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.world import talos_state as st
from tests.world.fake_testkit import (OTHER_CA, SECRET_TOKEN, StubApi, machine_config, make_world,
                                     write_talosconfig)

CP1, CP2, WK1 = "10.0.48.11", "10.0.48.12", "10.0.48.21"
NODES = [CP1, CP2, WK1]


@pytest.fixture
def world(tmp_path):
    """Three maintenance-mode machines, shims on PATH, a talosconfig for CP1."""
    return make_world(tmp_path / "world", nodes=NODES)


@pytest.fixture
def configs(world):
    """Machine config files for the three machines."""
    files = {}
    for addr, kind, host in ((CP1, "controlplane", "cp-1"), (CP2, "controlplane", "cp-2"), (WK1, "worker", "wk-1")):
        path = world.dir / f"{host}.yaml"
        path.write_text(machine_config(kind, host))
        files[addr] = path
    return files


def insecure_apply(world, addr, path, *extra):
    """apply-config --insecure to one node."""
    return world.run("talosctl", "apply-config", "--insecure", "-n", addr, "-f", str(path), *extra)


def configure_all(world, configs):
    """Apply every machine's config in maintenance mode."""
    for addr, path in configs.items():
        assert insecure_apply(world, addr, path).returncode == 0


@pytest.fixture
def bootstrapped(world, configs):
    """All three configured and CP1 bootstrapped."""
    configure_all(world, configs)
    result = world.talosctl("bootstrap", "-n", CP1, "-e", CP1)
    assert result.returncode == 0, result.stderr
    return world


# ---------------------------------------------------------------- apply-config

def test_insecure_apply_moves_maintenance_to_configured_without_storing_secrets(world, configs):
    result = insecure_apply(world, CP1, configs[CP1])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    node = world.node(CP1)
    assert node["stage"] == "configured"
    assert (node["machine_type"], node["cluster_name"], node["hostname"]) == ("controlplane", "demo", "cp-1")
    assert node["endpoint"] == "https://10.0.48.55:6443"
    assert len(node["config_sha256"]) == 64
    state_text = (world.dir / "talos.json").read_text()
    assert SECRET_TOKEN not in state_text and "c2VjcmV0LXZhbHVlLW5vdC1zdG9yZWQ=" not in state_text


def test_insecure_apply_on_configured_node_fails_with_certificate_required(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    result = insecure_apply(world, CP1, configs[CP1])
    assert result.returncode == 1
    assert "certificate required" in result.stderr
    assert result.stderr.startswith("error applying new configuration: rpc error: code = Unavailable")


def test_authenticated_apply_on_maintenance_node_fails_with_unknown_authority(world, configs):
    result = world.talosctl("apply-config", "-n", CP1, "-e", CP1, "-f", str(configs[CP1]))
    assert result.returncode == 1
    assert "x509: certificate signed by unknown authority" in result.stderr


def test_talosconfig_with_another_ca_is_rejected(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    other = write_talosconfig(world.dir / "other-talosconfig", [CP1], [CP1], ca=OTHER_CA)
    result = world.run("talosctl", "--talosconfig", str(other), "apply-config", "-f", str(configs[CP1]))
    assert result.returncode == 1 and "certificate signed by unknown authority" in result.stderr


def test_dry_run_reports_no_changes_then_a_secret_free_diff(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    same = world.talosctl("apply-config", "--dry-run", "-n", CP1, "-f", str(configs[CP1]))
    assert same.returncode == 0, same.stderr
    assert same.stdout == ("Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\n"
                           "Config diff:\n\nNo changes.\n")
    changed = world.dir / "changed.yaml"
    changed.write_text(machine_config("controlplane", "cp-renamed", machine__token="n3wt0k.n3wt0k3nv4lu3000"))
    diff = world.talosctl("apply-config", "--dry-run", "-n", CP1, "-f", str(changed))
    assert diff.returncode == 0 and "No changes." not in diff.stdout
    assert "~ HostnameConfig#1:hostname" in diff.stdout and "~ machine.token" in diff.stdout
    assert "n3wt0k" not in diff.stdout and "cp-renamed" not in diff.stdout
    assert world.node(CP1)["hostname"] == "cp-1"


def test_dry_run_in_maintenance_mode_changes_nothing(world, configs):
    result = insecure_apply(world, CP1, configs[CP1], "--dry-run")
    assert result.stdout == "Dry run summary:\nNode is running in maintenance mode and does not have a config yet.\n"
    assert world.node(CP1)["stage"] == "maintenance"


def test_authenticated_apply_prints_mode_details_and_records_the_new_config(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    changed = world.dir / "changed.yaml"
    changed.write_text(machine_config("controlplane", "cp-1b"))
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(changed), "--mode", "no-reboot")
    assert (result.returncode, result.stdout) == (0, "Applied configuration without a reboot\n")
    assert world.node(CP1)["hostname"] == "cp-1b"
    staged = world.talosctl("apply-config", "-n", CP1, "-f", str(configs[CP1]), "--mode=staged")
    assert staged.stdout == "Staged configuration to be applied after the next reboot\n"
    assert world.node(CP1)["hostname"] == "cp-1b"


def test_config_from_stdin_and_talosconfig_from_a_pipe_fd(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    read_fd, write_fd = os.pipe()
    os.write(write_fd, world.files["talosconfig"].read_bytes())
    os.close(write_fd)
    try:
        result = subprocess.run(["talosctl", "--talosconfig", f"/dev/fd/{read_fd}", "apply-config", "-n", CP1,
                                 "-f", "/dev/stdin", "--dry-run"], input=configs[CP1].read_text(), text=True,
                                capture_output=True, env=world.env, pass_fds=(read_fd,), timeout=60)
    finally:
        os.close(read_fd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("No changes.\n")


def test_insecure_stdin_config(world, configs):
    result = world.run("talosctl", "apply-config", "-i", "-n", CP1, "-f", "/dev/stdin",
                       input=configs[CP1].read_text())
    assert result.returncode == 0, result.stderr
    assert world.node(CP1)["stage"] == "configured"


@pytest.mark.parametrize("text, needle", [
    ("machine: [unclosed", "failed to parse config: yaml: line 1"),
    (machine_config(cluster__controlPlane=None), "* a cluster endpoint is required"),
    (machine_config(machine__type="router"), 'invalid machine type: "router"'),
    (machine_config(machine__ca__crt="op://talos/machine-ca/crt"), "illegal base64 data at input byte 2"),
])
def test_invalid_configs_are_rejected_in_maintenance_mode(world, text, needle):
    path = world.dir / "bad.yaml"
    path.write_text(text)
    result = insecure_apply(world, CP1, path)
    assert result.returncode == 1 and needle in result.stderr
    assert world.node(CP1)["stage"] == "maintenance"


def test_unresolved_reference_is_rejected_on_a_configured_node(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    bad = world.dir / "bad.yaml"
    bad.write_text(machine_config(cluster__secret="op://talos/cluster/secret"))
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(bad))
    assert result.returncode == 1
    assert "code = InvalidArgument" in result.stderr and "unresolved secret reference" in result.stderr


def test_maintenance_mode_refuses_no_reboot(world, configs):
    result = insecure_apply(world, CP1, configs[CP1], "--mode", "no-reboot")
    assert result.returncode == 1
    assert "apply configuration --mode='no-reboot' is not supported in maintenance mode" in result.stderr


def test_insecure_with_several_nodes_applies_to_the_first_only(world, configs):
    result = world.run("talosctl", "apply-config", "--insecure", "-n", f"{CP1},{CP2}", "-f", str(configs[CP1]))
    assert result.returncode == 0
    assert world.node(CP1)["stage"] == "configured" and world.node(CP2)["stage"] == "maintenance"


def test_missing_file_and_empty_file(world):
    missing = world.run("talosctl", "apply-config", "-i", "-n", CP1, "-f", str(world.dir / "nope.yaml"))
    assert missing.returncode == 1 and "failed to read configuration from" in missing.stderr
    assert "no such file or directory" in missing.stderr
    nofile = world.run("talosctl", "apply-config", "-i", "-n", CP1)
    assert nofile.stderr == "no filename supplied for configuration\n"


def test_concurrent_applies_do_not_lose_updates(world, configs):
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda a: insecure_apply(world, a, configs[a]), NODES))
    assert [r.returncode for r in results] == [0, 0, 0]
    assert {world.node(a)["stage"] for a in NODES} == {"configured"}


# ---------------------------------------------------------------- bootstrap / etcd

def test_bootstrap_before_ready_is_a_failed_precondition(world, configs):
    st.set_node(world.dir, CP1, ready_after=30)
    insecure_apply(world, CP1, configs[CP1])
    result = world.talosctl("bootstrap", "-n", CP1)
    assert result.returncode == 1
    assert result.stderr == ("error executing bootstrap: rpc error: code = FailedPrecondition "
                             "desc = bootstrap is not available yet\n")
    assert world.talosctl("service", "etcd", "-n", CP1).stdout.splitlines()[2].split() == ["STATE", "Waiting"]


def test_bootstrap_once_ready_after_the_delay(world, configs):
    st.set_node(world.dir, CP1, ready_after=0.4)
    insecure_apply(world, CP1, configs[CP1])
    time.sleep(0.5)
    result = world.talosctl("bootstrap", "-n", CP1)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert world.node(CP1)["stage"] == "bootstrapped" and world.node(CP1)["etcd"] == "Running"


def test_second_bootstrap_anywhere_is_already_exists(bootstrapped):
    for addr in (CP1, CP2):
        result = bootstrapped.talosctl("bootstrap", "-n", addr)
        assert result.returncode == 1
        assert result.stderr == ("error executing bootstrap: rpc error: code = AlreadyExists "
                                 "desc = etcd data directory is not empty\n")


def test_bootstrap_on_a_worker_is_refused(world, configs):
    configure_all(world, configs)
    result = world.talosctl("bootstrap", "-n", WK1)
    assert "bootstrap can only be performed on a control plane node" in result.stderr


def test_etcd_service_and_members_through_the_lifecycle(world, configs):
    configure_all(world, configs)
    before = world.talosctl("service", "etcd", "-n", CP1)
    assert "STATE    Preparing" in before.stdout and "Running pre state" in before.stdout
    members = world.talosctl("etcd", "members", "-n", CP1)
    assert members.returncode == 1 and members.stderr.startswith("error getting members:")
    assert world.talosctl("bootstrap", "-n", CP1).returncode == 0
    after = world.talosctl("service", "etcd", "status", "-n", CP1)
    assert after.stdout.splitlines()[:4] == ["NODE     10.0.48.11", "ID       etcd", "STATE    Running",
                                             "HEALTH   OK"]
    table = world.talosctl("etcd", "members", "-n", CP1).stdout.splitlines()
    assert table[0].split() == ["NODE", "ID", "HOSTNAME", "PEER", "URLS", "CLIENT", "URLS", "LEARNER"]
    assert [row.split()[2] for row in table[1:]] == ["cp-1", "cp-2"]
    worker = world.talosctl("service", "etcd", "-n", WK1)
    assert worker.returncode == 1 and worker.stderr == 'service "etcd" is not registered on any nodes\n'


def test_service_list_table(bootstrapped):
    lines = bootstrapped.talosctl("service", "-n", CP1).stdout.splitlines()
    assert lines[0].split() == ["NODE", "SERVICE", "STATE", "HEALTH", "LAST", "CHANGE", "LAST", "EVENT"]
    assert any(line.split()[1:4] == ["etcd", "Running", "OK"] for line in lines[1:])


# ---------------------------------------------------------------- kubeconfig

def test_kubeconfig_before_bootstrap_fails(world, configs):
    configure_all(world, configs)
    result = world.talosctl("kubeconfig", str(world.dir / "kc"), "-n", CP1)
    assert result.returncode == 1 and result.stderr.startswith("error copying: rpc error:")
    assert not (world.dir / "kc").exists()


def test_kubeconfig_writes_admin_context_and_registers_nodes(bootstrapped):
    api = StubApi(bootstrapped.dir)
    try:
        path = bootstrapped.dir / "build" / "kubeconfig"
        result = bootstrapped.talosctl("kubeconfig", str(path), "-n", CP1, "--force")
        assert result.returncode == 0, result.stderr
        config = yaml.safe_load(path.read_text())
        assert config["current-context"] == "admin@demo"
        cluster = config["clusters"][0]["cluster"]
        assert cluster["server"] == "https://10.0.48.55:6443"
        ca = open(api.info["ca_file"], "rb").read()
        assert base64.b64decode(cluster["certificate-authority-data"]) == ca
        user = config["users"][0]["user"]
        assert base64.b64decode(user["client-key-data"]) == open(api.info["client_key"], "rb").read()
        posted = {body["metadata"]["name"]: body for method, _, body in api.requests if method == "POST"}
        assert set(posted) == {"cp-1", "cp-2", "wk-1"}
        assert "node-role.kubernetes.io/control-plane" in posted["cp-1"]["metadata"]["labels"]
        assert "node-role.kubernetes.io/control-plane" not in posted["wk-1"]["metadata"]["labels"]
        assert posted["wk-1"]["status"]["addresses"][0] == {"type": "InternalIP", "address": WK1}
        again = bootstrapped.talosctl("kubeconfig", str(path), "-n", CP1, "--force")
        assert again.returncode == 0, again.stderr  # 409 AlreadyExists is fine
    finally:
        api.close()


def test_kubeconfig_merge_renames_without_force_and_overwrites_with_force(bootstrapped):
    path = bootstrapped.dir / "kc"
    existing = {"apiVersion": "v1", "kind": "Config", "current-context": "other",
                "clusters": [{"name": "demo", "cluster": {"server": "https://10.0.48.10:6443"}},
                             {"name": "other", "cluster": {"server": "https://1.2.3.4:6443"}}],
                "users": [{"name": "other", "user": {}}],
                "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}]}
    path.write_text(yaml.safe_dump(existing))
    renamed = bootstrapped.talosctl("kubeconfig", str(path), "-n", CP1)
    assert renamed.stdout == ('renamed cluster "demo" -> "demo-1"\nrenamed auth info "admin@demo" -> "admin@demo-1"\n'
                              'renamed context "admin@demo" -> "admin@demo-1"\n')
    config = yaml.safe_load(path.read_text())
    assert config["current-context"] == "admin@demo-1"
    assert {c["name"] for c in config["clusters"]} == {"demo", "demo-1", "other"}
    path.write_text(yaml.safe_dump(existing))
    forced = bootstrapped.talosctl("kubeconfig", str(path), "-n", CP1, "--force", "--force-context-name", "talos")
    assert forced.stdout == 'renamed context "admin@demo" -> "talos"\n'
    config = yaml.safe_load(path.read_text())
    assert next(c for c in config["clusters"] if c["name"] == "demo")["cluster"]["server"] == "https://10.0.48.55:6443"
    assert config["current-context"] == "talos"
    refused = bootstrapped.talosctl("kubeconfig", str(path), "-n", CP1, "--merge=false")
    assert refused.returncode == 1 and "kubeconfig file already exists, use --force to overwrite" in refused.stderr


def test_kubeconfig_refuses_several_nodes(bootstrapped):
    result = bootstrapped.talosctl("kubeconfig", "-n", f"{CP1},{CP2}")
    assert result.stderr == 'command "kubeconfig" is not supported with multiple nodes\n'


# ---------------------------------------------------------------- health / validate / version / get

def test_health_times_out_before_bootstrap(world, configs):
    configure_all(world, configs)
    result = world.talosctl("health", "--control-plane-nodes", f"{CP1},{CP2}", "--worker-nodes", WK1,
                            "--wait-timeout", "300ms", "--server=false")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "waiting for etcd to be healthy: ..."
    assert 'service "etcd" not in expected state "Running": current state [Preparing] Running pre state' in result.stderr
    assert lines[-1] == "context deadline exceeded"


def test_health_passes_when_the_cluster_is_up(bootstrapped):
    for addr in NODES:
        st.set_node(bootstrapped.dir, addr, k8s_ready=True)
    api = StubApi(bootstrapped.dir)
    try:
        assert bootstrapped.talosctl("kubeconfig", str(bootstrapped.dir / "kc"), "-n", CP1).returncode == 0
        result = bootstrapped.talosctl("health", "--control-plane-nodes", f"{CP1},{CP2}", "--worker-nodes", WK1,
                                       "--wait-timeout", "5s", "-n", CP1)
    finally:
        api.close()
    assert result.returncode == 0, result.stderr
    assert "waiting for etcd to be healthy: OK" in result.stderr
    assert "waiting for all k8s nodes to report ready: OK" in result.stderr
    assert "waiting for coredns to report ready: SKIP" in result.stderr


def test_health_reports_not_ready_nodes(bootstrapped):
    api = StubApi(bootstrapped.dir)
    try:
        bootstrapped.talosctl("kubeconfig", str(bootstrapped.dir / "kc"), "-n", CP1)
        result = bootstrapped.talosctl("health", "--wait-timeout", "400ms", "--server=false")
    finally:
        api.close()
    assert result.returncode == 1
    assert "waiting for all k8s nodes to report ready: some nodes are not ready: ['cp-1', 'cp-2', 'wk-1']" in result.stderr


def test_validate(world, configs):
    ok = world.run("talosctl", "validate", "--config", str(configs[CP1]), "--mode", "metal", "--strict")
    assert (ok.returncode, ok.stdout) == (0, f"{configs[CP1]} is valid for metal mode\n")
    no_install = world.dir / "noinstall.yaml"
    no_install.write_text(machine_config(machine__install=None))
    bad = world.run("talosctl", "validate", "-c", str(no_install), "-m", "metal")
    assert bad.returncode == 1 and bad.stderr.startswith("1 error occurred:\n\t* install instructions are required")
    assert world.run("talosctl", "validate", "-c", str(no_install), "-m", "container").returncode == 0
    missing = world.run("talosctl", "validate", "-c", str(configs[CP1]))
    assert missing.stderr.startswith('required flag(s) "mode" not set\n\nUsage:')


def test_version_client_and_server(bootstrapped):
    short = bootstrapped.run("talosctl", "version", "--client", "--short")
    assert short.stdout == "Client:\nTalos v1.13.9\n"
    full = bootstrapped.talosctl("version", "-n", CP1)
    assert full.returncode == 0
    assert full.stdout.startswith("Client:\n\tTag:         v1.13.9\n")
    assert "Server:\n\tNODE:        10.0.48.11\n\tTag:         v1.13.9\n" in full.stdout
    assert full.stdout.endswith("\tEnabled:     RBAC\n")


def test_get_machinestatus_json_and_members(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    status = json.loads(world.talosctl("get", "machinestatus", "-n", CP1, "-o", "json").stdout)
    assert status["spec"] == {"stage": "running", "status": {"ready": True, "unmetConditions": []}}
    maintenance = world.run("talosctl", "get", "ms", "--insecure", "-n", CP2).stdout.splitlines()
    assert maintenance[1].split()[5] == "maintenance"


# ---------------------------------------------------------------- reset and faults

def test_reset_returns_to_maintenance_and_clears_etcd(bootstrapped, configs):
    result = bootstrapped.talosctl("reset", "-n", CP1, "--graceful=false", "--reboot")
    assert result.returncode == 0, result.stderr
    node = bootstrapped.node(CP1)
    assert (node["stage"], node["etcd"], node["etcd_member"], node["unreachable"]) == ("maintenance", None, False, False)
    assert bootstrapped.node(CP2)["etcd"] == "Running"  # CP2 had joined: etcd still exists
    write_talosconfig(bootstrapped.files["talosconfig"], [CP2], [CP2])
    assert bootstrapped.talosctl("reset", "-n", CP2, "--graceful=false", "--reboot").returncode == 0
    configure_all(bootstrapped, {CP1: configs[CP1]})
    write_talosconfig(bootstrapped.files["talosconfig"], [CP1], [CP1])
    assert bootstrapped.talosctl("bootstrap", "-n", CP1).returncode == 0


def test_reset_without_reboot_powers_the_machine_off(bootstrapped):
    assert bootstrapped.talosctl("reset", "-n", WK1, "--graceful=false").returncode == 0
    assert bootstrapped.node(WK1)["unreachable"] is True


def test_unreachable_node(world, configs):
    st.set_node(world.dir, CP2, unreachable=True)
    result = insecure_apply(world, CP2, configs[CP2])
    assert result.returncode == 1
    assert result.stderr == ('error applying new configuration: rpc error: code = Unavailable desc = connection error: '
                             'desc = "transport: Error while dialing: dial tcp 10.0.48.12:50000: connect: no route to host"\n')


def test_hanging_node_answers_late(world, configs):
    st.set_node(world.dir, CP1, hang_seconds=0.5)
    start = time.monotonic()
    result = insecure_apply(world, CP1, configs[CP1])
    assert result.returncode == 0 and time.monotonic() - start >= 0.5


def test_missing_endpoints_and_nodes(world):
    bare = write_talosconfig(world.dir / "bare", [], [])
    result = world.run("talosctl", "--talosconfig", str(bare), "bootstrap")
    assert result.stderr == "error constructing client: failed to determine endpoints\n"
    result = world.run("talosctl", "--talosconfig", str(bare), "bootstrap", "-e", CP1)
    assert result.stderr.startswith("nodes are not set for the command")


# ---------------------------------------------------------------- CLI surface

def test_unknown_flag_fails_like_cobra(world):
    result = world.run("talosctl", "apply-config", "--bogus")
    assert result.returncode == 1
    assert result.stderr.startswith("unknown flag: --bogus\n\nUsage:\n  talosctl apply-config [flags]")


def test_unknown_command_with_suggestion(world):
    result = world.run("talosctl", "bootstrp")
    assert result.returncode == 1
    assert result.stderr.startswith('unknown command "bootstrp" for "talosctl"\n\nDid you mean this?\n\tbootstrap\n')


@pytest.mark.parametrize("args, message", [
    (["apply-config", "--mode", "fast", "-f", "x"], 'invalid argument "fast" for "-m, --mode" flag: possible options are: '
                                                    "auto, interactive, no-reboot, reboot, staged, try"),
    (["apply-config", "-f"], "flag needs an argument: 'f' in -f"),
    (["health", "--wait-timeout", "soon"], 'invalid argument "soon" for "--wait-timeout" flag: time: invalid duration "soon"'),
    (["apply-config", "--insecure=maybe"], 'invalid argument "maybe" for "-i, --insecure" flag: strconv.ParseBool'),
])
def test_flag_value_errors(world, args, message):
    result = world.run("talosctl", *args)
    assert result.returncode == 1 and result.stderr.startswith(message)


def test_endpoint_failover_to_a_reachable_endpoint(world, configs):
    configure_all(world, configs)
    st.set_node(world.dir, CP1, unreachable=True)
    result = world.talosctl("service", "etcd", "-e", f"{CP1},{CP2}", "-n", CP2)
    assert result.returncode == 0 and "STATE    Preparing" in result.stdout
    down = world.talosctl("service", "etcd", "-e", CP1, "-n", CP2)
    assert down.returncode == 1 and "dial tcp 10.0.48.11:50000: connect: no route to host" in down.stderr


def test_modules_run_directly_with_python_m(world):
    env = dict(world.env, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    talos = subprocess.run([sys.executable, "-m", "tests.world.talosctl", "version", "--client", "--short"],
                           env=env, capture_output=True, text=True, cwd=world.dir, timeout=60)
    assert talos.stdout == "Client:\nTalos v1.13.9\n"
    op_version = subprocess.run([sys.executable, "-m", "tests.world.op", "--version"], env=env,
                                capture_output=True, text=True, cwd=world.dir, timeout=60)
    assert op_version.stdout == "2.32.0\n"
