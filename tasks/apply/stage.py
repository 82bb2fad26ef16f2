"""What a stage is, and the one decision "run or not, and why" (`decide`), used by doit's
`uptodate` check, by the stage action itself (so a run after lost doit state still changes nothing)
and by the dry-run plan."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import paths, report
from ..facts import Facts
from ..files import write_if_changed
from ..render import record as record_of_render


@dataclass(frozen=True)
class Decision:
    """Whether a stage has work to do, and why."""

    run: bool
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return ("would run: " if self.run else "up to date: ") + "; ".join(self.reasons)


@dataclass(frozen=True)
class Stage:
    """One step of the bootstrap."""

    name: str
    doc: str
    # The files the stage applies. The tool's own code is deliberately not an input: upgrading
    # the tool must not re-apply a converged cluster (rendering code changes reach the stages
    # through the artifacts they change).
    inputs: tuple[Path, ...]
    done: Callable[[Facts], tuple[bool | None, str]]     # what the cluster shows (None: no longer ours)
    apply: Callable[[Facts], str | None]                 # returns an error message or None


def digest(stage: Stage) -> dict[str, str]:
    """sha256 of each input file ('missing' when absent)."""
    out = {}
    for file in stage.inputs:
        try:
            out[paths.rel(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError:
            out[paths.rel(file)] = "missing"
    return out


def recorded(stage: Stage) -> dict[str, str] | None:
    """The input digests the stage last succeeded with, if recorded."""
    try:
        return json.loads(paths.stage_record(stage.name).read_text())
    except (OSError, ValueError):
        return None


def record(stage: Stage, inputs: dict[str, str]) -> None:
    """Remember the inputs a stage succeeded with (names and hashes only, nothing secret): the digests
    taken before it worked, so a file edited meanwhile counts as changed on the next run."""
    write_if_changed(paths.stage_record(stage.name), json.dumps(inputs, indent=1, sort_keys=True))


def changed_inputs(stage: Stage, now: dict[str, str] | None = None) -> list[str]:
    """Input files that differ from the last success (all of them if there was none)."""
    before, now = recorded(stage), now or digest(stage)
    if not isinstance(before, dict):
        return ["no record of a previous success"]
    return [f"{name} changed" for name in sorted(now) if before.get(name) != now[name]]


def decide(stage: Stage, facts: Facts, inputs: dict[str, str] | None = None) -> Decision:
    """Run when the inputs changed since the last success or the cluster does not show it done."""
    done, why = _safe_done(stage, facts)
    if done is None:            # handed off (e.g. Flux owns the release now): local inputs no longer apply
        report.decided(stage.name, False, why)
        return Decision(False, (why,))
    changed = changed_inputs(stage, inputs)
    reasons = ([] if done else [why]) + changed
    decision = Decision(bool(reasons), tuple(reasons) or (why,))
    report.decided(stage.name, decision.run, "; ".join(decision.reasons))
    return decision


def _safe_done(stage: Stage, facts: Facts) -> tuple[bool, str]:
    """A fact check that never raises into doit."""
    try:
        return stage.done(facts)
    except Exception as err:   # a probe must answer "not done", never abort the run
        return False, f"could not tell ({type(err).__name__}: {err})"


def run_stage(stage: Stage, facts: Facts) -> str | None:
    """The doit action: do the difference, or say why there is nothing to do."""
    inputs = digest(stage)
    decision = decide(stage, facts, inputs)
    if not decision.run:
        report.say(f"{stage.name}: nothing to do ({'; '.join(decision.reasons)})")
        record(stage, inputs)
        return None
    report.say(f"{stage.name}: {'; '.join(decision.reasons)}")
    changed = record_of_render.tampered(stage.inputs)
    if changed:     # edited or truncated since `doit render` wrote it: never apply that
        return (f"{', '.join(changed)} is not what `doit render` wrote (changed since); run `doit render` "
                "to restore it from the settings, then rerun")
    error = stage.apply(facts)
    facts.invalidate()
    if error:
        return error
    record(stage, inputs)
    return None


def record_plan(decisions: dict[str, Decision]) -> None:
    """Keep a plan's decisions in build/plan.json for `doit graph` (names and reasons only)."""
    plan = {name: {"run": d.run, "reasons": list(d.reasons)} for name, d in decisions.items()}
    write_if_changed(paths.PLAN, json.dumps(plan, indent=1) + "\n")


def last_plan() -> dict:
    """The last plan's decisions, or {} when there is none (or it cannot be read)."""
    try:
        plan = json.loads(paths.PLAN.read_text())
    except (OSError, ValueError):
        return {}
    return plan if isinstance(plan, dict) else {}
