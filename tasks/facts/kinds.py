"""Which kinds the one `kubectl get` asks for: the base kinds, the watched custom resources, and the
kinds of the Helm releases' manifests, remembered from the last run (build/api-kinds.json, a hint
for a single call; never trusted for completeness)."""
from __future__ import annotations

import json

from .. import paths
from ..files import write_if_changed

BASE = ("Namespace", "Node", "CustomResourceDefinition", "Deployment", "Secret")
# Custom resources the stages read, listed once their CRD exists (name of the CRD -> kind).
WATCHED_CRDS = {"gitrepositories.source.toolkit.fluxcd.io": "GitRepository",
                "ocirepositories.source.toolkit.fluxcd.io": "OCIRepository",
                "kustomizations.kustomize.toolkit.fluxcd.io": "Kustomization",
                "helmreleases.helm.toolkit.fluxcd.io": "HelmRelease",
                "fluxinstances.fluxcd.controlplane.io": "FluxInstance",
                "clustersecretstores.external-secrets.io": "ClusterSecretStore",
                "clusterissuers.cert-manager.io": "ClusterIssuer",
                "ciliumloadbalancerippools.cilium.io": "CiliumLoadBalancerIPPool",
                "ciliuml2announcementpolicies.cilium.io": "CiliumL2AnnouncementPolicy",
                "ciliumbgpclusterconfigs.cilium.io": "CiliumBGPClusterConfig",
                "ciliumbgppeerconfigs.cilium.io": "CiliumBGPPeerConfig",
                "ciliumbgpadvertisements.cilium.io": "CiliumBGPAdvertisement"}
# Built-in kinds every API server serves (k8s.io/api), by the names charts use.
BUILTIN = frozenset({
    "Namespace", "Node", "Secret", "ConfigMap", "Service", "ServiceAccount", "Pod", "Endpoints",
    "PersistentVolume", "PersistentVolumeClaim", "LimitRange", "ResourceQuota", "Deployment", "DaemonSet",
    "StatefulSet", "ReplicaSet", "Job", "CronJob", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
    "PodDisruptionBudget", "NetworkPolicy", "Ingress", "IngressClass", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "CustomResourceDefinition", "APIService", "PriorityClass", "StorageClass",
    "CSIDriver", "HorizontalPodAutoscaler", "Lease", "RuntimeClass"})


def type_name(kind: str) -> str:
    """How kubectl is asked for a kind: its lower-case name (kubectl resolves it through discovery; a
    fully qualified plural.group would make kubectl 1.32 refresh its whole discovery cache)."""
    return kind.lower()


def hinted() -> list[str]:
    """The kinds asked for last time beyond the base ones."""
    try:
        hint = json.loads(paths.API_KINDS.read_text())
    except (OSError, ValueError):
        return []
    return [k for k in hint if isinstance(k, str) and k.isidentifier() and k not in BASE] \
        if isinstance(hint, list) else []


def remember(kinds: list[str]) -> None:
    """Keep the hint for the next run's single query (kind names only)."""
    try:
        write_if_changed(paths.API_KINDS, json.dumps(sorted(set(kinds))) + "\n")
    except OSError:
        pass
