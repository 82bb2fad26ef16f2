"""Waits: every one has a deadline (BOOTSTRAP_TIMEOUT_<KIND> or its default) and says what it
waits for."""
from __future__ import annotations

import os
import time

from .. import report
from ..facts import Facts
from ..tools.advice import permanent
from ..tools.gateway import CUT_SHORT, HEARTBEAT, calls_until


# A poll this close to the deadline could not get an answer in time: the wait ends with what it saw.
LAST_POLL = 0.5


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
    if permanent(why):              # waiting cannot heal it (a wrong CA): say so now, not at the deadline
        return f"not waiting for {what}: {why}"
    report.waiting(what, end)
    beat = time.monotonic()
    with calls_until(end):          # no query outlives the wait's own deadline
        while True:
            time.sleep(min(interval, max(0.0, end - time.monotonic())))
            if end - time.monotonic() < LAST_POLL:     # too late for a query to answer: say what was seen
                return f"gave up after {seconds:.0f}s waiting for {what}: {why}"
            facts.invalidate()
            ok, answer = check()
            if ok:
                return None
            if permanent(answer):
                return f"stopped waiting for {what}: {answer}"
            if CUT_SHORT not in answer:     # a query the deadline cut short says less than the last answer
                why = answer
            if time.monotonic() - beat >= HEARTBEAT:
                beat = time.monotonic()
                report.say(f"still waiting for {what} ({end - beat:.0f}s left): {why}")
