"""The per-run memo of facts."""
from __future__ import annotations

from tasks import paths
from tasks.facts import Facts
from tests.stand_ins import executable

def test_the_client_config_is_resolved_once_per_run(tmp_path, monkeypatch):
    """Polling waits invalidate cluster facts, not the talosconfig: one `op inject` per run."""
    calls = tmp_path / "calls"
    monkeypatch.setenv("OP", executable(tmp_path, "op", f'echo call >> {calls}; echo "context: home"'))
    monkeypatch.setattr(paths, "TALOSCONFIG", tmp_path / "talos" / "talosconfig.yaml")
    (tmp_path / "talos").mkdir()
    (tmp_path / "talos" / "talosconfig.yaml").write_text("context: home\n")
    found = Facts(cluster=None)
    for _ in range(3):
        assert found.talosconfig() == ("context: home\n", "")
        found.invalidate()
    assert calls.read_text().count("call") == 1
