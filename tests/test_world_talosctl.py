"""The fake talosctl's apply-config and bootstrap, driven as a subprocess through its shim, each
expectation checked against siderolabs/talos v1.13.9 (file and function in the test's docstring).
Shared fixtures: tests/world/talos_testkit.py."""
from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.world import talos_state as st
from tests.world.fake_testkit import OTHER_CA, SECRET_TOKEN, machine_config, write_talosconfig
from tests.world.talos_testkit import (CP1, CP2, NODES, WK1, bootstrapped, configs, configure_all,  # noqa: F401
                                       insecure_apply, world)

UNREACHABLE_CP2 = ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
                   'dial tcp 10.0.48.12:50000: connect: no route to host"')
UNKNOWN_CA = ('rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake '
              'failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"')


def _changed(world, name: str, **overrides):
    """A changed config file for CP1."""
    path = world.dir / name
    path.write_text(machine_config("controlplane", "cp-1", **overrides))
    return path


# ---------------------------------------------------------------- apply-config: streams and modes

def test_insecure_apply_prints_mode_details_on_stderr_and_keeps_the_config_verbatim(world, configs):
    """helpers/mode.go PrintApplyResults: ModeDetails to stderr (Fprintln), stdout empty; maintenance
    AUTO -> NO_REBOOT (v1alpha1_server.go ApplyConfiguration). The node keeps the bytes verbatim."""
    result = insecure_apply(world, CP1, configs[CP1])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "Applied configuration without a reboot\n")
    node = world.node(CP1)
    assert node["stage"] == "configured" and node["config"] == configs[CP1].read_text()
    assert (node["machine_type"], node["cluster_name"], node["hostname"]) == ("controlplane", "demo", "cp-1")
    assert SECRET_TOKEN in node["config"]  # a real node holds its secrets


def test_insecure_apply_in_maintenance_rewrites_reboot_and_supports_staged(world, configs):
    """ApplyConfiguration: inMaintenance && REBOOT -> NO_REBOOT; STAGED -> "Staged configuration to be
    applied after the next reboot" (only the persistent config is written)."""
    reboot = insecure_apply(world, CP2, configs[CP2], "--mode", "reboot")
    assert reboot.stderr == "Applied configuration without a reboot\n"
    staged = insecure_apply(world, WK1, configs[WK1], "--mode=staged")
    assert (staged.returncode, staged.stdout, staged.stderr) == (0, "", "Staged configuration to be applied after the next reboot\n")
    assert world.node(WK1)["stage"] == "maintenance" and world.node(WK1)["persistent_config"]


def test_insecure_apply_on_configured_node_fails_with_certificate_required(world, configs):
    """--insecure: WithClientMaintenance, plain status (no multierror); apid wants a client certificate."""
    insecure_apply(world, CP1, configs[CP1])
    result = insecure_apply(world, CP1, configs[CP1])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('error applying new configuration: rpc error: code = Unavailable desc = connection error: '
                             'desc = "error reading server preface: remote error: tls: certificate required"\n')


def test_authenticated_apply_on_maintenance_endpoint_is_a_plain_tls_error(world, configs):
    """The endpoint itself fails TLS: the RPC fails before any proxying, so no multierror."""
    result = world.talosctl("apply-config", "-n", CP1, "-e", CP1, "-f", str(configs[CP1]))
    assert (result.returncode, result.stderr) == (1, f"error applying new configuration: {UNKNOWN_CA}\n")


