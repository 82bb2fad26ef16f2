"""The apply chain as a table, in the required order. Fixed stages are rows; nodes, releases and
rendered manifests each add their rows from the settings, so a new release is one row of
bootstrap/charts.yaml and nothing here."""
from __future__ import annotations

from functools import partial

from .. import paths
from ..render import catalogue
from ..settings.model import Cluster, Node, Release
from . import crds, flux, helm, k8s_upgrade, kubeconfig, objects, roll, talos
from .stage import Stage

TALOSCONFIG = (paths.TALOSCONFIG,)


def node_stage(node: Node, doc: str) -> Stage:
    """The stage that gives one node its machine config."""
    return Stage(f"node-{node.name}", doc, (paths.node_config(node.name), paths.TALOSCONFIG),
                 partial(talos.node_configured, node=node), partial(talos.apply_node, node=node))


def release_stage(release: Release) -> Stage:
    """The stage that installs or upgrades one Helm release."""
    return Stage(f"release-{release.name}", f"Helm release {release.name} ({release.chart} {release.version})",
                 (paths.release_values(release.name), paths.RENDERED_APPS_HELMFILE),
                 partial(helm.release_done, release=release), partial(helm.sync_release, release=release))


def manifest_stage(artifact: catalogue.Artifact) -> Stage:
    """The stage that applies one rendered manifest file (the catalogue says which, and when)."""
    rel = paths.rel(artifact.path)
    return Stage(artifact.stage, f"Apply {rel}", (artifact.path,),
                 partial(objects.manifest_done, rel=rel), partial(objects.apply_manifest, rel=rel))


# Day two: versions move before any config is applied (a new kubelet version may need the new Talos),
# Talos first, then Kubernetes. On a first bootstrap no node is configured yet: both are done.
UPGRADES = (
    ("talos-upgrade", "Roll Talos to talosVersion: control planes first, one node at a time, etcd quorum kept",
     (), roll.talos_upgraded, roll.roll_talos),
    ("kubernetes-upgrade", "talosctl upgrade-k8s to kubernetesVersion, after the Talos roll", (),
     k8s_upgrade.k8s_upgraded, k8s_upgrade.upgrade_k8s),
)
BEFORE_NODES = (
    ("etcd-bootstrap", "Bootstrap etcd exactly once on the first control-plane node", TALOSCONFIG,
     talos.etcd_done, talos.etcd_bootstrap),
    ("kubeconfig", "Fetch the kubeconfig into build/ (pointing at the first control plane)", TALOSCONFIG,
     kubeconfig.kubeconfig_done, kubeconfig.fetch_kubeconfig),
)
AFTER_NODES = (
    ("nodes-ready", "Wait for the API server and for every node to register", (paths.settings_file("talos"),),
     kubeconfig.nodes_registered, kubeconfig.wait_nodes),
    ("resources", "op inject bootstrap/resources.yaml | kubectl apply --server-side", (paths.RESOURCES_FILE,),
     objects.resources_done, objects.apply_resources),
)


def crds_stage(cluster: Cluster) -> Stage:
    """Step 3: the CRDs of the charts 00-crds.yaml renders, templated with their releases' values."""
    values = tuple(paths.release_values(r.name) for r in cluster.releases if r.name in cluster.crd_charts)
    return Stage("crds", "Seed CRDs from 00-crds.yaml (envoy-gateway excluded) and wait until Established",
                 (paths.RENDERED_CRDS_HELMFILE, *values), crds.crds_done, crds.seed_crds)
# Stages right after a release's own stage (besides the rendered manifests the catalogue places).
AFTER_RELEASE = {
    "kube-vip": ("api-vip", "Point build/kubeconfig at the control-plane VIP once kube-vip serves it",
                 (paths.settings_file("kube-vip"),), kubeconfig.vip_done, kubeconfig.switch_to_vip),
}
LAST = ("flux-ready", "Verify Flux reconciles: the FluxInstance, its source and its Kustomization Ready",
        (paths.release_values("flux-instance"),), flux.flux_ready, flux.wait_flux)


def stage_table(cluster: Cluster) -> list[Stage]:
    """Every stage in the required order."""
    first = cluster.first_controlplane
    others = [n for n in cluster.nodes if n != first]
    manifests = [a for a in catalogue.cluster_catalogue(cluster) if a.stage]
    stages = [Stage(*row) for row in UPGRADES]
    stages.append(node_stage(first, "Apply the Talos config to the first control-plane node"))
    stages += [Stage(*row) for row in BEFORE_NODES]
    stages += [node_stage(node, f"Join node {node.name} ({node.role})") for node in others]
    stages += [Stage(*row) for row in AFTER_NODES] + [crds_stage(cluster)]
    for release in cluster.releases:
        stages.append(release_stage(release))
        stages += [manifest_stage(a) for a in manifests if a.applied_after == release.name]
        if release.name in AFTER_RELEASE:
            stages.append(Stage(*AFTER_RELEASE[release.name]))
    stages.append(Stage(*LAST))
    return stages
