"""The simulated flux-operator (controlplaneio-fluxcd/flux-operator v0.49.0): what a FluxInstance does.

While a flux-operator Deployment is available in the FluxInstance's namespace (the documented rule:
the instance lives where the operator runs), internal/controller/fluxinstance_controller.go:
- adds the finalizer ``fluxcd.controlplane.io/finalizer`` first;
- resolves ``spec.distribution.version`` (a semver range such as ``2.x``) against the Flux versions
  the operator embeds (config/data/flux/) and builds the distribution with internal/builder
  (templates.go): per component its CRDs, ServiceAccount, Deployment (and Services), the roles with
  the ``-<namespace>`` suffix, the NetworkPolicies when ``cluster.networkPolicy`` (default true), and
  for ``spec.sync`` the source and Kustomization named after the namespace (``syncTmpl``); every object
  carries the builder's labels and the ssa owner labels (``fluxcd.controlplane.io/name|namespace``);
- prunes what it applied before and no longer builds (its inventory's stale entries);
- reports ``Reconciling``/``Ready=Unknown`` ("Reconciliation in progress") until every applied
  workload and sync object is ready (``spec.wait``, default true), then ``Ready=True`` with
  ``lastAppliedRevision``, ``components`` and ``inventory``;
- on deletion deletes its inventory (uninstall.go) and removes the finalizer.
The distribution artifact (chart default ``oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests``)
is not pulled: the embedded manifests are used, as without ``spec.distribution.artifact``.
"""
from __future__ import annotations

import copy
import hashlib

from .objects import condition, set_condition
from .store import _meta

FINALIZER = "fluxcd.controlplane.io/finalizer"
# The Flux versions flux-operator v0.49.0 embeds (config/data/flux/), oldest first.
VERSIONS = ("v2.2.3", "v2.3.0", "v2.4.0", "v2.5.0", "v2.5.1", "v2.6.0", "v2.6.1", "v2.6.2", "v2.6.3", "v2.6.4",
            "v2.7.0", "v2.7.1", "v2.7.2", "v2.7.3", "v2.7.4", "v2.7.5", "v2.8.0", "v2.8.1", "v2.8.2", "v2.8.3",
            "v2.8.5", "v2.8.6", "v2.8.7")
# Flux v2.8.7 (config/data/flux/v2.8.7/*.yaml): component -> (image tag, [(plural, kind, versions, short names)]).
COMPONENTS = {
    "source-controller": ("v1.8.4", [
        ("buckets", "Bucket", ["v1"], []), ("externalartifacts", "ExternalArtifact", ["v1"], []),
        ("gitrepositories", "GitRepository", ["v1"], ["gitrepo"]), ("helmcharts", "HelmChart", ["v1"], ["hc"]),
        ("helmrepositories", "HelmRepository", ["v1"], ["helmrepo"]),
        ("ocirepositories", "OCIRepository", ["v1"], ["ocirepo"])]),
    "kustomize-controller": ("v1.8.5", [("kustomizations", "Kustomization", ["v1"], ["ks"])]),
    "helm-controller": ("v1.5.4", [("helmreleases", "HelmRelease", ["v2"], ["hr"])]),
    "notification-controller": ("v1.8.4", [
        ("alerts", "Alert", ["v1beta3", "v1beta2"], []), ("providers", "Provider", ["v1beta3", "v1beta2"], []),
        ("receivers", "Receiver", ["v1", "v1beta2"], [])]),
}
GROUPS = {"source-controller": "source.toolkit.fluxcd.io", "kustomize-controller": "kustomize.toolkit.fluxcd.io",
          "helm-controller": "helm.toolkit.fluxcd.io", "notification-controller": "notification.toolkit.fluxcd.io"}
# component -> [(Service name, target port name)]
SERVICES = {"source-controller": [("source-controller", "http")],
            "notification-controller": [("notification-controller", "http"), ("webhook-receiver", "http-webhook")]}
NETWORK_POLICIES = ("allow-egress", "allow-scraping", "allow-webhooks")
MESSAGE_IN_PROGRESS = "Reconciliation in progress"


def resolve(wanted: str) -> str | None:
    """The newest embedded version matching a version or range ('2.x', '2.8.x', 'v2.8.7', '2.8')."""
    parts = wanted.lstrip("v").split(".")
    for version in reversed(VERSIONS):
        have = version.lstrip("v").split(".")
        if all(p in ("x", "*", "X") or p == h for p, h in zip(parts, have)):
            return version
    return None


