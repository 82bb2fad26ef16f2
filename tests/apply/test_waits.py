"""apply.waits: a wait ends at its deadline saying what it last saw."""
from __future__ import annotations

from tasks.apply.waits import wait_until
from tasks.tools.gateway import CUT_SHORT


class _Facts:
    """Just what wait_until asks of the facts: to forget them before each poll."""

    def __init__(self):
        self.invalidated = 0

    def invalidate(self):
        self.invalidated += 1


def _answers(*answers):
    """A check that gives these (ok, why) answers in turn, then repeats the last."""
    seen = list(answers)
    return lambda: seen.pop(0) if len(seen) > 1 else seen[0]


def test_a_poll_cut_short_by_the_deadline_does_not_hide_the_last_answer():
    facts = _Facts()
    check = _answers((False, "Kustomization flux-system/flux-system is not Ready: path not found"),
                     (False, f"kubectl get: no answer within 0s {CUT_SHORT}"))
    error = wait_until("Flux", 1.2, check, facts, interval=0.3)
    assert error == "gave up after 1s waiting for Flux: Kustomization flux-system/flux-system is not Ready: path not found"
    assert facts.invalidated >= 1


def test_a_new_answer_replaces_the_old_one():
    check = _answers((False, "first"), (False, "second"))
    assert wait_until("it", 1.2, check, _Facts(), interval=0.3) == "gave up after 1s waiting for it: second"


def test_a_check_that_holds_ends_the_wait():
    check = _answers((False, "not yet"), (True, "done"))
    assert wait_until("it", 5, check, _Facts(), interval=0.1) is None
