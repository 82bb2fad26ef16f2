"""The command gateway: deadlines, process groups, the explicit environment, typed failures."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tasks import paths, tools
from tests.stand_ins import executable


def test_a_hanging_command_meets_its_deadline(tmp_path, monkeypatch):
    """A command that hangs is stopped at its timeout with a message naming the deadline."""
    monkeypatch.setenv("HELMFILE", executable(tmp_path, "helmfile", "sleep 30"))
    result = tools.run("helmfile", ["sync"], timeout=0.5)
    assert result.returncode == 124
    assert result.message() == "helmfile sync: no answer within 0.5s (deadline)"
    assert result.seconds < 5

def test_tools_never_see_the_ambient_cluster(tmp_path, monkeypatch):
    """KUBECONFIG, TALOSCONFIG and helm contexts from the user's shell are replaced or dropped."""
    monkeypatch.setenv("KUBECONFIG", "/home/someone/.kube/prod")
    monkeypatch.setenv("TALOSCONFIG", "/home/someone/.talos/config")
    monkeypatch.setenv("HELM_KUBECONTEXT", "prod")
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", "ops_token")
    monkeypatch.setenv("KUBECTL", executable(tmp_path, "kubectl",
                                          'echo "$KUBECONFIG|$TALOSCONFIG|$HELM_KUBECONTEXT|$OP_SERVICE_ACCOUNT_TOKEN|$*"'))
    result = tools.kubectl(["get", "ns"])
    kubeconfig, talosconfig, context, token, args = result.stdout.strip().split("|")
    assert kubeconfig == str(paths.KUBECONFIG) and talosconfig == "" and context == "" and token == ""
    assert args.startswith(f"--kubeconfig {paths.KUBECONFIG} get ns")

def test_talosctl_gets_its_config_as_an_in_memory_file_it_can_read_twice(tmp_path, monkeypatch):
    """The client config reaches talosctl as /dev/fd/N of a memfd, never as a file on disk, and every
    open reads it whole (talosctl upgrade opens it more than once)."""
    monkeypatch.setenv("TALOSCTL", executable(tmp_path, "talosctl", 'echo "$2"; cat "$2"; cat "$2"; '
                                                                    'readlink "$2"'))
    result = tools.talosctl(["version"], "context: home\n")
    path, first, second, target = result.stdout.split("\n", 3)
    assert path.startswith("/dev/fd/") and first == second == "context: home"
    assert target.startswith("/memfd:talosconfig")

def test_a_command_that_cannot_start_is_a_result_not_an_exception(tmp_path, monkeypatch):
    """A directory or a file that is not executable: exit 126 with the reason, nothing raised."""
    monkeypatch.setenv("KUBECTL", str(tmp_path))
    result = tools.kubectl(["get", "ns"])
    assert result.returncode == 126 and "cannot run" in result.message()

def test_missing_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("OP", "/nonexistent/op")
    result = tools.run("op", ["whoami"])
    assert result.returncode == 127 and "install it or set OP" in result.message()

def test_a_timeout_stops_what_the_command_started_too(tmp_path, monkeypatch):
    """helmfile runs helm: on a deadline (or Ctrl-C) the whole process group goes, no orphan."""
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("HELMFILE", executable(tmp_path, "helmfile", f'sleep 30 & echo $! > {pid_file}; wait'))
    result = tools.run("helmfile", ["sync"], timeout=0.5)
    assert result.returncode == 124
    child = int(pid_file.read_text())
    time.sleep(0.2)
    state = Path(f"/proc/{child}/status")
    assert not state.exists() or "zombie" in state.read_text().lower()


@pytest.mark.parametrize("name, reaches", [
    ("HELM_DRIVER", False), ("HELM_NAMESPACE", False), ("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", False),
    ("HELM_KUBECONTEXT", False), ("TALOSCONFIG", False), ("TALOS_HOME", False), ("KUBECONFIG", False),
    ("HELMFILE_ENVIRONMENT", False), ("HELM_CACHE_HOME", True), ("HELM_REGISTRY_CONFIG", True),
    ("KUBECACHEDIR", True), ("HELMFILE_V1MODE", True), ("HOME", True)])
def test_only_honoured_tool_variables_reach_the_tools(tmp_path, monkeypatch, name, reaches):
    """Variables that change where a tool keeps state, which cluster it talks to or how it checks TLS
    never reach it; the README's list of honoured ones does."""
    monkeypatch.setenv(name, "from-the-shell")
    monkeypatch.setenv("HELM", executable(tmp_path, "helm", f'echo "${{{name}}}"'))
    assert (tools.run("helm", []).stdout.strip() == "from-the-shell") is reaches