def _digest(text: str) -> str:
    """A stable sha256 digest standing in for an image or manifest digest."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _labels(namespace: str, name: str, version: str) -> dict:
    """builder labelsTmpl plus the ssa owner labels (fluxcd/pkg/ssa SetOwnerLabels)."""
    return {"app.kubernetes.io/managed-by": "flux-operator", "app.kubernetes.io/instance": namespace,
            "app.kubernetes.io/version": version, "app.kubernetes.io/part-of": "flux",
            "fluxcd.controlplane.io/name": name, "fluxcd.controlplane.io/namespace": namespace}


ANNOTATIONS = {"kustomize.toolkit.fluxcd.io/ssa": "Ignore", "kustomize.toolkit.fluxcd.io/prune": "Disabled"}


def _crd(group: str, plural: str, kind: str, versions: list[str], short: list[str]) -> dict:
    """A Flux CRD (schemas left permissive) with Flux's Ready/Status printer columns."""
    columns = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
               {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
               {"name": "Status", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].message'}]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
                               **({"shortNames": short} if short else {})},
                     "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": {"status": {}},
                                   "additionalPrinterColumns": columns,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}
                                  for i, v in enumerate(versions)]}}


def _component(name: str, tag: str, namespace: str, registry: str) -> list[dict]:
    """A component's ServiceAccount, Services and Deployment (config/data/flux/<version>/<name>.yaml)."""
    labels = {"app.kubernetes.io/component": name, "app.kubernetes.io/part-of": "flux"}
    pod_labels = {"app": name, **labels}
    out = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "labels": labels}}]
    out += [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": svc, "labels": {**labels, "control-plane": "controller"}},
             "spec": {"type": "ClusterIP", "selector": {"app": name},
                      "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": port}]}}
            for svc, port in SERVICES.get(name, [])]
    container = {"name": "manager", "image": f"{registry}/{name}:{tag}",
                 "env": [{"name": "RUNTIME_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}
    out.append({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "labels": {**labels, "control-plane": "controller"}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                         **({"strategy": {"type": "Recreate"}} if name == "source-controller" else {}),
                         "template": {"metadata": {"labels": pod_labels},
                                      "spec": {"serviceAccountName": name, "priorityClassName": "system-cluster-critical",
                                               "nodeSelector": {"kubernetes.io/os": "linux"},
                                               "containers": [container]}}}})
    return [{**o, "metadata": {**o["metadata"], "namespace": namespace}} for o in out]


def _roles(namespace: str) -> list[dict]:
    """rbac.yaml under the roles kustomization (nameSuffix -<namespace>), rules left out."""
    crole = lambda name: {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": {"name": f"{name}-{namespace}"}, "rules": []}
    binding = lambda name, role, subjects: {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{name}-{namespace}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": s, "namespace": namespace} for s in subjects]}
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": f"critical-pods-{namespace}",
                                                                       "namespace": namespace},
             "spec": {"hard": {"pods": "1000"}, "scopeSelector": {"matchExpressions": [
                 {"operator": "In", "scopeName": "PriorityClass",
                  "values": ["system-node-critical", "system-cluster-critical"]}]}}}
    return [quota, crole("crd-controller"), crole("flux-edit"), crole("flux-view"),
            binding("cluster-reconciler", "cluster-admin", ["kustomize-controller", "helm-controller"]),
            binding("crd-controller", f"crd-controller-{namespace}", list(COMPONENTS))]


def _sync(sync: dict, namespace: str) -> list[dict]:
    """syncTmpl: the source and the Kustomization, named .spec.sync.name or after the namespace."""
    name, kind = sync.get("name") or namespace, sync.get("kind", "GitRepository")
    spec = {"interval": sync.get("interval", "1m")}
    spec.update({"GitRepository": {"ref": {"name": sync.get("ref", "")}}, "OCIRepository": {"ref": {"tag": sync.get("ref", "")}},
                 "Bucket": {"bucketName": sync.get("ref", "")}}[kind])
    if sync.get("pullSecret"):
        spec["secretRef"] = {"name": sync["pullSecret"]}
    if sync.get("provider"):
        spec["provider"] = sync["provider"]
    spec["endpoint" if kind == "Bucket" else "url"] = sync.get("url", "")
    meta = {"name": name, "namespace": namespace}
    return [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind, "metadata": meta, "spec": spec},
            {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": dict(meta),
             "spec": {"interval": "10m0s", "path": sync.get("path", ""), "prune": True,
                      "sourceRef": {"kind": kind, "name": name}}}]


def build(obj: dict, version: str) -> list[dict]:
    """Every object of the distribution for a FluxInstance, labelled as the builder does."""
    meta, spec = _meta(obj), obj.get("spec") or {}
    namespace = meta["namespace"]
    registry = (spec.get("distribution") or {}).get("registry") or "ghcr.io/fluxcd"
    components = [c for c in spec.get("components") or COMPONENTS if c in COMPONENTS]
    objects = [_crd(GROUPS[c], *crd) for c in components for crd in COMPONENTS[c][1]]
    objects += _roles(namespace)
    if (spec.get("cluster") or {}).get("networkPolicy", True):
        objects += [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": n, "namespace": namespace}, "spec": {"podSelector": {}}}
                    for n in NETWORK_POLICIES]
    objects += [o for c in components for o in _component(c, COMPONENTS[c][0], namespace, registry)]
    objects += _sync(spec["sync"], namespace) if spec.get("sync") else []
    labels = _labels(namespace, meta["name"], version)
    return [{**o, "metadata": {**o["metadata"], "labels": {**(o["metadata"].get("labels") or {}), **labels},
                               "annotations": dict(ANNOTATIONS)}} for o in objects]


def _ready(ctl, body: dict) -> bool:
    """kstatus Current, as WaitForSetWithContext checks it: Deployments available, CRDs established,
    Flux objects Ready; anything else at once."""
    live = ctl.get_kind(body["apiVersion"], body["kind"], body["metadata"].get("namespace", ""), body["metadata"]["name"])
    if live is None:
        return False
    kind = body["kind"]
    if kind == "Deployment":
        return condition(live, "Available") == "True" and \
            (live.get("status") or {}).get("observedGeneration") == _meta(live).get("generation")
    if kind == "CustomResourceDefinition":
        return condition(live, "Established") == "True"
    return condition(live, "Ready") == "True" if body["apiVersion"].startswith(tuple(GROUPS.values())) else True


def _entry(body: dict) -> dict:
    """An inventory entry: '<namespace>_<name>_<group>_<kind>' and the version."""
    group, _, version = body["apiVersion"].rpartition("/")
    return {"id": f"{body['metadata'].get('namespace', '')}_{body['metadata']['name']}_{group}_{body['kind']}",
            "v": version}


def _delete(ctl, entries: list[dict]) -> None:
    """Delete inventory entries, Deployments first (so no controller runs while the rest goes)."""
    for entry in sorted(entries, key=lambda e: not e["id"].endswith("_apps_Deployment")):
        namespace, name, group, kind = entry["id"].split("_", 3)
        ctl.delete_kind(f"{group}/{entry['v']}" if group else entry["v"], kind, namespace, name)


def uninstall(ctl, res, key, obj) -> None:
    """fluxinstance_uninstaller.go: delete the inventory, then drop the finalizer; without a running
    flux-operator the FluxInstance stays terminating."""
    if not ctl.deployment_available(_meta(obj)["namespace"], "flux-operator"):
        return
    _delete(ctl, (obj.get("status") or {}).get("inventory", {}).get("entries") or [])
    meta = _meta(obj)
    body = {**obj, "metadata": {**meta, "finalizers": [f for f in meta.get("finalizers") or [] if f != FINALIZER]}}
    ctl.store.replace(res, meta["namespace"], meta["name"], body, manager="flux-operator")


def fluxinstance_handler(ctl, res, key, obj) -> dict | None:
    """Reconcile a FluxInstance while flux-operator runs in its namespace (see the module doc)."""
    meta, spec = _meta(obj), obj.get("spec") or {}
    if not ctl.deployment_available(meta["namespace"], "flux-operator"):
        return None
    if FINALIZER not in (meta.get("finalizers") or []):
        ctl.store.write_object(res, key, {**obj, "metadata": {**meta, "finalizers": [*(meta.get("finalizers") or []),
                                                                                      FINALIZER]}})
    status = copy.deepcopy(obj.get("status") or {})
    conds, generation = status.get("conditions") or [], meta.get("generation", 1)
    wanted = (spec.get("distribution") or {}).get("version", "")
    version = resolve(wanted)
    if version is None:
        message = f"build failed: no match found for semver: {wanted}"
        conds = set_condition(conds, "Ready", "False", "BuildFailed", message, generation)
        return {**status, "conditions": set_condition(conds, "Stalled", "True", "BuildFailed", message, generation)}
    revision = f"{version}@{_digest(version)}"
    objects = build(obj, version)
    for body in objects:
        ctl.apply(body, "flux-operator")
    entries = [_entry(b) for b in objects]
    _delete(ctl, [e for e in (status.get("inventory") or {}).get("entries") or [] if e not in entries])  # stale
    done = spec.get("wait") is False or all(_ready(ctl, body) for body in objects)
    registry = (spec.get("distribution") or {}).get("registry") or "ghcr.io/fluxcd"
    status.update(lastAttemptedRevision=revision, inventory={"entries": entries},
                  components=[{"name": c, "repository": f"{registry}/{c}", "tag": COMPONENTS[c][0],
                               "digest": _digest(f"{registry}/{c}:{COMPONENTS[c][0]}")}
                              for c in spec.get("components") or COMPONENTS if c in COMPONENTS])
    if not done:
        conds = set_condition(conds, "Reconciling", "True", "Progressing", MESSAGE_IN_PROGRESS, generation)
        conds = set_condition(conds, "Ready", "Unknown", "Progressing", MESSAGE_IN_PROGRESS, generation)
        return {**status, "conditions": conds}
    conds = set_condition(conds, "Ready", "True", "ReconciliationSucceeded", "Reconciliation finished in 0s",
                          generation)
    status.update(conditions=[c for c in conds if c["type"] == "Ready"],  # finalizeObjectStatus drops the rest
                  lastAppliedRevision=revision)
    artifact = (spec.get("distribution") or {}).get("artifact")
    if artifact:
        status["lastArtifactRevision"] = _digest(artifact)
    return status
