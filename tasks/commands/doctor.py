"""doit task creators of the operator's first steps: `doctor` (the read-only preflight, one line per
check) and `secrets` (generate the Talos secrets into 1Password)."""
from __future__ import annotations

import functools

from .. import report


def never_raises(what: str):
    """A doit action that answers a failure as one line naming the command, never a traceback."""
    def wrap(action):
        @functools.wraps(action)
        def act(*args, **kwargs):
            from doit.exceptions import TaskFailed
            try:
                return action(*args, **kwargs)
            except Exception as err:     # a bug or an unexpected failure
                return TaskFailed(f"{what}: unexpected {type(err).__name__}: {err}")
        return act
    return wrap


@never_raises("doctor")
def doctor_action():
    """doit action: every check, one line each; fails when any line is a problem."""
    from doit.exceptions import TaskFailed
    from ..apply.preflight import ALL_CHECKS, run_checks
    from ..apply.runtime import Runtime
    runtime = Runtime.get(read_only=True)
    if runtime.error and not runtime.stages:
        return TaskFailed(runtime.error)
    lines = run_checks(runtime.cluster, runtime.facts, None, ALL_CHECKS)
    for line in lines:
        report.answer(str(line))
    problems = sum(line.problem for line in lines)
    if problems:
        return TaskFailed(f"doctor: {problems} problem(s); each line says its fix")
    report.answer(f"doctor: {len(lines)} checks, no problem")
    return True


@never_raises("secrets")
def secrets_action(overwrite: bool):
    """doit action: generate the Talos secrets and store them in 1Password (never on disk)."""
    from doit.exceptions import TaskFailed
    from ..apply.secrets import store_secrets
    from ..problems import format_problems
    from ..settings import load
    cluster = load.cluster()
    if cluster is None:
        return TaskFailed(format_problems(list(load.problems()), "secrets: the settings are not valid"))
    error, done = store_secrets(cluster, overwrite)
    if error:
        return TaskFailed(f"secrets: {error}")
    report.answer(done)
    return True


# The task creators come last: doit lists tasks by the line of their creator (across modules), and
# these follow the stages of bootstrap.py in `doit list`.
def task_doctor():
    """Read-only preflight: tools, 1Password, nodes and their hardware, the API server, the GitOps tree."""
    return {"actions": [doctor_action], "task_dep": ["render"], "uptodate": [False], "verbosity": 2}


def task_secrets():
    """Generate the Talos cluster secrets (talosctl gen secrets) into the 1Password item of talos.yaml."""
    return {"actions": [secrets_action], "uptodate": [False], "verbosity": 2,
            "params": [{"name": "overwrite", "long": "overwrite", "type": bool, "default": False,
                        "help": "replace an existing item (the old one is archived in 1Password)"}]}
