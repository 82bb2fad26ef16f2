"""The whole offline check, in one place: settings -> schema -> semantics -> render in memory ->
guards -> drift -> upstream schemas. Nothing is written; the result says what to print."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import artifacts, checks, drift, gitops, guards, paths
from .config import Cluster, build_cluster, load_documents
from .problems import Problem


@dataclass
class Outcome:
    """What the check found: the cluster and rendered artifacts if the input was usable."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cluster: Cluster | None = None
    rendered: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def render_in_memory(cluster: Cluster) -> tuple[dict[str, str], list[Problem]]:
    """Every artifact's content, or a Problem naming the template that failed (settings the
    semantic checks refuse, such as no control-plane node, can make a template raise)."""
    rendered, problems = {}, []
    for artifact in artifacts.cluster_catalogue(cluster):
        try:
            rendered[artifact.target] = artifacts.render_artifact(cluster, artifact)
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


def gitops_objects(cluster: Cluster) -> tuple[list, list[Problem]]:
    """The GitOps tree's objects; a missing tree is a Problem (the drift check needs it)."""
    where = cluster.settings["common"]["gitops"]["path"]
    files = gitops.tree_files(where)
    if not files:
        return [], [Problem(paths.rel(paths.VALUES / "common.yaml"), "gitops.path",
                            "a folder holding the GitOps tree's YAML files", f"{where!r} (no YAML files there)")]
    return gitops.read_objects(files)


def conformance_problems(outcome: Outcome) -> tuple[list[Problem], list[str]]:
    """Rendered artifacts checked against the upstream schemas of the pinned versions."""
    from . import conformance
    from .yamlio import load_all

    cluster, report = outcome.cluster, conformance.Report()
    talos_version = cluster.settings["talos"]["talosVersion"]
    for artifact in artifacts.cluster_catalogue(cluster):
        docs, source = load_all(outcome.rendered[artifact.target]), f"build/{artifact.target}"
        if artifact.kind == "talos":
            report.merge(conformance.check_talos_documents(docs, talos_version, source))
        elif artifact.kind == "helm-values":
            release = cluster.release(artifact.release)
            report.merge(conformance.check_helm_values(docs[0] if docs else {}, release.chart,
                                                       release.version, source))
        elif artifact.kind == "manifests":
            report.merge(conformance.check_kubernetes_objects(docs, source))
    resources = load_all(paths.RESOURCES_FILE.read_text(encoding="utf-8"))
    report.merge(conformance.check_kubernetes_objects(resources, paths.rel(paths.RESOURCES_FILE)))
    problems = [Problem(v.source, _document_path(v), "what the upstream schema allows", v.message,
                        rule="upstream-schema") for v in report.errors]
    return problems, list(dict.fromkeys(report.warnings))


def _document_path(violation) -> str:
    """A violation's key path, prefixed by its document index in multi-document files."""
    return f"documents[{violation.document}].{violation.path}" if violation.document else violation.path


def check_everything(with_conformance: bool = True) -> Outcome:
    """Run every offline check and collect every problem (not only the first)."""
    docs, problems = load_documents()
    outcome = Outcome(problems=problems)
    if problems:
        return outcome
    outcome.cluster = cluster = build_cluster(docs)
    outcome.problems += checks.semantic_problems(cluster, docs)
    outcome.rendered, render_problems = render_in_memory(cluster)
    outcome.problems += render_problems
    resources, resource_problems = gitops.read_objects([paths.RESOURCES_FILE])
    tree, tree_problems = gitops_objects(cluster)
    outcome.problems += resource_problems + tree_problems
    # The guards check what did render (an artifact that failed is already a problem).
    ctx = guards.Context(cluster, outcome.rendered, resources, tree)
    outcome.problems += guards.guard_problems(ctx)
    drifted, unpinned = drift.drift_problems(cluster.charts, tree)
    outcome.problems += drifted
    outcome.warnings += unpinned
    if with_conformance and not outcome.problems:
        found, warned = conformance_problems(outcome)
        outcome.problems += found
        outcome.warnings += warned
    return outcome