def test_talosconfig_with_another_ca_is_rejected(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    other = write_talosconfig(world.dir / "other-talosconfig", [CP1], [CP1], ca=OTHER_CA)
    result = world.run("talosctl", "--talosconfig", str(other), "apply-config", "-f", str(configs[CP1]))
    assert (result.returncode, result.stderr) == (1, f"error applying new configuration: {UNKNOWN_CA}\n")


def test_dry_run_no_changes_goes_to_stderr(world, configs):
    """ApplyConfiguration dry run: `Dry run summary:\\n%s (skipped in dry-run).\\n%s`, generateDiff ->
    "Config diff:\\n\\nNo changes."; printed to stderr, stdout empty, nothing applied."""
    insecure_apply(world, CP1, configs[CP1])
    same = world.talosctl("apply-config", "--dry-run", "-n", CP1, "-f", str(configs[CP1]))
    assert (same.returncode, same.stdout) == (0, "")
    assert same.stderr == ("Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\n"
                           "Config diff:\n\nNo changes.\n")


def test_dry_run_unified_diff_and_the_reboot_decision(world, configs):
    """configdiff.DiffConfigs -> textdiff.Diff ("--- a\\n+++ b\\n@@ -l,n +l,n @@"); modeErr is not shown in a
    dry run; .machine.token is not in CanApplyImmediate's list, so auto means a reboot."""
    insecure_apply(world, CP1, configs[CP1])
    changed = _changed(world, "token.yaml", machine__token="n3wt0k.n3wt0k3nv4lu3000")
    diff = world.talosctl("apply-config", "--dry-run", "-n", CP1, "-f", str(changed))
    assert (diff.returncode, diff.stdout) == (0, "")
    head, _, body = diff.stderr.partition("Config diff:\n\n")
    assert head == "Dry run summary:\nApplied configuration with a reboot (skipped in dry-run).\n"
    assert body.startswith("--- a\n+++ b\n@@ -")
    assert f"-    token: {SECRET_TOKEN}\n" in body and "+    token: n3wt0k.n3wt0k3nv4lu3000\n" in body
    assert world.node(CP1)["config"] == configs[CP1].read_text()


def test_immediate_change_applies_without_reboot(world, configs):
    """.machine.install and .cluster are in the immediate list: auto -> "Applied configuration without a reboot"."""
    insecure_apply(world, CP1, configs[CP1])
    changed = _changed(world, "disk.yaml", machine__install={"disk": "/dev/nvme0n1"})
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(changed))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "Applied configuration without a reboot\n")
    assert world.node(CP1)["config"] == changed.read_text()


def test_only_the_v1alpha1_document_decides_about_a_reboot(world, configs):
    """CanApplyImmediate compares RawV1Alpha1() only: a changed HostnameConfig applies at once."""
    insecure_apply(world, CP1, configs[CP1])
    renamed = world.dir / "renamed.yaml"
    renamed.write_text(machine_config("controlplane", "cp-1b"))
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(renamed))
    assert result.stderr == "Applied configuration without a reboot\n"
    assert world.node(CP1)["hostname"] == "cp-1b"


def test_auto_reboot_prints_the_reason_and_the_node_reboots_into_the_new_config(world, configs):
    """auto + CanApplyImmediate error: "Applied configuration with a reboot" + ": " + "this config change
    can't be applied in immediate mode\\ndiff:\\n<diff>"; SequenceReboot: unreachable, then up with the
    persistent config; until then further applies fail FailedPrecondition."""
    st.set_node(world.dir, CP1, reboot_seconds=1.0)
    insecure_apply(world, CP1, configs[CP1])
    files = _changed(world, "files.yaml", machine__files=[{"path": "/var/f", "op": "create", "content": "x"}])
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(files))
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.startswith("Applied configuration with a reboot: this config change can't be applied in "
                                    "immediate mode\ndiff:\n--- a\n+++ b\n@@ ")
    assert "+    files:\n" in result.stderr
    assert world.node(CP1)["config"] == configs[CP1].read_text()
    down = world.talosctl("version", "-n", CP1)
    assert down.returncode == 1 and "connect: connection refused" in down.stderr
    time.sleep(1.1)
    assert world.node(CP1)["config"] == files.read_text()


def test_applying_again_while_rebooting_is_refused(world, configs):
    """applyConfigRebooted: FailedPrecondition until the reboot (here through another endpoint)."""
    configure_all(world, configs)
    st.set_node(world.dir, CP1, reboot_seconds=5.0)
    write_talosconfig(world.files["talosconfig"], [CP2], [CP1])
    world.talosctl("apply-config", "-f", str(configs[CP1]), "--mode", "reboot")
    st.set_node(world.dir, CP1, rebooting_until=None)  # answering again, the flag still set
    again = world.talosctl("apply-config", "-f", str(configs[CP1]))
    assert again.stderr == ("error applying new configuration: 1 error occurred:\n\t* 10.0.48.11: rpc error: code = "
                            "FailedPrecondition desc = configuration was already applied and node is rebooting, cannot "
                            "apply more configuration changes until next reboot\n\n\n")


