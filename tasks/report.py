"""Everything the tool prints, in one place: progress lines for people (stderr), results that are
the command's answer (stdout: the plan, the list of problems), and the structured event log for
CI (JSON lines in build/events.jsonl, one `run` id per doit run). Only names, argv, decisions and
timings are logged: never stdin, never command output, so nothing `op inject` resolved can reach a log.

BOOTSTRAP_VERBOSE=1 shows the detail a normal run folds: every up-to-date stage with its reason,
each offline schema warning, what had no upstream schema."""
from __future__ import annotations

import json
import os
import sys
import time

from . import paths

VERBOSE_ENV = "BOOTSTRAP_VERBOSE"
ROTATE_BYTES = 5_000_000            # events.jsonl moves to events.jsonl.1 beyond this size
RUN = f"{int(time.time())}-{os.getpid()}"
_decisions: dict[str, tuple[bool, str]] = {}     # stage -> (would run, reasons) as last decided
_current = {"stage": None}
# Events wait in memory until the run touches the cluster (a stage, `plan`, `trust-cluster`): a
# render-only run, or one refused for bad input, leaves build/ as it was.
_log = {"open": False, "pending": []}


def verbose() -> bool:
    """Whether the run shows the folded detail (BOOTSTRAP_VERBOSE=1/true/yes)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def decided(stage: str, run: bool, reasons: str) -> None:
    """Remember a stage's latest decision (for the line the reporter prints and the event log)."""
    _decisions[stage] = (run, reasons)


def decision(stage: str) -> tuple[bool, str] | None:
    """A stage's latest decision in this run, if one was made."""
    return _decisions.get(stage)


def working_on(stage: str | None) -> None:
    """The task the next events belong to (tool calls name it)."""
    _current["stage"] = stage


def say(message: str) -> None:
    """One progress line for the person watching (stderr)."""
    print(f"  {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """A warning: something was not checked or not done, and the run goes on (stderr)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def answer(line: str = "") -> None:
    """One line of the command's own answer (stdout): the plan, a rendered file's fate."""
    try:
        print(line, flush=True)
    except BrokenPipeError:       # the reader went away (`doit plan | head`): the rest is not wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def event(kind: str, flush: bool = True, **fields) -> None:
    """Add one JSON line to the event log (best effort: logging never fails a stage). `flush=False`
    lets a line that records no change wait for the next one (one append for a run's up-to-date stages)."""
    record = {"ts": round(time.time(), 3), "run": RUN, "event": kind, **fields}
    if _current["stage"] and "stage" not in fields:
        record["stage"] = _current["stage"]
    _log["pending"].append(json.dumps(record, default=str) + "\n")
    if _log["open"] and flush:
        _flush()


def open_log() -> None:
    """From now on events reach build/events.jsonl (with those that waited in memory)."""
    if not _log["open"]:
        _log["open"] = True
        _flush()


def _flush() -> None:
    """Append the pending lines; the log moves to events.jsonl.1 once it grows past ROTATE_BYTES."""
    lines, _log["pending"] = _log["pending"], []
    try:
        paths.EVENTS.parent.mkdir(parents=True, exist_ok=True)
        if paths.EVENTS.exists() and paths.EVENTS.stat().st_size > ROTATE_BYTES:
            os.replace(paths.EVENTS, paths.EVENTS.with_name(paths.EVENTS.name + ".1"))
        with open(paths.EVENTS, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
    except OSError:
        pass


def waiting(what: str, deadline: float) -> None:
    """Say what a wait is waiting for and how long it may take."""
    left = max(0.0, deadline - time.monotonic())
    say(f"waiting up to {left:.0f}s for {what}")
    event("wait", what=what, seconds=round(left, 1), pid=os.getpid())
