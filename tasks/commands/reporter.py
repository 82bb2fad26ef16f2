"""The doit reporter (DOIT_CONFIG['reporter']): one line per stage that ran or failed, with its
duration and the reason `decide` gave (every stage, up to date ones too, with BOOTSTRAP_VERBOSE=1),
then one summary line; every task's outcome also goes to the event log (build/events.jsonl)."""
from __future__ import annotations

import sys
import time

from .. import report

RAN, UP_TO_DATE, FAILED, IGNORED = "ran", "up to date", "failed", "ignored"


class StageReporter:
    """doit's reporter interface (doit.reporter.ConsoleReporter's methods), printing through report."""

    desc = "one line per stage, then a summary"

    def __init__(self, outstream, options):
        """Start the clock; doit's options are not needed."""
        self.started = time.monotonic()
        self.begun: dict[str, float] = {}
        self.outcomes: dict[str, str] = {}
        self.stages: set[str] = set()
        self.logged: set[str] = set()
        self.width = 12
        self.runtime_errors: list[str] = []

    def initialize(self, tasks, selected_tasks):
        """Learn which tasks are stages (meta 'stage') and open the run in the event log."""
        meta = {name: getattr(task, "meta", None) or {} for name, task in tasks.items()}
        self.stages = {name for name in tasks if meta[name].get("stage")}
        self.logged = {name for name in tasks if meta[name].get("stage") or meta[name].get("cluster")}
        self.width = max([len(name) for name in self.stages] + [12])
        report.event("run", argv=sys.argv[1:], selected=list(selected_tasks or []))

    def get_status(self, task):
        """A task is about to be checked: its clock starts, and tool calls name it."""
        self.begun[task.name] = time.monotonic()
        report.working_on(task.name)
        if task.name in self.logged:
            report.open_log()

    def execute_task(self, task):
        """Nothing: the stage itself says what it starts doing (report.say)."""

    def add_success(self, task):
        """Ran, or found nothing to do when its action re-checked (lost doit state)."""
        if task.actions:
            decision = report.decision(task.name)
            self._finish(task, UP_TO_DATE if decision and not decision[0] else RAN)

    def add_failure(self, task, fail):
        """Failed: the header line, then the message as the stage worded it (cause and fix)."""
        message = fail.get_msg().strip() if fail.report else ""
        self._finish(task, FAILED, message.splitlines()[0] if message else "")
        for line in message.splitlines():
            report.answer(line)

    def skip_uptodate(self, task):
        """Up to date: printed only when verbose; counted and logged always."""
        if task.actions:
            self._finish(task, UP_TO_DATE)

    def skip_ignore(self, task):
        """Ignored with `doit ignore`."""
        self._finish(task, IGNORED)

    def cleanup_error(self, exception):
        """An error while cleaning (doit clean)."""
        report.warn(exception.get_msg().strip())

    def runtime_error(self, msg):
        """An error of doit itself, shown after the summary."""
        self.runtime_errors.append(msg)

    def teardown_task(self, task):
        """No teardown output."""

    def complete_run(self):
        """The summary line, doit's own errors, and the run's end in the event log."""
        stages = {n: o for n, o in self.outcomes.items() if n in self.stages}
        counted, noun = (stages, "stages") if stages else (self.outcomes, "tasks")
        if counted:
            unseen = len(self.stages) - len(stages) if stages else 0
            report.answer(summary(counted, noun, time.monotonic() - self.started, unseen))
        for message in self.runtime_errors:
            report.answer(message.rstrip())
        report.working_on(None)
        report.event("summary", seconds=round(time.monotonic() - self.started, 3),
                     **{outcome: sum(1 for o in counted.values() if o == outcome) for outcome in (RAN, UP_TO_DATE, FAILED)})

    def _finish(self, task, outcome: str, why: str = "") -> None:
        """Record, log and (unless folded) print one task's outcome."""
        seconds = time.monotonic() - self.begun.get(task.name, time.monotonic())
        decision = report.decision(task.name)
        reason = why or (decision[1] if decision else "")
        self.outcomes[task.name] = outcome
        stage = task.name in self.stages
        report.event("stage" if stage else "task", flush=outcome != UP_TO_DATE, name=task.name, decision=outcome,
                     reason=reason[:500], seconds=round(seconds, 3))
        if outcome in (FAILED, RAN) or report.verbose():
            shown = "" if outcome == FAILED else reason
            report.answer(f"{outcome:<10}  {task.name:<{self.width}}  {seconds:5.1f} s  {shown}".rstrip())


def summary(outcomes: dict[str, str], noun: str, seconds: float, unseen: int = 0) -> str:
    """`24 stages: 1 ran, 23 up to date, 0 failed in 1.4 s` (`, 20 not run` after a failure)."""
    count = {o: sum(1 for v in outcomes.values() if v == o) for o in (RAN, UP_TO_DATE, FAILED)}
    total = len(outcomes) + unseen
    noun = noun if total != 1 else noun[:-1]
    rest = f", {unseen} not run" if unseen else ""
    return (f"{total} {noun}: {count[RAN]} ran, {count[UP_TO_DATE]} up to date, {count[FAILED]} failed{rest} "
            f"in {seconds:.1f} s")
