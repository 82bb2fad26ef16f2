"""The command gateway, the address map, op inject in memory, and fact parsing: fast unit tests
with tiny stand-in executables (no world needed)."""
from __future__ import annotations

import base64
import gzip
import json
import stat
import time
from pathlib import Path

import pytest

from tasks import facts, reach, secrets, tools


def _script(tmp_path, name: str, body: str):
    """An executable shell script standing in for a tool."""
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_a_hanging_command_meets_its_deadline(tmp_path, monkeypatch):
    """A command that hangs is stopped at its timeout with a message naming the deadline."""
    monkeypatch.setenv("HELMFILE", _script(tmp_path, "helmfile", "sleep 30"))
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
    monkeypatch.setenv("KUBECTL", _script(tmp_path, "kubectl",
                                          'echo "$KUBECONFIG|$TALOSCONFIG|$HELM_KUBECONTEXT|$OP_SERVICE_ACCOUNT_TOKEN|$*"'))
    result = tools.kubectl(["get", "ns"])
    kubeconfig, talosconfig, context, token, args = result.stdout.strip().split("|")
    assert kubeconfig == str(tools.KUBECONFIG) and talosconfig == "" and context == "" and token == ""
    assert args.startswith(f"--kubeconfig {tools.KUBECONFIG} get ns")


def test_talosctl_gets_its_config_through_a_pipe(tmp_path, monkeypatch):
    """The client config reaches talosctl as /dev/fd/N, never as a file on disk."""
    monkeypatch.setenv("TALOSCTL", _script(tmp_path, "talosctl", 'echo "$2"; cat "$2"'))
    result = tools.talosctl(["version"], "context: home\n")
    path, content = result.stdout.split("\n", 1)
    assert path.startswith("/dev/fd/") and content == "context: home\n"


def test_a_command_that_cannot_start_is_a_result_not_an_exception(tmp_path, monkeypatch):
    """A directory or a file that is not executable: exit 126 with the reason, nothing raised."""
    monkeypatch.setenv("KUBECTL", str(tmp_path))
    result = tools.kubectl(["get", "ns"])
    assert result.returncode == 126 and "cannot run" in result.message()


def test_stdout_never_reaches_an_error_message(tmp_path, monkeypatch):
    """A failing command's stdout (op inject output, secret data) stays out of the message."""
    monkeypatch.setenv("OP", _script(tmp_path, "op", 'echo "token: s3cr3t-VALUE"; exit 1'))
    text, error = secrets.inject_text("token: op://v/i/f\n", "resources")
    assert text is None and "s3cr3t" not in error and "exit code 1" in error


def test_missing_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("OP", "/nonexistent/op")
    result = tools.run("op", ["whoami"])
    assert result.returncode == 127 and "install it or set OP" in result.message()


def test_op_failure_returns_its_message_and_no_text(tmp_path, monkeypatch):
    """An op failure gives op's own message and nothing else to pass on."""
    monkeypatch.setenv("OP", _script(tmp_path, "op", 'echo "[ERROR] 2026/11/26 10:00:00 You are not currently '
                                                    'signed in." >&2; exit 1'))
    text, error = secrets.inject_text("token: op://homelab/item/token\n", "resources")
    assert text is None and "You are not currently signed in" in error


def test_address_map_parsing_and_lookup(monkeypatch):
    """host:port entries win over host entries; unmapped addresses stay as they are."""
    monkeypatch.setenv(reach.ENV, "10.0.48.55:6443=127.0.0.1:16443, 10.0.48.11=127.0.0.1")
    assert reach.reach("10.0.48.55", 6443) == ("127.0.0.1", 16443)
    assert reach.reach("10.0.48.11", 6443) == ("127.0.0.1", 6443)
    assert reach.reach("10.0.48.12", 6443) == ("10.0.48.12", 6443)
    with pytest.raises(ValueError, match="expected from=to pairs"):
        reach.address_map("10.0.48.55")


def _release_secret(name: str, version: int, status: str, chart_version: str, values: dict) -> dict:
    release = {"name": name, "namespace": "kube-system", "version": version, "info": {"status": status},
               "chart": {"metadata": {"version": chart_version}}, "config": values}
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {"kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{name}.v{version}", "namespace": "kube-system"},
            "data": {"release": base64.b64encode(packed.encode()).decode()}}


def test_helm_release_storage_is_decoded_and_the_newest_revision_wins():
    """Release Secrets become ReleaseFacts; other Secrets keep only digests of their values."""
    found = facts.KubeFacts(True)
    facts._absorb(found, [_release_secret("cilium", 2, "deployed", "1.19.4", {"a": 2}),
                          _release_secret("cilium", 1, "superseded", "1.19.3", {"a": 1}),
                          {"kind": "Secret", "metadata": {"name": "s", "namespace": "x"}, "data": {"k": "c2VjcmV0"}}])
    assert found.releases["cilium"].status == "deployed"
    assert found.releases["cilium"].chart_version == "1.19.4" and found.releases["cilium"].values == {"a": 2}
    kept = found.get("Secret", "s", "x")
    assert kept["data"]["k"] == facts.digest("c2VjcmV0") and "c2VjcmV0" not in json.dumps(kept)


def test_talosctl_json_stream_is_parsed():
    """talosctl -o json prints one indented object after another."""
    text = json.dumps({"node": "a"}, indent=4) + "\n" + json.dumps({"node": "b"}, indent=4) + "\n"
    assert [i["node"] for i in facts.json_stream(text)] == ["a", "b"]


def test_a_timeout_stops_what_the_command_started_too(tmp_path, monkeypatch):
    """helmfile runs helm: on a deadline (or Ctrl-C) the whole process group goes, no orphan."""
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("HELMFILE", _script(tmp_path, "helmfile", f'sleep 30 & echo $! > {pid_file}; wait'))
    result = tools.run("helmfile", ["sync"], timeout=0.5)
    assert result.returncode == 124
    child = int(pid_file.read_text())
    time.sleep(0.2)
    state = Path(f"/proc/{child}/status")
    assert not state.exists() or "zombie" in state.read_text().lower()


def test_the_client_config_is_resolved_once_per_run(tmp_path, monkeypatch):
    """Polling waits invalidate cluster facts, not the talosconfig: one `op inject` per run."""
    calls = tmp_path / "calls"
    monkeypatch.setenv("OP", _script(tmp_path, "op", f'echo call >> {calls}; echo "context: home"'))
    monkeypatch.setattr(tools.paths, "BUILD", tmp_path)
    (tmp_path / "talos").mkdir()
    (tmp_path / "talos" / "talosconfig.yaml").write_text("context: home\n")
    found = facts.Facts(cluster=None)
    for _ in range(3):
        assert found.talosconfig() == ("context: home\n", "")
        found.invalidate()
    assert calls.read_text().count("call") == 1
