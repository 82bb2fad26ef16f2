"""Which doctor checks each stage needs, and the preflight `doit bootstrap` runs once, before its
first stage changes anything: only the checks of the stages that would run (a run with nothing to do
never gets here, so a no-op bootstrap pays nothing for it)."""
from __future__ import annotations

from .. import report
from ..facts import Facts
from ..problems import Line
from ..settings.model import Cluster
from . import doctor
from .stage import Stage, decide

# (stage name prefix, tools it runs, checks it needs); the first matching row wins.
NEEDS = (
    ("node-", ("talosctl", "op"), ("op", "nodes")),
    ("etcd-bootstrap", ("talosctl", "op"), ("op",)),
    ("kubeconfig", ("talosctl", "op"), ("op",)),
    ("resources", ("op", "kubectl"), ("op", "api")),
    ("crds", ("helmfile", "helm", "kubectl"), ("api",)),
    ("release-flux-instance", ("helmfile", "helm", "kubectl"), ("api", "gitops")),
    ("release-", ("helmfile", "helm", "kubectl"), ("api",)),
    ("flux-", ("kubectl",), ("api", "gitops")),
    ("", ("kubectl",), ("api",)),
)
ALL_CHECKS = ("op", "nodes", "api", "gitops")


def needs(stage_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tools and checks one stage needs."""
    return next((tools, checks) for prefix, tools, checks in NEEDS if stage_name.startswith(prefix))


def run_checks(cluster: Cluster, facts: Facts, tools: tuple[str, ...] | None, checks: tuple[str, ...]) -> list[Line]:
    """The tool check (all tools when None) and the named checks, in a fixed order."""
    table = {"op": lambda: doctor.op_lines(cluster), "nodes": lambda: doctor.node_lines(cluster, facts),
             "api": lambda: doctor.api_lines(facts), "gitops": lambda: doctor.gitops_lines(cluster)}
    lines = doctor.tool_lines(tools)
    if any(line.problem for line in lines if line.subject == "op"):
        checks = tuple(c for c in checks if c != "op")      # no op: its items cannot be asked
    for name in ALL_CHECKS:
        if name in checks:
            lines += table[name]()
    return lines


def pending_needs(stages: dict[str, Stage], facts: Facts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tools and checks of every stage that would run."""
    tools, checks = set(), set()
    for stage in stages.values():
        if decide(stage, facts).run:
            stage_tools, stage_checks = needs(stage.name)
            tools.update(stage_tools)
            checks.update(stage_checks)
    if "etcd-bootstrap" in stages and decide(stages["etcd-bootstrap"], facts).run:
        checks.discard("api")       # this run bootstraps a new cluster: its API is learned afterwards
    return tuple(sorted(tools)), tuple(sorted(checks))


_outcome: dict[int, str | None] = {}


def preflight(cluster: Cluster, stages: dict[str, Stage], facts: Facts) -> str | None:
    """Once per run: the checks of the pending stages; a message listing the problems, or None."""
    if id(facts) not in _outcome:
        tools, checks = pending_needs(stages, facts)
        lines = run_checks(cluster, facts, tools, checks) if tools or checks else []
        problems = [str(line) for line in lines if line.problem]
        if not problems:
            report.say(f"preflight: {len(lines)} checks ok ({', '.join(tools + checks)})")
        _outcome[id(facts)] = (f"preflight found {len(problems)} problem(s) before any change (`doit doctor` "
                               "shows every check):\n  " + "\n  ".join(problems)) if problems else None
    return _outcome[id(facts)]
