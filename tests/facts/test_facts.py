"""The per-run memo of facts."""
from __future__ import annotations

import sys

from tasks import paths
from tasks.facts import Facts
from tests.project import REPO_ROOT
from tests.stand_ins import executable
from tests.world import op as fake_op


def test_the_client_config_is_resolved_once_per_run(tmp_path, monkeypatch):
    """Polling waits invalidate cluster facts, not the talosconfig: one `op inject` per run."""
    calls = tmp_path / "calls"
    monkeypatch.setenv("OP", executable(tmp_path, "op", f'echo call >> {calls}; cd {REPO_ROOT} && '
                                                        f'exec {sys.executable} -m tests.world.op "$@"'))
    monkeypatch.setenv("OP_WORLD_DIR", str(tmp_path))
    fake_op.write_state(tmp_path, signed_in=True, vaults={"home": {"talos": {"talosconfig-key": "key-material"}}})
    monkeypatch.setattr(paths, "TALOSCONFIG", tmp_path / "talos" / "talosconfig.yaml")
    (tmp_path / "talos").mkdir()
    (tmp_path / "talos" / "talosconfig.yaml").write_text("context: home\nkey: op://home/talos/talosconfig-key\n")
    found = Facts(cluster=None)
    for _ in range(3):
        assert found.talosconfig() == ("---\ncontext: home\nkey: key-material\n", "")
        found.invalidate()
    assert calls.read_text().count("call") == 1
