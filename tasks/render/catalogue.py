"""The catalogue of rendered artifacts: what each file under build/ is, which template and
settings it reads, and how its content is produced (in memory, so checks run before any write)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from .. import paths
from ..settings.model import SHARED_SETTINGS, Cluster
from ..yamlio import dump, load_all
from .templates import deep_merge, render_template


@dataclass(frozen=True)
class Artifact:
    """One file under build/."""

    target: str                  # relative to build/
    template: str                # relative to templates/
    reads: tuple[str, ...]       # settings files under bootstrap/values/
    kind: str                    # talos | talosconfig | helm-values | manifests | helmfile
    doc: str
    node: str | None = None
    release: str | None = None
    extras: tuple[str, ...] = field(default=())   # settings whose `values:` merge on top
    applied_after: str | None = None              # manifests: the release whose stage precedes theirs
    stage: str | None = None                      # manifests: the name of the stage that applies them
    environment: tuple[str, ...] = field(default=())  # environment variables the content depends on

    @property
    def path(self):
        return paths.BUILD / self.target


# A folder of unpacked charts named <chart>-<version> used instead of the chart repositories.
CHART_SOURCE = "BOOTSTRAP_CHART_SOURCE"


def chart_source() -> str:
    """BOOTSTRAP_CHART_SOURCE as an absolute path (helm runs in build/helmfile/), or ""."""
    source = os.environ.get(CHART_SOURCE, "").strip()
    return os.path.abspath(source) if source else ""


def catalogue(node_names: list[str], releases: list[dict]) -> list[Artifact]:
    """Every artifact, from the node names and the release rows (enough to create doit tasks)."""
    items = [Artifact(f"talos/{name}.yaml", "talos/node.yaml.j2", ("common", "talos", "spegel"),
                      "talos", f"Talos machine config for node {name}", node=name)
             for name in node_names]
    items.append(Artifact("talos/talosconfig.yaml", "talos/talosconfig.yaml.j2", ("common", "talos"),
                          "talosconfig", "talosctl client config (op:// references only)"))
    for row in releases:
        own = tuple(r for r in row["reads"] if r not in SHARED_SETTINGS)
        items.append(Artifact(f"values/{row['name']}.yaml", f"values/{row['name']}.yaml.j2", tuple(row["reads"]),
                              "helm-values", f"Helm values for the {row['name']} release",
                              release=row["name"], extras=own))
    items += [
        Artifact("manifests/cilium-network.yaml", "manifests/cilium-network.yaml.j2", ("common", "talos", "cilium"),
                 "manifests", "Cilium LoadBalancer IP pool and BGP peering",
                 applied_after="cilium", stage="cilium-network"),
        Artifact("manifests/cluster-issuer.yaml", "manifests/cluster-issuer.yaml.j2", ("cert-manager",),
                 "manifests", "cert-manager default ClusterIssuer",
                 applied_after="cert-manager", stage="cluster-issuer"),
        Artifact("manifests/clustersecretstore.yaml", "manifests/clustersecretstore.yaml.j2",
                 ("onepassword-store",), "manifests", "1Password ClusterSecretStore",
                 applied_after="onepassword-connect", stage="clustersecretstore"),
        Artifact("helmfile/00-crds.yaml", "helmfile/00-crds.yaml.j2", ("common",), "helmfile",
                 "The CRD seeding releases bootstrap/helmfile.d/00-crds.yaml includes",
                 environment=(CHART_SOURCE,)),
        Artifact("helmfile/01-apps.yaml", "helmfile/01-apps.yaml.j2", ("common", "cert-manager", "flux-operator"),
                 "helmfile", "The bootstrap releases bootstrap/helmfile.d/01-apps.yaml includes",
                 environment=(CHART_SOURCE,)),
    ]
    return items


def cluster_catalogue(cluster: Cluster) -> list[Artifact]:
    """The catalogue for a validated cluster."""
    rows = [{"name": r.name, "reads": list(r.reads)} for r in cluster.releases]
    return catalogue([n.name for n in cluster.nodes], rows)


def render_artifact(cluster: Cluster, artifact: Artifact) -> str:
    """The content of one artifact."""
    # The template sees only the settings it declares, so file_dep can never miss an input.
    view = replace(cluster, settings={name: cluster.settings[name] for name in artifact.reads})
    context = {"cluster": view}
    if artifact.node:
        context["node"] = next(n for n in cluster.nodes if n.name == artifact.node)
    if artifact.release:
        context["release"] = cluster.release(artifact.release)
    if CHART_SOURCE in artifact.environment:
        context["chart_source"] = chart_source()
    text = render_template(artifact.template, **context)
    if artifact.kind != "helm-values":
        return text
    values = (load_all(text) or [{}])[0]
    for name in artifact.extras:
        values = deep_merge(values, cluster.settings[name].get("values") or {})
    return dump(values)


def render_all(cluster: Cluster) -> dict[str, str]:
    """Every artifact's content, keyed by its path relative to build/."""
    return {a.target: render_artifact(cluster, a) for a in cluster_catalogue(cluster)}
