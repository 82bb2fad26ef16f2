"""Everything the tool prints, in one place: progress lines for people (stderr), results that are
the command's answer (stdout: the plan, the list of problems), and the structured event log for
CI (JSON lines in build/events.jsonl). Only names, argv and timings are logged: never stdin, never
command output, so nothing `op inject` resolved can reach a log."""
from __future__ import annotations

import json
import os
import sys
import time

from . import paths


def say(message: str) -> None:
    """One progress line for the person watching (stderr)."""
    print(f"  {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """A warning: something was not checked or not done, and the run goes on (stderr)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def answer(line: str = "") -> None:
    """One line of the command's own answer (stdout): the plan, a rendered file's fate."""
    print(line, flush=True)


def event(kind: str, **fields) -> None:
    """Append one JSON line to the event log (best effort: logging never fails a stage)."""
    record = {"ts": round(time.time(), 3), "event": kind, **fields}
    try:
        paths.EVENTS.parent.mkdir(parents=True, exist_ok=True)
        with open(paths.EVENTS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
    except OSError:
        pass


def waiting(what: str, deadline: float) -> None:
    """Say what a wait is waiting for and how long it may take."""
    left = max(0.0, deadline - time.monotonic())
    say(f"waiting up to {left:.0f}s for {what}")
    event("wait", what=what, seconds=round(left, 1), pid=os.getpid())
