"""doit task creators for the offline half: `check` (everything validated in memory) and one
`render:<artifact>` task per file under build/, each depending on exactly what it reads."""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from doit.tools import config_changed

from .. import paths, report
from ..problems import format_problems, group_warnings
from ..render import catalogue, record
from ..settings import load

CODE = Path(__file__).resolve().parent.parent
PLAIN_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# The code an artifact's bytes depend on (a change here may change any artifact).
RENDER_CODE = ("render/catalogue.py", "render/templates.py", "settings/model.py", "settings/schema.py",
               "settings/load.py", "yamlio.py", "paths.py")
CHECK_CODE = RENDER_CODE + ("render/check.py", "settings/semantic.py", "settings/guards.py", "settings/drift.py",
                            "settings/gitops.py", "settings/fluxtree.py", "settings/fluxbuild.py",
                            "settings/semver_range.py", "tools/gateway.py", "render/handoff.py", "problems.py", "render/conformance.py",
                            "render/schema_catalog.py", "render/schema_store.py")


def _code(names) -> list[Path]:
    return [CODE / n for n in names]


def inventory() -> tuple[list[str], list[dict]] | None:
    """Node names and release rows, enough to create the render tasks; None if the settings cannot
    make a cluster or name two nodes alike (the `check` task then reports why, with file and line)."""
    cluster = load.cluster()
    if cluster is None:
        return None
    names = [n.name for n in cluster.nodes]
    releases = [r.name for r in cluster.releases]
    # Names become file names under build/: one that is not a plain DNS label (`../x`) creates no
    # task at all, so neither `doit render` nor `doit clean` can touch a path outside build/.
    if len(set(names)) != len(names) or not all(map(PLAIN_NAME.fullmatch, names + releases)):
        return None
    return names, [{"name": r.name, "reads": list(r.reads)} for r in cluster.releases]


def check_inputs() -> list[str]:
    """Every input file the check reads."""
    inputs = [load.source(name) for name in load.NAMES] + [paths.RESOURCES_FILE]
    inputs += sorted(paths.SETTINGS_SCHEMAS.glob("*.yaml")) + sorted(paths.TEMPLATES.rglob("*.j2"))
    inputs += _code(CHECK_CODE) + gitops_inputs()
    return [paths.rel(p) for p in inputs if p.exists()]


def gitops_inputs() -> list[Path]:
    """The GitOps tree's files (the drift check reads what Flux reconciles of them)."""
    from ..settings.gitops import tree_files
    docs, _ = load.documents()
    try:
        return tree_files(str(docs["common"].data["gitops"]["path"]))
    except Exception:   # unreadable settings: `check` reports them
        return []


@lru_cache(maxsize=1)
def checked():
    """The outcome of the full check, computed once per doit run."""
    from ..render.check import check_everything
    return check_everything()


def run_check():
    """doit action: fail with every problem listed, or print warnings and succeed. Returns the
    number of schemas it could not fetch as a doit value, so the next run is not up to date
    until every schema was had (see check_was_complete)."""
    outcome = checked()
    for warning in group_warnings(outcome.warnings):
        report.warn(warning)
    report_schemas(outcome)
    from doit.exceptions import TaskFailed
    unsafe = paths.unsafe_build()
    if unsafe:
        return TaskFailed(f"bootstrap check failed: {unsafe}; nothing was written or applied")
    if outcome.ok:
        say_handoff(outcome)
        remove_stale(outcome.rendered)
        return {"unfetched": len(outcome.unfetched)}
    return TaskFailed(format_problems(outcome.problems, "bootstrap check failed"))


def report_schemas(outcome) -> None:
    """What the upstream-schema check did: offline warnings folded into one line (each with
    BOOTSTRAP_VERBOSE=1), and what has no upstream schema."""
    from ..render.schema_store import MIRROR_ENV
    if outcome.unfetched and not report.verbose():
        report.warn(f"{len(outcome.unfetched)} upstream schema(s) could not be fetched (offline?), so their "
                    f"documents were not checked; `doit check` checks them once they are reachable (or set "
                    f"{MIRROR_ENV}); {report.VERBOSE_ENV}=1 names them")
    for warning in outcome.unfetched if report.verbose() else ():
        report.warn(warning)
    if outcome.checked:
        report.say(f"upstream schemas: {outcome.checked} document(s) checked")
    if outcome.unchecked:
        report.say("not checked against an upstream schema: " + "; ".join(outcome.unchecked))


