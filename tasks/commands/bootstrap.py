"""doit task creators for the apply chain: one task per stage, in the required order, each with
`file_dep` on its inputs and an `uptodate` check that asks the live cluster; `bootstrap` runs them
all and `plan` prints what a run would do, and why, without changing anything."""
from __future__ import annotations

from .. import paths, report


def stage_uptodate(name: str):
    """doit uptodate: True only when the cluster shows the stage done and its inputs are unchanged."""
    def check(task, values):
        from ..apply.runtime import Runtime
        from ..apply.stage import decide
        try:
            runtime = Runtime.get()
            if runtime.error or name not in runtime.stages:
                return False
            return not decide(runtime.stages[name], runtime.facts).run
        except Exception:    # never into doit: "not up to date", and the action says why
            return False
    return check


def stage_action(name: str):
    """doit action: run the stage; a failure names the stage and the cause."""
    def act():
        from doit.exceptions import TaskFailed
        from ..apply.preflight import preflight
        from ..apply.runtime import Runtime
        from ..apply.stage import run_stage
        try:
            runtime = Runtime.get()
            if runtime.error:
                return TaskFailed(runtime.error)
            error = (preflight(runtime.cluster, runtime.stages, runtime.facts)
                     or run_stage(runtime.stages[name], runtime.facts))
        except Exception as err:     # a bug or an unexpected failure: one line naming the stage
            error = f"unexpected {type(err).__name__}: {err}"
        return TaskFailed(f"stage {name} failed: {error}") if error else True
    return act


def stages_for_tasks() -> list:
    """The stage table from the settings as loaded (not validated: task creation stays cheap);
    none when they cannot make a cluster, or name two nodes alike: `check` says why."""
    from ..apply.table import stage_table
    from ..settings import load
    cluster = load.cluster()
    try:
        stages = stage_table(cluster) if cluster is not None else []
    except Exception:   # reported precisely by `check`
        return []
    names = [stage.name for stage in stages]
    return stages if len(set(names)) == len(names) else []


def task_stages():
    """The bootstrap stages, in order."""
    previous = "render"
    for stage in stages_for_tasks():
        yield {
            "basename": stage.name,
            "doc": stage.doc,
            "actions": [stage_action(stage.name)],
            "file_dep": [paths.rel(f) for f in stage.inputs],
            "uptodate": [stage_uptodate(stage.name)],
            "task_dep": [previous],
            "verbosity": 2,
        }
        previous = stage.name
    yield {"basename": "bootstrap", "doc": "Everything: render, then every stage up to a reconciling Flux",
           "actions": None, "task_dep": [previous]}


def print_plan():
    """Print each stage as 'up to date' or 'would run', with the reason; change nothing."""
    from doit.exceptions import TaskFailed
    from ..apply.runtime import Runtime
    from ..apply.stage import decide
    runtime = Runtime.get(read_only=True)
    if runtime.error and not runtime.stages:
        return TaskFailed(runtime.error)
    if runtime.note:
        report.answer(runtime.note)
    width = max(len(name) for name in runtime.stages)
    for stage in runtime.stages.values():
        report.answer(f"{stage.name:<{width}}  {decide(stage, runtime.facts)}")
    print_handoff(runtime.cluster)
    return True


def print_handoff(cluster) -> None:
    """What Flux will change when it takes each release over, from the GitOps tree's HelmReleases."""
    from ..render.handoff import handoffs
    from ..settings import gitops
    where = cluster.settings["common"]["gitops"]["path"]
    objects, _ = gitops.read_objects(gitops.tree_files(where))
    rendered = {}
    for release in cluster.releases:
        try:
            rendered[f"values/{release.name}.yaml"] = paths.release_values(release.name).read_text()
        except OSError:
            continue
    found = handoffs(cluster, rendered, objects)
    if not found:
        return
    report.answer()
    report.answer(f"hand-off: what Flux changes when it takes over (HelmReleases of {where})")
    for handoff in found:
        summary = f"{len(handoff.changes)} value(s) differ" if handoff.changes else "same values"
        report.answer(f"  {handoff.release}: {summary} ({handoff.file})")
        for line in handoff.changes:
            report.answer(f"      {line}")


def task_plan():
    """Dry run: every stage as up to date or would run, with the reason (changes nothing)."""
    return {"actions": [print_plan], "task_dep": ["render"], "uptodate": [False], "verbosity": 2}


def trust_action():
    """doit action: record the identity of the cluster build/kubeconfig reaches."""
    from doit.exceptions import TaskFailed
    from ..apply.kubeconfig import trust_cluster
    from ..apply.runtime import Runtime
    runtime = Runtime.get()
    if runtime.error:
        return TaskFailed(runtime.error)
    error = trust_cluster(runtime.facts)
    return TaskFailed(f"trust-cluster failed: {error}") if error else True


def task_trust_cluster():
    """Confirm that the API server build/kubeconfig reaches is this cluster (after a lost build/ or a repave)."""
    return {"basename": "trust-cluster", "actions": [trust_action], "task_dep": ["render"], "uptodate": [False],
            "verbosity": 2}
