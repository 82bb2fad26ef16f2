"""Per-run state of the apply chain: the cluster, its stage table, its facts and the run lock.
Created on first use, so `doit list` and `doit render` never touch the cluster."""
from __future__ import annotations

import fcntl
import os
import signal
import time

from .. import paths, report
from ..facts import Facts
from ..problems import format_problems
from ..settings import load
from ..tools.reach import address_map
from ..tools.survivors import describe, survivors
from .inventory import strange_nodes
from .table import stage_table
from .waits import deadline


class Runtime:
    """The run's cluster, stages, facts and lock; `error` says why the run cannot go on."""

    _current = None
    _lock_handle = None

    def __init__(self, read_only: bool = False):
        # The `check` task (a dependency of every stage) already validated these very files.
        self.stages, self.facts, self.error, self.note = {}, None, None, None
        cluster = load.cluster()
        if cluster is None:
            self.error = format_problems(list(load.problems()), "bootstrap check failed")
            return
        self.cluster = cluster
        self.stages = {stage.name: stage for stage in stage_table(cluster)}
        self.facts = Facts(cluster)
        self.error = paths.unsafe_build() or _address_map_error()
        if read_only:           # `doit plan` changes nothing: it only says when a run is at work
            self.note = _lock_holder()
        elif self.error is None:
            self.error = _take_lock() or _await_survivors()
        if self.error is None:
            self.facts.prefetch()
            if not read_only:       # a run says what it will not touch (plan says it too)
                for line in strange_nodes(self.facts):
                    report.warn(f"{line}; a run never removes it: `doit remove-node --name <node>` does")
        # doit saves finished tasks on KeyboardInterrupt only: make SIGTERM one.
        signal.signal(signal.SIGTERM, _interrupt)

    @classmethod
    def get(cls, read_only: bool = False) -> "Runtime":
        """The run's Runtime, created once; a failure to create it is kept as its error."""
        if cls._current is None:
            try:
                cls._current = Runtime(read_only)
            except Exception as err:      # never retried: a retry would trip over its own lock
                broken = cls.__new__(cls)
                broken.error, broken.stages, broken.facts = f"cannot start the run: {err}", {}, None
                cls._current = broken
        return cls._current


def _address_map_error() -> str | None:
    """BOOTSTRAP_ADDRESS_MAP problems, found before any stage uses the map."""
    try:
        address_map()
    except ValueError as err:
        return str(err)
    return None


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _lock_holder() -> str | None:
    """Who holds the run lock, if a run does (without taking it)."""
    try:
        with open(paths.LOCK, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                return (f"a bootstrap run holds {paths.rel(paths.LOCK)} (pid {handle.read().strip() or '?'}): "
                        "this plan shows the cluster mid-run")
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return None
    return None


def _await_survivors() -> str | None:
    """Wait (with a deadline) for tools a killed run left behind; refuse, naming them, if they stay."""
    found = survivors()
    if not found:
        return None
    seconds = deadline("survivors", 600)
    end = time.monotonic() + seconds
    report.waiting(f"tools a killed run left behind to finish ({describe(found)})", end)
    while found and time.monotonic() < end:
        time.sleep(0.5)
        found = survivors()
    if found:
        return (f"tools a killed run left behind still run after {seconds:.0f}s: {describe(found)}; let them finish "
                "or stop them, then rerun")
    return None


def _take_lock() -> str | None:
    """An exclusive lock for this process; a message if another run holds it."""
    paths.LOCK.parent.mkdir(parents=True, exist_ok=True)
    handle = open(paths.LOCK, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        return f"another bootstrap run holds {paths.rel(paths.LOCK)} (pid {handle.read().strip() or '?'})"
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    Runtime._lock_handle = handle       # keep it open (and locked) for the whole run
    return None
