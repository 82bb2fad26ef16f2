"""What the real API server does to an object on write, before storage: defaults and validation.

Only what clients observe and rely on: Secret ``stringData`` folded into ``data``; Namespace finalizer and
phase; Service cluster IP allocation from the service CIDR (helm's ``--wait`` needs a ClusterIP), a
requested one refused outside the range or when taken (pkg/registry/core/service/ipallocator: ErrNotInRange,
ErrAllocated); Deployment and friends' default replicas; name validation with the messages of
k8s.io/apimachinery/pkg/util/validation/validation.go.
"""
from __future__ import annotations

import base64
import ipaddress
import re

from .errors import invalid

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = rf"{DNS1123_LABEL}(\.{DNS1123_LABEL})*"
# validation.go: dns1123LabelErrMsg / dns1123SubdomainErrorMsg (note the double space, as upstream).
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             f"validation is '{DNS1123_LABEL}')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{DNS1123_SUBDOMAIN}')")
# Kinds whose names must be DNS-1123 labels rather than subdomains (ValidateNamespaceName, ValidateServiceName...).
LABEL_NAMED = {("", "namespaces"), ("", "services")}
# Kinds with relaxed (path segment) names: RBAC objects allow ':' etc.
PATH_SEGMENT_NAMED = {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"  # kube-apiserver's --service-cluster-ip-range default


def validate_name(res, obj: dict) -> None:
    """Reject a missing or malformed metadata.name with the real Invalid error."""
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    if not name:
        raise invalid(res.group, res.kind, "", [("FieldValueRequired", "metadata.name",
                                                 "Required value: name or generateName is required")])
    if res.plural in PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            raise invalid(res.group, res.kind, name, [("FieldValueInvalid", "metadata.name",
                                                       f'Invalid value: "{name}": may not contain \'/\'')])
        return
    label = (res.group, res.plural) in LABEL_NAMED
    pattern, msg, limit = (DNS1123_LABEL, LABEL_MSG, 63) if label else (DNS1123_SUBDOMAIN, SUBDOMAIN_MSG, 253)
    if len(name) > limit:
        raise invalid(res.group, res.kind, name, [("FieldValueInvalid", "metadata.name",
                                                   f'Invalid value: "{name}": must be no more than {limit} characters')])
    if not re.fullmatch(pattern, name):
        raise invalid(res.group, res.kind, name, [("FieldValueInvalid", "metadata.name",
                                                   f'Invalid value: "{name}": {msg}')])


def _secret(obj: dict) -> None:
    """Fold stringData into data (base64) and default the type."""
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {}) or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data
    if not obj.get("type"):
        obj["type"] = "Opaque"


def _namespace(obj: dict) -> None:
    """Kubernetes finalizer and Active phase."""
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    status = obj.setdefault("status", {})
    if not (obj.get("metadata") or {}).get("deletionTimestamp"):
        status["phase"] = "Active"
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    labels.setdefault("kubernetes.io/metadata.name", obj["metadata"].get("name", ""))


def kubernetes_service_ip(cidr: str) -> str:
    """The first address of the service CIDR, which the kubernetes Service takes."""
    return str(ipaddress.ip_network(cidr).network_address + 1)


def allocate_cluster_ip(used: set[str], seed: str, cidr: str) -> str:
    """A free address from the service CIDR, deterministic for a given seed."""
    network = ipaddress.ip_network(cidr)
    hosts = network.num_addresses - 2
    start = (sum(seed.encode()) * 7919) % hosts
    for i in range(hosts):
        ip = str(network.network_address + 1 + (start + i) % hosts)
        if ip not in used and ip != kubernetes_service_ip(cidr):
            return ip
    raise RuntimeError("service CIDR exhausted")


def _check_cluster_ip(obj: dict, ip: str, used: set[str], cidr: str) -> None:
    """A requested cluster IP must lie in the service CIDR and be free (422 otherwise)."""
    try:
        inside = ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
    except ValueError:
        inside = False
    why = (f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {cidr}" if not inside
           else "provided IP is already allocated" if ip in used else None)
    if why:
        raise invalid("", "Service", (obj.get("metadata") or {}).get("name", ""), [(
            "FieldValueInvalid", "spec.clusterIPs",
            f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: {why}')])


def _service(obj: dict, used_ips: set[str], cidr: str) -> None:
    """Type, ports and cluster IP defaults."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if spec["type"] == "ExternalName":
        return
    if not spec.get("clusterIP"):
        meta = obj.get("metadata") or {}
        spec["clusterIP"] = allocate_cluster_ip(used_ips, f"{meta.get('namespace')}/{meta.get('name')}", cidr)
    elif spec["clusterIP"] != "None":
        _check_cluster_ip(obj, spec["clusterIP"], used_ips, cidr)
    if spec["clusterIP"] != "None":
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _workload(obj: dict) -> None:
    """Defaults of apps/v1 workloads (k8s.io/kubernetes pkg/apis/apps/v1/defaults.go): replicas, history
    and update strategies (kubectl rollout status refuses anything but RollingUpdate)."""
    spec = obj.setdefault("spec", {})
    kind = obj.get("kind")
    if kind != "DaemonSet":
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if kind == "Deployment":
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", "25%")
            strategy["rollingUpdate"].setdefault("maxSurge", "25%")
        spec.setdefault("progressDeadlineSeconds", 600)
    elif kind == "DaemonSet":
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", 1)
            strategy["rollingUpdate"].setdefault("maxSurge", 0)
    elif kind == "StatefulSet":
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("podManagementPolicy", "OrderedReady")


def apply_defaults(res, obj: dict, used_ips: set[str] | None = None, cidr: str = DEFAULT_SERVICE_CIDR) -> None:
    """Apply the server-side defaults of a kind to an object about to be stored (in place)."""
    if res.group == "" and res.plural == "secrets":
        _secret(obj)
    elif res.group == "" and res.plural == "namespaces":
        _namespace(obj)
    elif res.group == "" and res.plural == "services":
        _service(obj, used_ips or set(), cidr)
    elif res.group == "apps" and res.plural in ("deployments", "statefulsets", "replicasets", "daemonsets"):
        _workload(obj)
