"""doit task creators for the offline half: `check` (everything validated in memory) and one
`render:<artifact>` task per file under build/, each depending on exactly what it reads."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path


from . import artifacts, paths
from .config import quick_settings
from .problems import format_problems

# The code an artifact's bytes depend on (a change here may change any artifact).
RENDER_CODE = ("artifacts.py", "render.py", "config.py", "yamlio.py", "pools.py", "paths.py")
CHECK_CODE = RENDER_CODE + ("validate.py", "checks.py", "guards.py", "drift.py", "gitops.py", "problems.py",
                            "conformance.py", "schema_catalog.py", "schema_store.py")


def _code(names) -> list[str]:
    here = Path(__file__).resolve().parent
    return [str(here / n) for n in names if (here / n).exists()]


def inventory() -> tuple[list[str], list[dict]] | None:
    """Node names and release rows, read cheaply to create tasks; None if unreadable (the
    `check` task then reports why, with file and line)."""
    settings = quick_settings()
    try:
        talos, charts = settings["talos"], settings["charts"]
        names = [str(n["name"]) for n in talos["nodes"]]
        rows = [{"name": str(r["name"]), "reads": [str(x) for x in r["reads"]]} for r in charts["releases"]]
    except Exception:   # any shape problem is reported precisely by `check`
        return None
    if len(set(names)) != len(names):
        return None
    return names, rows


def check_inputs() -> list[str]:
    """Every input file the check reads."""
    inputs = [paths.VALUES / f"{n}.yaml" for n in paths.SETTINGS] + [paths.CHARTS_FILE, paths.RESOURCES_FILE]
    inputs += sorted(paths.SCHEMAS.glob("*.yaml")) + sorted(paths.TEMPLATES.rglob("*.j2"))
    inputs += [Path(p) for p in _code(CHECK_CODE)] + gitops_inputs()
    return [paths.rel(p) for p in inputs if p.exists()]


def gitops_inputs() -> list[Path]:
    """The GitOps tree's YAML files (the drift check reads them)."""
    from .gitops import tree_files
    try:
        return tree_files(str(quick_settings()["common"]["gitops"]["path"]))
    except Exception:   # unreadable settings: `check` reports them
        return []


@lru_cache(maxsize=1)
def checked():
    """The outcome of the full check, computed once per doit run."""
    from .validate import check_everything
    return check_everything()


def run_check():
    """doit action: fail with every problem listed, or print warnings and succeed."""
    outcome = checked()
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if outcome.ok:
        remove_stale(outcome.rendered)
        return True
    from doit.exceptions import TaskFailed
    return TaskFailed(format_problems(outcome.problems, "bootstrap check failed"))


# The build/ folders holding only rendered artifacts (the rest of build/ is the apply chain's).
RENDERED_DIRS = ("talos", "values", "manifests", "flux", "helmfile")


def remove_stale(rendered: dict[str, str]) -> None:
    """Delete rendered files no artifact produces any more (a renamed node, a removed release)."""
    for folder in RENDERED_DIRS:
        for path in sorted((paths.BUILD / folder).glob("*.yaml")):
            target = f"{folder}/{path.name}"
            if target not in rendered:
                path.unlink(missing_ok=True)
                print(f"removed build/{target} (no longer rendered)")


def write_artifact(target: str):
    """doit action: write one checked artifact, only if its bytes changed."""
    from .render import write_if_changed
    outcome = checked()
    if not outcome.ok:
        from doit.exceptions import TaskFailed
        return TaskFailed(format_problems(outcome.problems, "bootstrap check failed"))
    written = write_if_changed(paths.BUILD / target, outcome.rendered[target])
    print(f"{'wrote' if written else 'unchanged'} build/{target}")
    return True


def artifact_inputs(artifact) -> list[Path]:
    """The data an artifact's bytes depend on: its settings files, their schemas (defaults are
    filled from them) and bootstrap/charts.yaml (release names, charts and versions)."""
    inputs = [paths.VALUES / f"{name}.yaml" for name in artifact.reads]
    inputs += [paths.SCHEMAS / f"{name}.schema.yaml" for name in artifact.reads]
    return inputs + [paths.SCHEMAS / "_defs.yaml", paths.CHARTS_FILE]


def task_check():
    """Validate settings, guards, chart drift and upstream schemas (before anything is written)."""
    return {"actions": [run_check], "file_dep": check_inputs(), "verbosity": 2}


def task_render():
    """Render every artifact under build/ (offline)."""
    found = inventory()
    if found is None:
        # No artifact list to offer, but `doit render` must still fail with the check's problems.
        yield {"name": None, "doc": "Render every artifact under build/ (offline)", "task_dep": ["check"]}
        return
    for artifact in artifacts.catalogue(*found):
        deps = [paths.TEMPLATES / artifact.template] + [Path(p) for p in _code(RENDER_CODE)]
        deps += artifact_inputs(artifact)
        yield {
            "name": artifact.target.rsplit(".", 1)[0],
            "doc": artifact.doc,
            "actions": [(write_artifact, [artifact.target])],
            "file_dep": [paths.rel(p) for p in deps],
            "targets": [paths.rel(artifact.path)],
            "task_dep": ["check"],
            "clean": True,
        }
