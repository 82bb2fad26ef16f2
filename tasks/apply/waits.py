"""Waits: every one has a deadline (BOOTSTRAP_TIMEOUT_<KIND> or its default) and says what it
waits for."""
from __future__ import annotations

import os
import time

from .. import report
from ..facts import Facts


def deadline(kind: str, default: float) -> float:
    """Seconds a wait may take: BOOTSTRAP_TIMEOUT_<KIND> or the default."""
    return float(os.environ.get(f"BOOTSTRAP_TIMEOUT_{kind.upper()}", default))


def wait_until(what: str, seconds: float, check, facts: Facts, interval: float = 1.0) -> str | None:
    """Poll check() (fresh facts each time) until it holds; an error naming what and why if not."""
    end = time.monotonic() + seconds
    report.waiting(what, end)
    while True:
        facts.invalidate()
        ok, why = check()
        if ok:
            return None
        if time.monotonic() >= end:
            return f"gave up after {seconds:.0f}s waiting for {what}: {why}"
        time.sleep(min(interval, max(0.0, end - time.monotonic())))