def test_no_reboot_mode_refuses_a_reboot_change(world, configs):
    """--mode no-reboot: CanApplyImmediate's error as InvalidArgument, per node in a multierror."""
    insecure_apply(world, CP1, configs[CP1])
    changed = _changed(world, "token.yaml", machine__token="n3wt0k.n3wt0k3nv4lu3000")
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(changed), "--mode", "no-reboot")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error applying new configuration: 1 error occurred:\n\t* 10.0.48.11: rpc error: "
                                    "code = InvalidArgument desc = this config change can't be applied in immediate "
                                    "mode\ndiff:\n--- a\n+++ b\n")


def test_try_mode_rolls_back_after_the_timeout(world, configs):
    """try: "Applied configuration without a reboot\\nThe config is applied in 'try' mode and will be
    automatically reverted back in %s" (Duration.String); RollbackToConfigAfter restores the old config."""
    insecure_apply(world, CP1, configs[CP1])
    changed = _changed(world, "disk.yaml", machine__install={"disk": "/dev/nvme0n1"})
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(changed), "--mode", "try", "--timeout", "1s")
    assert result.stderr == ("Applied configuration without a reboot\nThe config is applied in 'try' mode and will be "
                             "automatically reverted back in 1s\n")
    assert world.node(CP1)["config"] == changed.read_text()
    time.sleep(1.2)
    assert world.node(CP1)["config"] == configs[CP1].read_text()


