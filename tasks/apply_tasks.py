"""doit task creators for the apply chain: one task per stage, in the required order, each with
`file_dep` on its inputs and an `uptodate` check that asks the live cluster; `bootstrap` runs them
all and `plan` prints what a run would do, and why, without changing anything."""
from __future__ import annotations

import fcntl
import os
import signal
import sys

from . import paths
from .problems import format_problems

LOCK = paths.BUILD / ".bootstrap.lock"


class Runtime:
    """Per-run state: the validated cluster, its facts, the run lock. Created on first use so
    `doit list` and `doit render` never touch the cluster."""

    _current = None

    def __init__(self):
        from .config import build_cluster, load_documents
        from .facts import Facts
        from .stages import stage_table
        # The `check` task (a dependency of every stage) already validated these very files.
        docs, problems = load_documents(validate=False)
        self.error = format_problems(problems, "bootstrap check failed") if problems else None
        self.stages, self.facts = {}, None
        if self.error:
            return
        self.cluster = build_cluster(docs)
        self.stages = {stage.name: stage for stage in stage_table(self.cluster)}
        self.facts = Facts(self.cluster)
        self.error = _address_map_error() or _take_lock()
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
    from .reach import address_map
    try:
        address_map()
    except ValueError as err:
        return str(err)
    return None


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _take_lock() -> str | None:
    """An exclusive lock for this process; a message if another run holds it."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    handle = open(LOCK, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        return f"another bootstrap run holds {paths.rel(LOCK)} (pid {handle.read().strip() or '?'})"
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    Runtime._lock_handle = handle       # keep it open (and locked) for the whole run
    return None


def stage_uptodate(name: str):
    """doit uptodate: True only when the cluster shows the stage done and its inputs are unchanged."""
    def check(task, values):
        from .stages import decide
        try:
            runtime = Runtime.get()
            if runtime.error or name not in runtime.stages:
                return False
            return not decide(runtime.stages[name], runtime.facts).run
        except Exception:    # never into doit: "not up to date", and the action says why
            return False
    return check


def stage_action(name: str):
    """doit action: run the stage; a failure names the stage and the cause."""
    def act():
        from doit.exceptions import TaskFailed
        from .stages import run_stage
        try:
            runtime = Runtime.get()
            if runtime.error:
                return TaskFailed(runtime.error)
            error = run_stage(runtime.stages[name], runtime.facts)
        except Exception as err:     # a bug or an unexpected failure: one line naming the stage
            error = f"unexpected {type(err).__name__}: {err}"
        return TaskFailed(f"stage {name} failed: {error}") if error else True
    return act


def light_stages():
    """The stage table from the raw settings, unvalidated (cheap, for task creation); none when
    they do not even parse: `check` then says why, and no stage can run."""
    from .config import build_cluster, quick_settings
    from .stages import stage_table
    from .yamlio import Document
    try:
        docs = {name: Document(name, data) for name, data in quick_settings().items()}
        stages = stage_table(build_cluster(docs))
    except Exception:   # reported precisely by `check`
        return []
    names = [stage.name for stage in stages]
    return stages if len(set(names)) == len(names) else []   # duplicate node names: `check` names them


def task_stages():
    """The bootstrap stages, in order."""
    previous = "render"
    for stage in light_stages():
        yield {
            "basename": stage.name,
            "doc": stage.doc,
            "actions": [stage_action(stage.name)],
            "file_dep": [paths.rel(f) for f in stage.files()],
            "uptodate": [stage_uptodate(stage.name)],
            "task_dep": [previous],
            "verbosity": 2,
        }
        previous = stage.name
    yield {"basename": "bootstrap", "doc": "Everything: render, then every stage up to a reconciling Flux",
           "actions": None, "task_dep": [previous]}


def print_plan():
    """Print each stage as 'up to date' or 'would run', with the reason; change nothing."""
    from doit.exceptions import TaskFailed
    from .stages import decide
    runtime = Runtime.get()
    if runtime.error and not runtime.stages:
        return TaskFailed(runtime.error)
    width = max(len(name) for name in runtime.stages)
    for stage in runtime.stages.values():
        print(f"{stage.name:<{width}}  {decide(stage, runtime.facts)}")
    sys.stdout.flush()
    return True


def task_plan():
    """Dry run: every stage as up to date or would run, with the reason (changes nothing)."""
    return {"actions": [print_plan], "task_dep": ["render"], "uptodate": [False], "verbosity": 2}
