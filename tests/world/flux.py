"""The simulated flux-operator: what a FluxInstance does to a cluster.

Per the flux-operator documentation (fluxoperator.dev, "Flux Instance CRD" and "Flux Cluster Sync
Configuration"): the operator installs the Flux distribution (the CRDs and one Deployment per
component) in the FluxInstance's namespace and, when ``.spec.sync`` is set, generates a source
(GitRepository, OCIRepository or Bucket) and a Kustomization, both named after the namespace (or
``.spec.sync.name``). The instance is Ready once every component Deployment is available.
"""
from __future__ import annotations

import copy

from .store import _meta

DEFAULT_COMPONENTS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
# component -> (group, kind, plural, [versions, storage first])
COMPONENT_CRDS = {
    "source-controller": [("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories", ["v1", "v1beta2"]),
                          ("source.toolkit.fluxcd.io", "OCIRepository", "ocirepositories", ["v1", "v1beta2"]),
                          ("source.toolkit.fluxcd.io", "HelmRepository", "helmrepositories", ["v1", "v1beta2"]),
                          ("source.toolkit.fluxcd.io", "HelmChart", "helmcharts", ["v1", "v1beta2"]),
                          ("source.toolkit.fluxcd.io", "Bucket", "buckets", ["v1", "v1beta2"])],
    "kustomize-controller": [("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations", ["v1", "v1beta2"])],
    "helm-controller": [("helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", ["v2", "v2beta2"])],
    "notification-controller": [("notification.toolkit.fluxcd.io", "Alert", "alerts", ["v1beta3"]),
                                ("notification.toolkit.fluxcd.io", "Provider", "providers", ["v1beta3"]),
                                ("notification.toolkit.fluxcd.io", "Receiver", "receivers", ["v1"])],
    "image-reflector-controller": [
        ("image.toolkit.fluxcd.io", "ImageRepository", "imagerepositories", ["v1beta2"]),
        ("image.toolkit.fluxcd.io", "ImagePolicy", "imagepolicies", ["v1beta2"])],
    "image-automation-controller": [
        ("image.toolkit.fluxcd.io", "ImageUpdateAutomation", "imageupdateautomations", ["v1beta2"])],
}
SHORT_NAMES = {"kustomizations": ["ks"], "helmreleases": ["hr"], "gitrepositories": ["gitrepo"],
               "ocirepositories": ["ocirepo"], "helmrepositories": ["helmrepo"], "helmcharts": ["hc"]}
FLUX_VERSION = "v2.6.4"
REVISION = "main@sha1:0000000000000000000000000000000000000000"


def flux_crd(group: str, kind: str, plural: str, versions: list[str]) -> dict:
    """A Flux CRD with status subresource and Flux's Ready/Status printer columns."""
    columns = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
               {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
               {"name": "Status", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].message'}]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "labels": {
                "app.kubernetes.io/part-of": "flux", "app.kubernetes.io/version": FLUX_VERSION}},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                               "singular": kind.lower(), "shortNames": SHORT_NAMES.get(plural, []),
                               "categories": ["all"] if group != "notification.toolkit.fluxcd.io" else []},
                     "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": {"status": {}},
                                   "additionalPrinterColumns": columns,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}
                                  for i, v in enumerate(versions)]}}


def _component_deployment(name: str, namespace: str, owner_ref: dict) -> dict:
    """The Deployment of one Flux component."""
    labels = {"app": name, "app.kubernetes.io/part-of": "flux", "app.kubernetes.io/component": name}
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner_ref]},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"serviceAccountName": name, "containers": [
                                      {"name": "manager", "image": f"ghcr.io/fluxcd/{name}:{FLUX_VERSION}"}]}}}}


def _ensure(ctl, res, namespace: str, body: dict) -> dict:
    """Create an object unless one of that name exists; return the stored object."""
    name = body["metadata"]["name"]
    existing = ctl.store.find(res, namespace, name)
    if existing is None:
        ctl.store.create(res, namespace, body, manager="flux-operator")
        existing = ctl.store.find(res, namespace, name)
    return existing


def _sync_objects(sync: dict, namespace: str) -> tuple[dict, dict]:
    """(source, Kustomization) manifests for .spec.sync."""
    name, kind = sync.get("name") or namespace, sync.get("kind", "GitRepository")
    spec = {"interval": sync.get("interval", "1m"), "url": sync.get("url", "")}
    ref = sync.get("ref", "")
    if kind == "GitRepository":
        spec["ref"] = {"name": ref} if ref.startswith("refs/") else {"branch": ref or "main"}
    elif kind == "OCIRepository":
        spec["ref"] = {"digest": ref} if ref.startswith("sha256:") else {"tag": ref or "latest"}
    else:
        spec["bucketName"] = ref
    if sync.get("pullSecret"):
        spec["secretRef"] = {"name": sync["pullSecret"]}
    group = {"Bucket": "source.toolkit.fluxcd.io"}.get(kind, "source.toolkit.fluxcd.io")
    source = {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace},
              "spec": spec}
    kustomization = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                     "metadata": {"name": name, "namespace": namespace},
                     "spec": {"interval": "10m", "path": sync.get("path", "./"), "prune": True,
                              "sourceRef": {"kind": kind, "name": name}}}
    return source, kustomization


def fluxinstance_handler(ctl, res, key, obj) -> dict:
    """Install the distribution, generate the sync objects, report Ready when the components run."""
    from .controllers import (  # local: controllers imports this module
        _owner_ref,
        set_condition,
    )
    meta, spec = _meta(obj), obj.get("spec") or {}
    namespace, generation = meta["namespace"], meta.get("generation", 1)
    components = spec.get("components") or list(DEFAULT_COMPONENTS)
    crd_res = ctl.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    for component in components:
        for group, kind, plural, versions in COMPONENT_CRDS.get(component, []):
            _ensure(ctl, crd_res, "", flux_crd(group, kind, plural, versions))
    deploy_res = ctl.resource("apps", "v1", "deployments")
    deployments = [_ensure(ctl, deploy_res, namespace, _component_deployment(c, namespace, _owner_ref(obj)))
                   for c in components if c in COMPONENT_CRDS]
    if spec.get("sync"):
        for body in _sync_objects(spec["sync"], namespace):
            api_version, kind = body["apiVersion"], body["kind"]
            target = ctl.store.registry.for_kind(api_version, kind)
            if target is not None:
                _ensure(ctl, target, namespace, body)
    ready = all(any(c.get("type") == "Available" and c.get("status") == "True"
                    for c in (d.get("status") or {}).get("conditions") or []) for d in deployments)
    status = copy.deepcopy(obj.get("status") or {})
    if ready:
        conds = set_condition(status.get("conditions") or [], "Ready", "True", "ReconciliationSucceeded",
                              "Reconciliation finished", generation)
        status.update(lastAppliedRevision=f"{FLUX_VERSION}@sha256:{'0' * 64}")
    else:
        conds = set_condition(status.get("conditions") or [], "Ready", "Unknown", "Progressing",
                              "Reconciliation in progress", generation)
    status.update(conditions=conds, observedGeneration=generation,
                  lastAttemptedRevision=f"{FLUX_VERSION}@sha256:{'0' * 64}",
                  components=[{"name": c, "repository": f"ghcr.io/fluxcd/{c}", "tag": FLUX_VERSION}
                              for c in components])
    return status


__all__ = ["REVISION", "flux_crd", "fluxinstance_handler"]
