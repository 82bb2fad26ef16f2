"""doit's own state file, checked before doit reads it: a `.doit.db` that is not doit's JSON state
(truncated, hand-edited, another backend's) would make doit stop with a traceback. The cluster is
the source of truth, so such a file is moved aside and the run rebuilds the state."""
from __future__ import annotations

import json
import time

from .. import paths, report

DOIT_STATE = paths.ROOT / ".doit.db"


def usable(text: str) -> bool:
    """doit's JSON backend: an object of task name -> object."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and all(isinstance(v, dict) for v in data.values())


def guard_doit_state(path=DOIT_STATE) -> None:
    """Move an unusable doit state file aside (never delete it), saying so."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError):
        text = ""
    if usable(text):
        return
    aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(aside)
    report.warn(f"{paths.rel(path)} was not doit's state; moved to {paths.rel(aside)}. Nothing is lost: every "
                "stage asks the cluster whether it is done, so this run rebuilds the state")