def test_staged_mode_writes_only_the_persistent_config(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    changed = _changed(world, "disk.yaml", machine__install={"disk": "/dev/nvme0n1"})
    staged = world.talosctl("apply-config", "-n", CP1, "-f", str(changed), "--mode=staged")
    assert staged.stderr == "Staged configuration to be applied after the next reboot\n"
    node = world.node(CP1)
    assert node["config"] == configs[CP1].read_text() and node["persistent_config"] == changed.read_text()


def test_multi_node_apply_prints_once_per_node_without_a_prefix(world, configs):
    """PrintApplyResults loops over the messages: one ModeDetails line per node, no node name."""
    configure_all(world, configs)
    result = world.talosctl("apply-config", "-n", f"{CP1},{CP2}", "-f", str(configs[CP1]), "--dry-run")
    assert result.stderr.count("Dry run summary:\n") == 2 and result.stdout == ""


def test_one_failing_node_hides_the_others_results(world, configs):
    """FilterMessages returns the multierror: nothing printed for the nodes that succeeded (they applied)."""
    configure_all(world, configs)
    st.set_node(world.dir, CP2, unreachable=True)
    changed = _changed(world, "disk.yaml", machine__install={"disk": "/dev/nvme0n1"})
    result = world.talosctl("apply-config", "-n", f"{CP1},{CP2}", "-f", str(changed))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error applying new configuration: 1 error occurred:\n\t* 10.0.48.12: {UNREACHABLE_CP2}\n\n\n"
    assert world.node(CP1)["config"] == changed.read_text()


def test_two_failing_nodes_use_the_plural_multierror(world, configs):
    """go-multierror ListFormatFunc: "%d errors occurred:\\n\\t%s\\n\\n" with "* " points joined by "\\n\\t"."""
    configure_all(world, configs)
    for addr in (CP2, WK1):
        st.set_node(world.dir, addr, unreachable=True)
    result = world.talosctl("apply-config", "-n", f"{CP2},{WK1}", "-f", str(configs[CP1]))
    assert result.stderr.startswith("error applying new configuration: 2 errors occurred:\n\t* 10.0.48.12: rpc error")
    assert "\n\t* 10.0.48.21: rpc error: code = Unavailable" in result.stderr and result.stderr.endswith("\n\n\n")


def test_config_without_v1alpha1_is_refused_outside_maintenance(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    only = world.dir / "only-hostname.yaml"
    only.write_text("apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n")
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(only))
    assert "code = InvalidArgument desc = the applied machine configuration doesn't contain v1alpha1 config, did you " \
           "mean to patch the machine config instead?" in result.stderr


def test_runtime_validation_of_the_kubelet_version(world, configs):
    """RuntimeValidate: "kubelet image is not valid: version of Kubernetes %s is too new to be used with Talos %s"."""
    insecure_apply(world, CP1, configs[CP1])
    new = _changed(world, "k.yaml", machine__kubelet={"image": "ghcr.io/siderolabs/kubelet:v1.37.0"})
    result = world.talosctl("apply-config", "-n", CP1, "-f", str(new))
    assert ("code = InvalidArgument desc = 1 error occurred:\n\t* kubelet image is not valid: version of Kubernetes "
            "1.37.0 is too new to be used with Talos 1.13.9\n\n") in result.stderr


def test_config_from_stdin_and_talosconfig_from_a_pipe_fd(world, configs):
    """One config.Open per WithClient: a pipe works for commands that open it once."""
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
    assert result.stderr.endswith("No changes.\n")


@pytest.mark.parametrize("text, needle", [
    ("machine: [unclosed", "code = InvalidArgument desc = decode error: yaml: line"),
    (machine_config(cluster__controlPlane=None), "* a cluster endpoint is required"),
    (machine_config(machine__type="router"), 'invalid machine type: "router"'),
    (machine_config(machine__ca__crt="op://talos/machine-ca/crt"), "illegal base64 data at input byte 2"),
])
def test_invalid_configs_are_rejected_in_maintenance_mode(world, text, needle):
    """Maintenance uses the same ApplyConfiguration: InvalidArgument, plain status (no multierror)."""
    path = world.dir / "bad.yaml"
    path.write_text(text)
    result = insecure_apply(world, CP1, path)
    assert result.returncode == 1 and needle in result.stderr
    assert result.stderr.startswith("error applying new configuration: rpc error: code = InvalidArgument desc = ")
    assert world.node(CP1)["stage"] == "maintenance"


def test_insecure_with_several_nodes_applies_to_the_first_only(world, configs):
    result = world.run("talosctl", "apply-config", "--insecure", "-n", f"{CP1},{CP2}", "-f", str(configs[CP1]))
    assert result.returncode == 0
    assert world.node(CP1)["stage"] == "configured" and world.node(CP2)["stage"] == "maintenance"


def test_missing_file_empty_file_and_positional_arguments(world):
    """apply-config.go RunE errors; cmd.Help() prints the help to stdout before them."""
    missing = world.run("talosctl", "apply-config", "-i", "-n", CP1, "-f", str(world.dir / "nope.yaml"))
    assert missing.stderr == (f'failed to read configuration from "{world.dir}/nope.yaml": open '
                              f'{world.dir}/nope.yaml: no such file or directory\n')
    assert world.run("talosctl", "apply-config", "-i", "-n", CP1).stderr == "no filename supplied for configuration\n"
    (world.dir / "empty.yaml").write_text("")
    empty = world.run("talosctl", "apply-config", "-i", "-n", CP1, "-f", str(world.dir / "empty.yaml"))
    assert empty.stderr == "no configuration data read\n"
    positional = world.run("talosctl", "apply-config", "config", "-f", "x")
    assert positional.stderr == "expected no positional arguments\n" and positional.stdout.startswith("Usage:")
    other = world.run("talosctl", "apply", "foo", "-f", "x")
    assert other.stderr == "unknown positional argument foo\n"


def test_concurrent_applies_do_not_lose_updates(world, configs):
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda a: insecure_apply(world, a, configs[a]), NODES))
    assert [r.returncode for r in results] == [0, 0, 0]
    assert {world.node(a)["stage"] for a in NODES} == {"configured"}


def test_unreachable_and_hanging_nodes(world, configs):
    st.set_node(world.dir, CP2, unreachable=True)
    result = insecure_apply(world, CP2, configs[CP2])
    assert result.stderr == f"error applying new configuration: {UNREACHABLE_CP2}\n"
    st.set_node(world.dir, CP1, hang_seconds=0.5)
    start = time.monotonic()
    assert insecure_apply(world, CP1, configs[CP1]).returncode == 0 and time.monotonic() - start >= 0.5


# ---------------------------------------------------------------- bootstrap

