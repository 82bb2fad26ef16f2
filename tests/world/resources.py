"""The resource types the fake API server serves: built-in kinds as a table, plus CRD-defined ones.

Also renders the discovery documents (legacy, non-aggregated format: ``/api``, ``/api/v1``, ``/apis``,
``/apis/<g>/<v>``) and a minimal OpenAPI v3 (``/openapi/v3`` and per group-version documents). The
OpenAPI documents carry only what kubectl and helm read from them: for each kind a PATCH operation
with ``x-kubernetes-group-version-kind`` and the ``fieldValidation`` query parameter, which tells
kubectl's validator (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go) that the server
validates, so no client-side schema is needed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    """One served resource type (a group/version/plural)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    singular: str = ""
    categories: tuple[str, ...] = ()
    list_kind: str = ""
    printer_columns: tuple = field(default=(), compare=False)
    selectable_fields: tuple[str, ...] = ()
    custom: bool = False  # defined by a CustomResourceDefinition

    @property
    def api_version(self) -> str:
        """apiVersion string: 'v1' for core, 'group/version' otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """Qualified resource as real error messages print it: 'deployments.apps', 'namespaces'."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular_name(self) -> str:
        """Singular name, defaulting to the lower-cased kind."""
        return self.singular or self.kind.lower()

    @property
    def list_kind_name(self) -> str:
        """Kind of the LIST response."""
        return self.list_kind or f"{self.kind}List"


def _rows(api_version: str, rows: list[tuple]) -> list[Resource]:
    """Expand compact table rows (kind, plural, namespaced, short names, subresources) into Resources."""
    group, _, version = api_version.rpartition("/")
    return [Resource(group, version, kind, plural, namespaced, tuple(short), tuple(sub),
                     categories=("all",) if (group, plural) in CATEGORY_ALL else ())
            for kind, plural, namespaced, short, sub in rows]


# Members of the "all" category (kubectl get all), as the real server lists them.
CATEGORY_ALL = {("", "pods"), ("", "services"), ("", "replicationcontrollers"), ("apps", "deployments"),
                ("apps", "daemonsets"), ("apps", "statefulsets"), ("apps", "replicasets"), ("batch", "jobs"),
                ("batch", "cronjobs"), ("autoscaling", "horizontalpodautoscalers")}


NS, CLUSTER = True, False
BUILTIN: list[Resource] = [
    *_rows("v1", [
        ("Namespace", "namespaces", CLUSTER, ["ns"], ["status", "finalize"]),
        ("Node", "nodes", CLUSTER, ["no"], ["status"]),
        ("PersistentVolume", "persistentvolumes", CLUSTER, ["pv"], ["status"]),
        ("Secret", "secrets", NS, [], []),
        ("ConfigMap", "configmaps", NS, ["cm"], []),
        ("Service", "services", NS, ["svc"], ["status"]),
        ("ServiceAccount", "serviceaccounts", NS, ["sa"], []),
        ("Pod", "pods", NS, ["po"], ["status"]),
        ("Event", "events", NS, ["ev"], []),
        ("Endpoints", "endpoints", NS, ["ep"], []),
        ("PersistentVolumeClaim", "persistentvolumeclaims", NS, ["pvc"], ["status"]),
        ("LimitRange", "limitranges", NS, ["limits"], []),
        ("ResourceQuota", "resourcequotas", NS, ["quota"], ["status"]),
    ]),
    *_rows("apps/v1", [
        ("Deployment", "deployments", NS, ["deploy"], ["status", "scale"]),
        ("DaemonSet", "daemonsets", NS, ["ds"], ["status"]),
        ("StatefulSet", "statefulsets", NS, ["sts"], ["status", "scale"]),
        ("ReplicaSet", "replicasets", NS, ["rs"], ["status", "scale"]),
        ("ControllerRevision", "controllerrevisions", NS, [], []),
    ]),
    *_rows("batch/v1", [
        ("Job", "jobs", NS, [], ["status"]),
        ("CronJob", "cronjobs", NS, ["cj"], ["status"]),
    ]),
    *_rows("rbac.authorization.k8s.io/v1", [
        ("Role", "roles", NS, [], []),
        ("RoleBinding", "rolebindings", NS, [], []),
        ("ClusterRole", "clusterroles", CLUSTER, [], []),
        ("ClusterRoleBinding", "clusterrolebindings", CLUSTER, [], []),
    ]),
    *_rows("apiextensions.k8s.io/v1", [
        ("CustomResourceDefinition", "customresourcedefinitions", CLUSTER, ["crd", "crds"], ["status"]),
    ]),
    *_rows("admissionregistration.k8s.io/v1", [
        ("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", CLUSTER, [], []),
        ("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", CLUSTER, [], []),
        ("ValidatingAdmissionPolicy", "validatingadmissionpolicies", CLUSTER, [], ["status"]),
        ("ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", CLUSTER, [], []),
    ]),
    *_rows("apiregistration.k8s.io/v1", [("APIService", "apiservices", CLUSTER, [], ["status"])]),
    *_rows("coordination.k8s.io/v1", [("Lease", "leases", NS, [], [])]),
    *_rows("discovery.k8s.io/v1", [("EndpointSlice", "endpointslices", NS, [], [])]),
    *_rows("networking.k8s.io/v1", [
        ("Ingress", "ingresses", NS, ["ing"], ["status"]),
        ("IngressClass", "ingressclasses", CLUSTER, [], []),
        ("NetworkPolicy", "networkpolicies", NS, ["netpol"], []),
    ]),
    *_rows("policy/v1", [("PodDisruptionBudget", "poddisruptionbudgets", NS, ["pdb"], ["status"])]),
    *_rows("scheduling.k8s.io/v1", [("PriorityClass", "priorityclasses", CLUSTER, ["pc"], [])]),
    *_rows("storage.k8s.io/v1", [
        ("StorageClass", "storageclasses", CLUSTER, ["sc"], []),
        ("CSIDriver", "csidrivers", CLUSTER, [], []),
        ("CSINode", "csinodes", CLUSTER, [], []),
        ("VolumeAttachment", "volumeattachments", CLUSTER, [], ["status"]),
    ]),
    *_rows("autoscaling/v2", [("HorizontalPodAutoscaler", "horizontalpodautoscalers", NS, ["hpa"], ["status"])]),
    *_rows("certificates.k8s.io/v1", [
        ("CertificateSigningRequest", "certificatesigningrequests", CLUSTER, ["csr"], ["status", "approval"]),
    ]),
]

