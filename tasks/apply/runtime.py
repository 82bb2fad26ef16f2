"""Per-run state of the apply chain: the cluster, its stage table, its facts and the run lock.
Created on first use, so `doit list` and `doit render` never touch the cluster."""
from __future__ import annotations

import fcntl
import os
import signal

from .. import paths
from ..facts import Facts
from ..problems import format_problems
from ..settings import load
from ..tools.reach import address_map
from .table import stage_table


class Runtime:
    """The run's cluster, stages, facts and lock; `error` says why the run cannot go on."""

    _current = None
    _lock_handle = None

    def __init__(self):
        # The `check` task (a dependency of every stage) already validated these very files.
        self.stages, self.facts, self.error = {}, None, None
        cluster = load.cluster()
        if cluster is None:
            self.error = format_problems(list(load.problems()), "bootstrap check failed")
            return
        self.cluster = cluster
        self.stages = {stage.name: stage for stage in stage_table(cluster)}
        self.facts = Facts(cluster)
        self.error = paths.unsafe_build() or _address_map_error() or _take_lock()
        if self.error is None:
            self.facts.prefetch()
        # doit saves finished tasks on KeyboardInterrupt only: make SIGTERM one.
        signal.signal(signal.SIGTERM, _interrupt)

    @classmethod
    def get(cls) -> "Runtime":
        """The run's Runtime, created once; a failure to create it is kept as its error."""
        if cls._current is None:
            try:
                cls._current = Runtime()
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
