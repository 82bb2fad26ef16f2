"""`doit graph`: the stage chain as a Graphviz picture, each stage coloured by the last `doit plan`'s
decision (build/plan.json): build/graph/stages.dot always, build/graph/stages.svg where Graphviz's
`dot` is installed. Reads no cluster. (The doit-graph plugin draws doit's task dependencies in one
colour through pygraphviz; it knows nothing of the decisions, so the dot text is written here.)"""
from __future__ import annotations

import shutil

from .. import paths, report
from ..apply.stage import last_plan
from ..files import write_if_changed

COLOURS = {"run": "#f5a623", "up to date": "#7ed321", "unknown": "#d8d8d8"}   # fill per decision
LEGEND = "orange: would run   green: up to date   grey: not in the last plan (run `doit plan`)"


def _quote(text: str) -> str:
    """A dot string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_text(stages: list, plan: dict) -> str:
    """The chain as a dot digraph: one box per stage (name, doc, decision), edges in run order."""
    lines = ["digraph stages {", "  rankdir=TB;", f"  label={_quote(LEGEND)};",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for stage in stages:
        decided = plan.get(stage.name)
        state = "unknown" if not isinstance(decided, dict) else "run" if decided.get("run") else "up to date"
        why = "; ".join(decided.get("reasons") or [])[:120] if isinstance(decided, dict) else "no plan yet"
        label = f"{stage.name}\n{'would run' if state == 'run' else state}: {why}"
        lines.append(f"  {_quote(stage.name)} [label={_quote(label)}, fillcolor={_quote(COLOURS[state])}, "
                     f"tooltip={_quote(stage.doc)}];")
    lines += [f"  {_quote(a.name)} -> {_quote(b.name)};" for a, b in zip(stages, stages[1:])]
    return "\n".join(lines + ["}"]) + "\n"


def write_graph():
    """doit action: write stages.dot, and stages.svg when `dot` is installed."""
    from doit.exceptions import TaskFailed
    from ..tools.gateway import binary, run
    from .bootstrap import stages_for_tasks
    stages = stages_for_tasks()
    unsafe = paths.unsafe_build() or (f"{paths.rel(paths.GRAPH)} is a symbolic link" if paths.GRAPH.is_symlink()
                                      else None)
    if not stages or unsafe:
        return TaskFailed(unsafe or "no stages: the settings do not make a cluster (`doit check` says why)")
    dot = paths.GRAPH / "stages.dot"
    write_if_changed(dot, dot_text(stages, last_plan()))
    if not shutil.which(binary("dot")):
        report.answer(f"wrote {paths.rel(dot)} (Graphviz `dot` is not installed: `dot -Tsvg {paths.rel(dot)}` "
                      "draws it)")
        return True
    result = run("dot", ["-Tsvg", "-o", str(paths.GRAPH / "stages.svg"), str(dot)], timeout=60)
    if not result.ok:
        return TaskFailed(f"dot -Tsvg {paths.rel(dot)}: {result.message()}")
    report.answer(f"wrote {paths.rel(dot)} and {paths.rel(paths.GRAPH / 'stages.svg')}")
    return True


def task_graph():
    """Draw the stage chain coloured by the last `doit plan` (build/graph/stages.dot, .svg with Graphviz)."""
    return {"actions": [write_graph], "uptodate": [False], "verbosity": 2}
