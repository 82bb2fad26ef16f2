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
            "meta": {"stage": True},
        }
        previous = stage.name
    yield {"basename": "bootstrap", "doc": "Everything: render, then every stage up to a reconciling Flux",
           "actions": None, "task_dep": [previous]}


def print_plan():
    """Print each stage as 'up to date' or 'would run', with the reason; change nothing."""
    from doit.exceptions import TaskFailed
    from ..apply.runtime import Runtime
    from ..apply.stage import decide, record_plan
    runtime = Runtime.get(read_only=True)
    if runtime.error and not runtime.stages:
        return TaskFailed(runtime.error)
    if runtime.note:
        report.answer(runtime.note)
    width = max(len(name) for name in runtime.stages)
    decisions = {name: decide(stage, runtime.facts) for name, stage in runtime.stages.items()}
    for name, decision in decisions.items():
        report.answer(f"{name:<{width}}  {decision}")
    record_plan(decisions)
    print_day_two(runtime.facts, decisions)
    print_handoff(runtime.cluster)
    return True


def print_day_two(facts, decisions) -> None:
    """Per node: what it runs and what the settings want; upgrade-k8s' dry run when it would run;
    what the cluster holds that the inventory does not."""
    from ..apply import inventory, k8s_upgrade
    report.answer()
    for line in inventory.version_lines(facts):
        report.answer(line)
    if decisions.get("kubernetes-upgrade") and decisions["kubernetes-upgrade"].run:
        report.answer("talosctl upgrade-k8s --dry-run:")
        for line in k8s_upgrade.dry_run_summary(facts):
            report.answer(f"  {line}")
    for line in node_change_lines(facts, decisions):
        report.answer(line)
    leaving = inventory.leaving_lines(facts, with_etcd=any(n.state == "configured"
                                                           for n in facts.talos_nodes().values()))
    if leaving:
        report.answer("not in the inventory:")
        for line in leaving:
            report.answer(f"  {line}")


def node_change_lines(facts, decisions) -> list[str]:
    """Per configured node whose stage would run: what applying its config would do (its dry run)."""
    from ..apply.talos import apply_preview
    nodes = facts.talos_nodes()
    changing = [n for n in facts.cluster.nodes if (d := decisions.get(f"node-{n.name}")) and d.run
                and nodes[n.address].state == "configured"]
    if not changing:
        return []
    return ["node configs (talosctl apply-config --dry-run):"] + [
        f"  {node.name} ({node.address}): {apply_preview(facts, node)}" for node in changing]


def print_handoff(cluster) -> None:
    """What Flux will change when it takes each release over, from the GitOps tree's HelmReleases."""
    from ..render.check import reconciled
    from ..render.handoff import handoffs, summary
    where = cluster.settings["common"]["gitops"]["path"]
    objects = reconciled(cluster).objects
    rendered = {}
    for release in cluster.releases:
        try:
            rendered[f"values/{release.name}.yaml"] = paths.release_values(release.name).read_text()
        except OSError:
            continue
    lines = summary(handoffs(cluster, rendered, objects), where)
    if lines:
        report.answer()
    for line in lines:
        report.answer(line)


def task_plan():
    """Dry run: every stage as up to date or would run, with the reason (changes nothing)."""
    return {"actions": [print_plan], "task_dep": ["render"], "uptodate": [False], "verbosity": 2,
            "meta": {"cluster": True}}


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
            "verbosity": 2, "meta": {"cluster": True}}


def remove_node_action(name: str):
    """doit action: remove a node that left the inventory (see apply.removal)."""
    from doit.exceptions import TaskFailed
    from ..apply.removal import remove_node
    from ..apply.runtime import Runtime
    if not name:
        return TaskFailed("remove-node needs --name <node> (its Kubernetes Node name, hostname or address)")
    runtime = Runtime.get()
    if runtime.error:
        return TaskFailed(runtime.error)
    error = remove_node(runtime.facts, name)
    return TaskFailed(error) if error else True


def task_remove_node():
    """Remove a node that left the inventory: cordon, drain, leave etcd (never below quorum), reset, delete."""
    return {"basename": "remove-node", "actions": [remove_node_action], "uptodate": [False], "verbosity": 2,
            "params": [{"name": "name", "long": "name", "type": str, "default": "",
                        "help": "the node to remove: its Kubernetes Node name, hostname or address"}],
            "meta": {"cluster": True}}
