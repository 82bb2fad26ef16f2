"""The whole offline check, in one place: settings -> schema -> semantics -> render in memory ->
guards -> drift -> upstream schemas. Nothing is written; the outcome says what to print."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import paths
from ..problems import Findings, Problem
from ..settings import drift, fluxtree, gitops, guards, load, semantic
from ..settings.model import Cluster
from ..yamlio import load_all
from . import catalogue


@dataclass
class Outcome(Findings):
    """What the check found, with the cluster and the rendered artifacts if the input was usable."""

    cluster: Cluster | None = None
    rendered: dict[str, str] = field(default_factory=dict)
    tree: object = None                   # fluxtree.Reconciled: what Flux deploys from the GitOps tree


def render_in_memory(cluster: Cluster) -> tuple[dict[str, str], list[Problem]]:
    """Every artifact's content, or a Problem naming the template that failed (settings the
    semantic checks refuse, such as no control-plane node, can make a template raise)."""
    rendered, problems = {}, []
    for artifact in catalogue.cluster_catalogue(cluster):
        try:
            rendered[artifact.target] = catalogue.render_artifact(cluster, artifact)
        except Exception as err:   # noqa: BLE001 - a failed template is a Problem, never a traceback
            line = getattr(err, "lineno", None) or _template_line(err, artifact.template)
            problems.append(Problem(f"templates/{artifact.template}", "", "a template that renders",
                                    f"{type(err).__name__}: {err}", line))
    return rendered, problems


def _template_line(err: Exception, template: str) -> int | None:
    """The template line an exception was raised from (Jinja puts template frames in the traceback)."""
    import traceback
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(template)]
    return frames[-1].lineno if frames else None


def reconciled(cluster: Cluster) -> fluxtree.Reconciled:
    """What Flux reconciles from the GitOps tree for this cluster; a missing tree is a Problem (the
    drift check needs it)."""
    where = cluster.settings["common"]["gitops"]["path"]
    tree, instance = gitops.tree_root(where), cluster.settings["flux-instance"]
    if not tree.is_dir():
        return fluxtree.Reconciled(where, problems=[Problem(
            paths.rel(paths.settings_file("common")), "gitops.path", "a folder holding the GitOps tree",
            f"{where!r} (no such folder)")])
    names = tuple(r.name for r in cluster.releases)
    charts = tuple(dict.fromkeys(names + tuple(cluster.charts[n]["chart"] for n in names if n in cluster.charts)))
    return fluxtree.reconcile(tree, instance["sync"], instance["namespace"], charts,
                              paths.rel(paths.settings_file("flux-instance")))


def conformance_findings(outcome: Outcome) -> Findings:
    """Rendered artifacts (and bootstrap/resources.yaml) against the upstream schemas of the pinned versions."""
    from . import conformance

    cluster, findings = outcome.cluster, Findings()
    talos_version = cluster.settings["talos"]["talosVersion"]
    for artifact in catalogue.cluster_catalogue(cluster):
        docs, source = load_all(outcome.rendered[artifact.target]), f"build/{artifact.target}"
        if artifact.kind == "talos":
            findings.merge(conformance.check_talos_documents(docs, talos_version, source))
        elif artifact.kind == "helm-values":
            release = cluster.release(artifact.release)
            found = conformance.check_helm_values(docs[0] if docs else {}, release.chart, release.version, source)
            found.problems = [to_settings(p, release.name) for p in found.problems]
            findings.merge(found)
        elif artifact.kind == "manifests":
            findings.merge(conformance.check_kubernetes_objects(docs, source))
    resources = load_all(paths.RESOURCES_FILE.read_text(encoding="utf-8"))
    findings.merge(conformance.check_kubernetes_objects(resources, paths.rel(paths.RESOURCES_FILE)))
    findings.warnings = list(dict.fromkeys(findings.warnings))
    return findings


def to_settings(problem: Problem, name: str) -> Problem:
    """A problem in rendered Helm values, told against the settings file the user edits when the
    value came from its `values:` mapping (file, line and key there), else left as it was."""
    docs, _ = load.documents()
    doc = docs.get(name)
    key = "values" + ("" if problem.path.startswith("[") else ".") + problem.path
    if doc is None or not problem.path or key not in doc.lines:
        return problem
    return replace(problem, file=doc.file, path=key, line=doc.line(key),
                   hint=problem.hint or f"this value reaches {problem.file} from here; the chart's schema refuses it")


def check_everything(with_conformance: bool = True) -> Outcome:
    """Run every offline check and collect every problem (not only the first)."""
    outcome = Outcome(problems=list(load.problems()))
    if outcome.problems:
        return outcome
    docs, _ = load.documents()
    outcome.cluster = cluster = load.cluster()
    if cluster is None:     # schema-valid files that still do not combine: a bug, said plainly
        outcome.problems.append(Problem(paths.rel(paths.VALUES), "", "settings that combine into one cluster",
                                        "files the tool could not combine"))
        return outcome
    outcome.problems += semantic.semantic_problems(cluster, docs)
    outcome.rendered, render_problems = render_in_memory(cluster)
    outcome.problems += render_problems
    resources, resource_problems = gitops.read_objects([paths.RESOURCES_FILE])
    flux = reconciled(cluster)
    outcome.problems += resource_problems + flux.problems
    outcome.warnings += flux.warnings
    # The guards check what did render (an artifact that failed is already a problem), and of the
    # GitOps tree only what Flux reconciles for this cluster.
    outcome.problems += guards.guard_problems(guards.Context(cluster, outcome.rendered, resources, flux.objects))
    if flux.kustomizations:     # else the cluster root is missing, which flux-sync-target says
        drifted, unpinned = drift.drift_problems(cluster.charts, flux.objects,
                                                 tuple(r.name for r in cluster.releases), flux.root)
        # "0 of N found" says nothing new when the tree itself could not be read (already a problem).
        outcome.problems += [p for p in drifted if not (flux.problems and p.rule == drift.NOT_FOUND)]
        outcome.warnings += unpinned
    outcome.tree = flux
    if with_conformance and not outcome.problems:
        outcome.merge(conformance_findings(outcome))
    return outcome