# Field selectors the real API server accepts beyond metadata.name/metadata.namespace
# (registry strategies' GetAttrs/ToSelectableFields in k8s.io/kubernetes/pkg/registry/...).
EXTRA_FIELD_LABELS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "secrets"): ("type",),
    ("", "namespaces"): ("status.phase",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "pods"): ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                   "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    ("", "events"): ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                     "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    ("", "replicationcontrollers"): ("status.replicas",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("spec.signerName",),
}
# Groups and versions listed in /apis in this order, preferred version first.
PREFERRED_ORDER = ["apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
                   "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io",
                   "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
                   "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io"]


def crd_resources(crd: dict) -> list[Resource]:
    """The served resources a CustomResourceDefinition defines (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kind = names.get("kind", "")
    out = []
    for ver in spec.get("versions") or []:
        if not ver.get("served", True):
            continue
        subs = tuple(s for s in ("status", "scale") if s in (ver.get("subresources") or {}))
        out.append(Resource(
            group=spec.get("group", ""), version=ver.get("name", ""), kind=kind,
            plural=names.get("plural", ""), namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()), subresources=subs,
            singular=names.get("singular", ""), categories=tuple(names.get("categories") or ()),
            list_kind=names.get("listKind", ""),
            printer_columns=tuple(json.dumps(c, sort_keys=True) for c in ver.get("additionalPrinterColumns") or ()),
            selectable_fields=tuple(f.get("jsonPath", "").lstrip(".") for f in ver.get("selectableFields") or ()),
            custom=True,
        ))
    return out


class Registry:
    """Lookup of served resources by group/version/plural and by apiVersion/kind."""

    def __init__(self, resources: list[Resource]):
        """Index the given resources."""
        self.resources = list(resources)
        self.by_path = {(r.group, r.version, r.plural): r for r in self.resources}
        self.by_gvk = {(r.group, r.version, r.kind): r for r in self.resources}
        self.by_gk: dict[tuple[str, str], Resource] = {}
        for r in self.resources:
            self.by_gk.setdefault((r.group, r.kind), r)

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        """The resource served at /apis/group/version/plural (or /api/v1/plural)."""
        return self.by_path.get((group, version, plural))

    def for_kind(self, api_version: str, kind: str) -> Resource | None:
        """The resource for an object's apiVersion and kind (any served version of the group as fallback)."""
        group, _, version = api_version.rpartition("/")
        return self.by_gvk.get((group, version, kind)) or self.by_gk.get((group, kind))

    def group_versions(self) -> dict[str, list[str]]:
        """{group: [versions, preferred first]} for every non-core group."""
        out: dict[str, list[str]] = {}
        for r in self.resources:
            if r.group and r.version not in out.setdefault(r.group, []):
                out[r.group].append(r.version)
        for versions in out.values():
            versions.sort(key=version_priority)
        order = {g: i for i, g in enumerate(PREFERRED_ORDER)}
        return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    def in_group_version(self, group: str, version: str) -> list[Resource]:
        """Resources served under one group/version."""
        return [r for r in self.resources if r.group == group and r.version == version]

    def field_labels(self, res: Resource) -> tuple[str, ...]:
        """Field selector labels accepted for a resource."""
        return ("metadata.name", "metadata.namespace", *EXTRA_FIELD_LABELS.get((res.group, res.plural), ()),
                *res.selectable_fields)


