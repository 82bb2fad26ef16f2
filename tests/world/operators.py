"""The controllers of the charts' custom resources: each reconciles its kinds only while its
Deployment is available (a custom resource nobody reconciles keeps the status it has), and some do
something when they start.

- cert-manager (``cert-manager`` Deployment): Issuers, ClusterIssuers, Certificates... Ready.
- External Secrets (``external-secrets``): stores and ExternalSecrets Ready.
- Flux controllers, one Deployment per group as flux-operator installs them: a GitRepository whose
  ``secretRef`` Secret is missing fails with source-controller's AuthenticationFailed
  (internal/controller/gitrepository_controller.go); a Kustomization waits for its source's artifact
  (kustomize-controller internal/controller/kustomization_controller.go: ArtifactFailed, "Source
  artifact not found, retrying in 30s"); otherwise Ready with an artifact / applied revision.
- flux-operator: FluxInstances (``flux``); cilium-operator: Cilium's CRDs when it starts (``cilium``).
"""
from __future__ import annotations

import copy

from . import cilium
from .objects import condition, set_condition
from .store import _meta, now

# API group -> the Deployment (any namespace) whose controller reconciles the group's kinds.
CONTROLLERS = {
    "cert-manager.io": "cert-manager", "acme.cert-manager.io": "cert-manager",
    "external-secrets.io": "external-secrets", "generators.external-secrets.io": "external-secrets",
    "source.toolkit.fluxcd.io": "source-controller", "kustomize.toolkit.fluxcd.io": "kustomize-controller",
    "helm.toolkit.fluxcd.io": "helm-controller", "notification.toolkit.fluxcd.io": "notification-controller",
    "image.toolkit.fluxcd.io": "image-reflector-controller", "fluxcd.controlplane.io": "flux-operator",
}
# Ready condition (reason, message) per (group, kind); kind "*" covers a whole group.
READY = {
    ("source.toolkit.fluxcd.io", "*"): ("Succeeded", "stored artifact for revision '{revision}'"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): ("ReconciliationSucceeded", "Applied revision: {revision}"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): ("InstallSucceeded", "Helm install succeeded"),
    ("notification.toolkit.fluxcd.io", "*"): ("Succeeded", "Reconciliation finished"),
    ("image.toolkit.fluxcd.io", "*"): ("Succeeded", "Reconciliation finished"),
    ("cert-manager.io", "*"): ("Ready", "The resource is ready"),
    ("external-secrets.io", "ExternalSecret"): ("SecretSynced", "secret synced"),
    ("external-secrets.io", "*"): ("Valid", "store validated"),
}
REVISION = "main@sha1:0000000000000000000000000000000000000000"


def handles(group: str, kind: str) -> bool:
    """Whether ready_handler reconciles this kind."""
    return (group, kind) in READY or (group, "*") in READY


def on_deployment(ctl, obj: dict, old: dict | None) -> None:
    """A Deployment changed: when a controller became available or went away, its kinds reconcile."""
    was, now_available = condition(old or {}, "Available") == "True", condition(obj, "Available") == "True"
    if was == now_available:
        return
    name = _meta(obj)["name"]
    if name == cilium.OPERATOR and now_available:
        cilium.register_crds(ctl, obj)
    for group in [g for g, deployment in CONTROLLERS.items() if deployment == name]:
        ctl.reconcile_group(group)


def _failed(status: dict, generation: int, reason: str, message: str) -> dict:
    """Status with Ready=False for a reason."""
    status["conditions"] = set_condition(status.get("conditions") or [], "Ready", "False", reason, message,
                                         generation)
    return status


def _blocked(ctl, res, obj: dict) -> tuple[str, str] | None:
    """(reason, message) when a Flux object cannot become Ready: missing secret or source artifact."""
    spec, namespace = obj.get("spec") or {}, _meta(obj).get("namespace", "")
    secret = (spec.get("secretRef") or {}).get("name")
    if res.group == "source.toolkit.fluxcd.io" and secret and ctl.get("", "v1", "secrets", namespace, secret) is None:
        return "AuthenticationFailed", (f"failed to get secret '{namespace}/{secret}': "
                                        f'secrets "{secret}" not found')
    ref = spec.get("sourceRef") or {}
    if res.kind == "Kustomization":
        source = ctl.get_kind(ref.get("apiVersion") or "source.toolkit.fluxcd.io/v1", ref.get("kind", ""),
                              ref.get("namespace") or namespace, ref.get("name", ""))
        if source is None:
            return "ArtifactFailed", f"Source '{ref.get('kind')}/{ref.get('namespace') or namespace}/{ref.get('name')}' not found"
        if not (source.get("status") or {}).get("artifact"):
            return "ArtifactFailed", "Source artifact not found, retrying in 30s"
    return None


def ready_handler(ctl, res, key, obj) -> dict | None:
    """Custom resources report Ready=True for their generation while their controller runs."""
    if not ctl.deployment_available(None, CONTROLLERS[res.group]):
        return None
    reason, message = READY.get((res.group, res.kind)) or READY[(res.group, "*")]
    generation = _meta(obj).get("generation", 1)
    status = copy.deepcopy(obj.get("status") or {})
    status["observedGeneration"] = generation
    blocked = _blocked(ctl, res, obj)
    if blocked:
        return _failed(status, generation, *blocked)
    conds = status.get("conditions") or []
    if res.group == "helm.toolkit.fluxcd.io":
        conds = set_condition(conds, "Released", "True", reason, message, generation)
    status["conditions"] = set_condition(conds, "Ready", "True", reason, message.format(revision=REVISION), generation)
    if res.group == "kustomize.toolkit.fluxcd.io":
        status.update(lastAppliedRevision=REVISION, lastAttemptedRevision=REVISION)
    if res.group == "source.toolkit.fluxcd.io":
        name, ns = _meta(obj)["name"], _meta(obj).get("namespace", "")
        status["artifact"] = {"revision": REVISION, "digest": f"sha256:{'0' * 64}",
                              "path": f"{res.kind.lower()}/{ns}/{name}/0.tar.gz",
                              "url": f"http://source-controller.{ns}.svc.cluster.local./{res.kind.lower()}/{ns}/{name}/0.tar.gz",
                              "lastUpdateTime": (status.get("artifact") or {}).get("lastUpdateTime") or now()}
    return status
