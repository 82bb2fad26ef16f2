"""Progress for people (one line per step, on stderr) and a structured event log for CI
(JSON lines in build/events.jsonl). Only names, argv and timings are logged: never stdin,
never command output, so nothing `op inject` resolved can reach a log."""
from __future__ import annotations

import json
import os
import sys
import time

from . import paths

EVENTS = paths.BUILD / "events.jsonl"


def say(message: str) -> None:
    """One progress line for the person watching."""
    print(f"  {message}", file=sys.stderr, flush=True)


def event(kind: str, **fields) -> None:
    """Append one JSON line to the event log (best effort: logging never fails a stage)."""
    record = {"ts": round(time.time(), 3), "event": kind, **fields}
    try:
        EVENTS.parent.mkdir(parents=True, exist_ok=True)
        with open(EVENTS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
    except OSError:
        pass


def waiting(what: str, deadline: float) -> None:
    """Say what a wait is waiting for and how long it may take."""
    left = max(0.0, deadline - time.monotonic())
    say(f"waiting up to {left:.0f}s for {what}")
    event("wait", what=what, seconds=round(left, 1), pid=os.getpid())
