"""Controllers of built-in kinds that need little: the serviceaccounts controller (a Namespace's default
ServiceAccount), a LoadBalancer provider (ingress from TEST-NET-1, never contacted), PVC binding, the
disruption controller (PodDisruptionBudget status) and apiextensions-apiserver's naming controller
(CRDs NamesAccepted + Established, and so served)."""
from __future__ import annotations

import copy
import hashlib
import math

from .objects import ready, set_condition
from .scheduling import label_selector_matches
from .store import _meta


def namespace_handler(ctl, res, key, obj) -> dict:
    """Namespaces get their default ServiceAccount (serviceaccounts controller)."""
    name = _meta(obj)["name"]
    sa = ctl.resource("", "v1", "serviceaccounts")
    if ctl.store.find(sa, name, "default") is None:
        ctl.store.create(sa, name, {"metadata": {"name": "default"}}, manager="kube-controller-manager")
    status = obj.get("status") or {}
    status["phase"] = "Active"
    return status


def service_handler(ctl, res, key, obj) -> dict:
    """LoadBalancer Services get an ingress address (TEST-NET-1, never contacted)."""
    spec = obj.get("spec") or {}
    status = copy.deepcopy(obj.get("status") or {"loadBalancer": {}})
    if spec.get("type") == "LoadBalancer" and not (status.get("loadBalancer") or {}).get("ingress"):
        seed = int(hashlib.sha256(_meta(obj)["name"].encode()).hexdigest(), 16)
        ip = spec.get("loadBalancerIP") or f"192.0.2.{seed % 250 + 2}"
        status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"}]}
    return status


def pvc_handler(ctl, res, key, obj) -> dict:
    """PersistentVolumeClaims are Bound with the requested capacity."""
    spec = obj.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {"phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "capacity": {"storage": storage}}


def crd_handler(ctl, res, key, obj) -> dict:
    """CRDs accept their names and become Established (which makes them served)."""
    spec = obj.get("spec") or {}
    names = copy.deepcopy(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    status = copy.deepcopy(obj.get("status") or {})
    conds = set_condition(status.get("conditions") or [], "NamesAccepted", "True", "NoConflicts", "no conflicts found")
    conds = set_condition(conds, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted")
    storage = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
    stored = list(dict.fromkeys([*(status.get("storedVersions") or []), *storage]))
    status.update(acceptedNames=names, conditions=conds, storedVersions=stored)
    return status


def _count(value, total: int) -> int:
    """An IntOrString of a PDB: a number, or a percentage of total rounded up (intstr.GetScaledValueFromIntOrPercent)."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(total * int(value[:-1]) / 100)
    return int(value)


def pdb_handler(ctl, res, key, obj) -> dict:
    """pkg/controller/disruption/disruption.go: healthy pods against minAvailable/maxUnavailable."""
    spec, meta = obj.get("spec") or {}, _meta(obj)
    pods = [p for p in ctl.list("", "v1", "pods", meta["namespace"])
            if label_selector_matches(spec.get("selector") or {}, _meta(p).get("labels") or {})]
    expected, healthy = len(pods), sum(1 for p in pods if ready(p))
    desired = (_count(spec["minAvailable"], expected) if "minAvailable" in spec
               else max(0, expected - _count(spec.get("maxUnavailable", 0), expected)))
    allowed = max(0, healthy - desired)
    status = copy.deepcopy(obj.get("status") or {})
    conds = set_condition(status.get("conditions") or [], "DisruptionAllowed", "True" if allowed else "False",
                          "SufficientPods" if allowed else "InsufficientPods", "", meta.get("generation", 1))
    status.update(currentHealthy=healthy, desiredHealthy=desired, disruptionsAllowed=allowed, expectedPods=expected,
                  observedGeneration=meta.get("generation", 1), conditions=conds)
    return status
