"""Tiny stand-in executables for unit tests of the gateway (no world needed)."""
from __future__ import annotations

import stat


def executable(tmp_path, name: str, body: str) -> str:
    """An executable shell script standing in for a tool; its path."""
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)