def check_was_complete(task, values) -> bool:
    """doit uptodate of `check`: False after a run that could not fetch every upstream schema."""
    return values.get("unfetched") == 0


def say_handoff(outcome) -> None:
    """As information: the values Flux changes when it takes each bootstrap release over."""
    from ..render.handoff import handoffs, summary
    if outcome.tree is not None:
        for line in summary(handoffs(outcome.cluster, outcome.rendered, outcome.tree.objects), outcome.tree.root):
            report.say(line)


def remove_stale(now: dict[str, str]) -> None:
    """Delete files the tool rendered before and renders no more (a renamed node, a removed release);
    nothing else in build/ is touched."""
    stale = [t for t in record.rendered() if t not in now]
    for target in stale:
        path = paths.BUILD / target
        if paths.inside_build(path) and not path.is_symlink():
            path.unlink(missing_ok=True)
            report.answer(f"removed build/{target} (no longer rendered)")
    if stale:
        record.forget(stale)


def write_artifact(target: str):
    """doit action: write one checked artifact (only if its bytes changed) and record its digest."""
    from doit.exceptions import TaskFailed
    from ..files import write_if_changed
    outcome = checked()
    if not outcome.ok:
        return TaskFailed(format_problems(outcome.problems, "bootstrap check failed"))
    unsafe = paths.unsafe_build()
    if unsafe:
        return TaskFailed(f"render failed: {unsafe}")
    written = write_if_changed(paths.BUILD / target, outcome.rendered[target])
    record.remember(target, outcome.rendered[target])
    report.answer(f"{'wrote' if written else 'unchanged'} build/{target}")
    return True


def intact(target: str):
    """doit uptodate: the target still holds what `doit render` wrote (else the task restores it)."""
    return lambda task, values: record.intact(target)


def artifact_inputs(artifact) -> list[Path]:
    """The data an artifact's bytes depend on: its settings files, their schemas (defaults are
    filled from them) and bootstrap/charts.yaml (release names, charts and versions)."""
    inputs = [paths.settings_file(name) for name in artifact.reads]
    inputs += [paths.SETTINGS_SCHEMAS / f"{name}.schema.yaml" for name in artifact.reads]
    return inputs + [paths.SETTINGS_SCHEMAS / "_defs.yaml", paths.CHARTS_FILE]


def task_check():
    """Validate settings, guards, chart drift and upstream schemas (before anything is written)."""
    return {"actions": [run_check], "file_dep": check_inputs(), "uptodate": [check_was_complete],
            "verbosity": 2}


def task_render():
    """Render every artifact under build/ (offline)."""
    found = inventory()
    if found is None:
        # No artifact list to offer, but `doit render` must still fail with the check's problems.
        yield {"name": None, "doc": "Render every artifact under build/ (offline)", "task_dep": ["check"]}
        return
    code = _code(RENDER_CODE)
    for artifact in catalogue.catalogue(*found):
        deps = [paths.TEMPLATES / artifact.template, *code, *artifact_inputs(artifact)]
        uptodate = [intact(artifact.target)]
        if artifact.environment:    # only there: doit inspects every uptodate callable of every task
            uptodate.append(config_changed({name: os.environ.get(name, "") for name in artifact.environment}))
        yield {
            "name": artifact.target.rsplit(".", 1)[0],
            "doc": artifact.doc,
            "actions": [(write_artifact, [artifact.target])],
            "file_dep": [paths.rel(p) for p in deps],
            "targets": [paths.rel(artifact.path)],
            "task_dep": ["check"],
            "uptodate": uptodate,
            "clean": True,
        }
