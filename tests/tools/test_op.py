"""`op inject` in memory: its output never reaches an error message."""
from __future__ import annotations

from tasks.tools import op
from tests.stand_ins import executable

def test_stdout_never_reaches_an_error_message(tmp_path, monkeypatch):
    """A failing command's stdout (op inject output, secret data) stays out of the message."""
    monkeypatch.setenv("OP", executable(tmp_path, "op", 'echo "token: s3cr3t-VALUE"; exit 1'))
    text, error = op.inject_text("token: op://v/i/f\n", "resources")
    assert text is None and "s3cr3t" not in error and "exit code 1" in error

def test_op_failure_returns_its_message_and_no_text(tmp_path, monkeypatch):
    """An op failure gives op's own message and nothing else to pass on."""
    monkeypatch.setenv("OP", executable(tmp_path, "op", 'echo "[ERROR] 2026/11/26 10:00:00 You are not currently '
                                                    'signed in." >&2; exit 1'))
    text, error = op.inject_text("token: op://homelab/item/token\n", "resources")
    assert text is None and "You are not currently signed in" in error