def version_priority(version: str) -> tuple:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first (apimachinery version.go)."""
    import re
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, version)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -major, -minor)


# ---------------------------------------------------------------------------------------------
# Discovery documents (legacy format; aggregated discovery is declined by answering plain JSON).

def api_versions() -> dict:
    """/api: the core APIVersions document."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}


def api_group_list(reg: Registry) -> dict:
    """/apis: the APIGroupList document."""
    groups = []
    for group, versions in reg.group_versions().items():
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(reg: Registry, group: str) -> dict | None:
    """/apis/<group>: one APIGroup document, or None when the group is not served."""
    versions = reg.group_versions().get(group)
    if not versions:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def _resource_entries(res: Resource) -> list[dict]:
    """APIResource entries for a resource and its subresources."""
    main = {"name": res.plural, "singularName": res.singular_name, "namespaced": res.namespaced,
            "kind": res.kind, "verbs": VERBS,
            "storageVersionHash": hashlib.sha256(f"{res.group}/{res.kind}".encode()).hexdigest()[:12]}
    if res.short_names:
        main["shortNames"] = list(res.short_names)
    if res.categories:
        main["categories"] = list(res.categories)
    out = [main]
    for sub in res.subresources:
        kind = "Scale" if sub == "scale" else res.kind
        entry = {"name": f"{res.plural}/{sub}", "singularName": "", "namespaced": res.namespaced,
                 "kind": kind, "verbs": ["get", "patch", "update"]}
        if sub == "scale":
            entry.update(group="autoscaling", version="v1")
        out.append(entry)
    return out


def api_resource_list(reg: Registry, group: str, version: str) -> dict | None:
    """/api/v1 or /apis/<g>/<v>: the APIResourceList, or None when not served."""
    resources = reg.in_group_version(group, version)
    if not resources:
        return None
    gv = f"{group}/{version}" if group else version
    entries = [e for r in resources for e in _resource_entries(r)]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}


# ---------------------------------------------------------------------------------------------
# OpenAPI v3: just enough for kubectl's and helm's field-validation check.

def _gv_key(group: str, version: str) -> str:
    """The /openapi/v3 path key of a group/version ('api/v1', 'apis/apps/v1')."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_gv_doc(reg: Registry, group: str, version: str) -> dict | None:
    """A minimal OpenAPI v3 document for one group/version: PATCH operations with fieldValidation."""
    resources = reg.in_group_version(group, version)
    if not resources:
        return None
    paths = {}
    for r in resources:
        prefix = f"/{_gv_key(group, version)}" + ("/namespaces/{namespace}" if r.namespaced else "")
        gvk = {"group": group, "version": version, "kind": r.kind}
        params = [{"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
                  for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
        op = {"operationId": f"patch{r.kind}", "parameters": params, "x-kubernetes-action": "patch",
              "x-kubernetes-group-version-kind": gvk, "responses": {"200": {"description": "OK"}}}
        paths[f"{prefix}/{r.plural}/{{name}}"] = {"patch": op}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.3"}, "paths": paths,
            "components": {"schemas": {}}}


def openapi_root(reg: Registry) -> dict:
    """/openapi/v3: one entry per served group/version, each with a content hash in its URL."""
    keys = {("", "v1")} | {(r.group, r.version) for r in reg.resources}
    paths = {}
    for group, version in sorted(keys):
        key = _gv_key(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={openapi_hash(openapi_gv_doc(reg, group, version))}"}
    return {"paths": paths}


def openapi_hash(doc: dict | None) -> str:
    """Content hash of an OpenAPI document, as the real server puts in serverRelativeURL."""
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
