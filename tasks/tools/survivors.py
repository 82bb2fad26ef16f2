"""Tools a killed run left behind: every process a run starts (and whatever those start: helmfile's
helm) carries the run's mark in its environment (gateway.RUN_MARK = this checkout). Direct children
die with their run (PR_SET_PDEATHSIG); a grandchild may not, and may still be changing the cluster
(an orphaned `helm upgrade`). The next run finds them here and waits for them, or refuses, naming
them, before it acts."""
from __future__ import annotations

import os
from pathlib import Path

from .. import paths
from .gateway import RUN_MARK


def _environ(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:         # gone, or another user's: not ours either way
        return b""


def _command_line(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "(gone)"


def survivors() -> list[tuple[int, str]]:
    """(pid, command line) of every live process carrying this checkout's run mark, except this one."""
    mark = f"{RUN_MARK}={paths.ROOT}".encode()
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
        if mark in _environ(pid).split(b"\0") and not _zombie(pid):
            found.append((int(pid), _command_line(pid)))
    return found


def _zombie(pid: str) -> bool:
    """A process that exited and waits to be reaped changes nothing any more."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def describe(found: list[tuple[int, str]]) -> str:
    """The survivors, one `pid N: command` each, command lines cut short."""
    return "; ".join(f"pid {pid}: {command[:120]}" for pid, command in found)