def test_bootstrap_before_ready_is_a_failed_precondition_in_a_multierror(world, configs):
    """bootstrap.go: "error executing bootstrap: %w"; even one -n goes One2Many (apid director.go)."""
    st.set_node(world.dir, CP1, ready_after=30)
    insecure_apply(world, CP1, configs[CP1])
    result = world.talosctl("bootstrap", "-n", CP1)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("error executing bootstrap: 1 error occurred:\n\t* 10.0.48.11: rpc error: code = "
                             "FailedPrecondition desc = bootstrap is not available yet\n\n\n")


def test_bootstrap_once_ready_then_already_exists(world, configs):
    """Bootstrap: silent on success; the node's own etcd data directory -> AlreadyExists."""
    st.set_node(world.dir, CP1, ready_after=0.4)
    insecure_apply(world, CP1, configs[CP1])
    time.sleep(0.5)
    assert (lambda r: (r.returncode, r.stdout, r.stderr))(world.talosctl("bootstrap", "-n", CP1)) == (0, "", "")
    assert world.node(CP1)["stage"] == "bootstrapped" and world.node(CP1)["etcd"] == "Running"
    again = world.talosctl("bootstrap", "-n", CP1)
    assert again.stderr == ("error executing bootstrap: 1 error occurred:\n\t* 10.0.48.11: rpc error: code = "
                            "AlreadyExists desc = etcd data directory is not empty\n\n\n")


def test_bootstrap_on_a_worker_and_on_several_nodes(world, configs):
    """CheckControlplane: Unimplemented "bootstrap is only available on control plane nodes";
    `command "bootstrap" is not supported with multiple nodes` (+ usage: the text has "command")."""
    configure_all(world, configs)
    worker = world.talosctl("bootstrap", "-n", WK1)
    assert worker.stderr == ("error executing bootstrap: 1 error occurred:\n\t* 10.0.48.21: rpc error: code = "
                             "Unimplemented desc = bootstrap is only available on control plane nodes\n\n\n")
    several = world.talosctl("bootstrap", "-n", f"{CP1},{CP2}")
    assert several.stderr.startswith('command "bootstrap" is not supported with multiple nodes\n\nUsage:\n')


def test_second_control_plane_joins_and_its_bootstrap_is_already_exists(bootstrapped):
    result = bootstrapped.talosctl("bootstrap", "-n", CP2)
    assert "10.0.48.12: rpc error: code = AlreadyExists desc = etcd data directory is not empty" in result.stderr


# ---------------------------------------------------------------- CLI surface

def test_unknown_flag_and_command(world):
    """pflag "unknown flag: --%s", cobra "unknown command %q for %q" + suggestions; usage follows."""
    flag = world.run("talosctl", "apply-config", "--bogus")
    assert flag.returncode == 1 and flag.stderr.startswith("unknown flag: --bogus\n\nUsage:\n  talosctl apply-config")
    command = world.run("talosctl", "bootstrp")
    assert command.stderr.startswith('unknown command "bootstrp" for "talosctl"\n\nDid you mean this?\n\tbootstrap\n')


@pytest.mark.parametrize("args, message", [
    (["apply-config", "--mode", "fast", "-f", "x"],
     'invalid argument "fast" for "-m, --mode" flag: possible options are: auto, no-reboot, reboot, staged, try'),
    (["apply-config", "-f"], "flag needs an argument: 'f' in -f"),
    (["health", "--wait-timeout", "soon"], 'invalid argument "soon" for "--wait-timeout" flag: time: invalid duration "soon"'),
    (["upgrade", "-m", "fast"], 'invalid argument "fast" for "-m, --reboot-mode" flag: must be one of [default force powercycle]'),
])
def test_flag_value_errors(world, args, message):
    result = world.run("talosctl", *args)
    assert result.returncode == 1 and result.stderr.startswith(message + "\n\nUsage:")


def test_modules_run_directly_with_python_m(world):
    import sys

    env = dict(world.env, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    talos = subprocess.run([sys.executable, "-m", "tests.world.talosctl", "version", "--client", "--short"],
                           env=env, capture_output=True, text=True, cwd=world.dir, timeout=60)
    assert talos.stdout == "Client:\nTalos v1.13.9\n"
    op_version = subprocess.run([sys.executable, "-m", "tests.world.op", "--version"], env=env,
                                capture_output=True, text=True, cwd=world.dir, timeout=60)
    assert op_version.stdout == "2.32.0\n"
