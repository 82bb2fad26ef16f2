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
    """Poll check() until it holds; an error naming what and why if not. The facts at hand are
    asked first (often they already answer), then fresh ones on every poll; a caller that has just
    changed what the facts describe (build/kubeconfig, say) invalidates them first."""
    end = time.monotonic() + seconds
    ok, why = check()
    if ok:
        return None
    report.waiting(what, end)
    while True:
        if time.monotonic() >= end:
            return f"gave up after {seconds:.0f}s waiting for {what}: {why}"
        time.sleep(min(interval, max(0.0, end - time.monotonic())))
        facts.invalidate()
        ok, why = check()
        if ok:
            return None
