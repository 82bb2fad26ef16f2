"""What the programs in the real charts' pods wait for. The world runs no containers, so a started
container is ready (or, run to completion, exits 0) at once, except for these programs, recognised by
image and arguments, which wait for something the cluster must provide first:

- the cilium agent waits for cilium-operator's CRDs (``cilium.agent_waits``);
- cert-manager's startupapicheck (``cmctl check api``, cert-manager cmd/startupapicheck/pkg/check/api)
  succeeds only once the cert-manager CRDs are served and the webhook answers (its Service has a
  ready endpoint), with its error texts;
- spegel's ``cleanup-wait`` (spegel-org/spegel internal/cleanup/cleanup.go) exits once every endpoint
  of its ``--probe-endpoint`` Service reports ready.
"""
from __future__ import annotations

from . import cilium
from .objects import condition
from .store import _meta


def service_ready(ctl, namespace: str, name: str) -> bool:
    """Whether the Service exists and every pod it selects (at least one) is ready."""
    selected, ready_pods = ctl.endpoints(namespace, name)
    return bool(selected) and len(selected) == len(ready_pods)


def _startupapicheck(ctl, pod: dict, container: dict) -> str | None:
    """cert-manager's startupapicheck: waits for the CRDs, then for its release's webhook Service."""
    if "/cert-manager-startupapicheck:" not in container.get("image", ""):
        return None
    if condition(ctl.get("apiextensions.k8s.io", "v1", "customresourcedefinitions", "",
                         "certificates.cert-manager.io") or {}, "Established") != "True":
        return "Not ready: the cert-manager CRDs are not yet installed on the Kubernetes API server"
    instance = (_meta(pod).get("labels") or {}).get("app.kubernetes.io/instance")
    services = [s for s in ctl.list("", "v1", "services", _meta(pod)["namespace"])
                if (_meta(s).get("labels") or {}).get("app.kubernetes.io/component") == "webhook"
                and (_meta(s).get("labels") or {}).get("app.kubernetes.io/instance") == instance]
    if not services:
        return "Not ready: the cert-manager webhook service is not created yet"
    return None if service_ready(ctl, _meta(pod)["namespace"], _meta(services[0])["name"]) else \
        "Not ready: the cert-manager webhook deployment is not ready yet"


def _cleanup_wait(ctl, pod: dict, container: dict) -> str | None:
    """spegel cleanup-wait: waits until the --probe-endpoint Service's endpoints are all ready."""
    args = container.get("args") or []
    if "/spegel:" not in container.get("image", "") or args[:1] != ["cleanup-wait"]:
        return None
    endpoint = next((a.split("=", 1)[1] for a in args if a.startswith("--probe-endpoint=")), "")
    name, _, rest = endpoint.partition(".")
    namespace = rest.partition(".")[0] or _meta(pod)["namespace"]
    return None if service_ready(ctl, namespace, name) else f"waiting for {endpoint} to report ready"


RULES = (lambda ctl, pod, c: cilium.agent_waits(ctl, c), _startupapicheck, _cleanup_wait)


def waiting(ctl, pod: dict) -> str | None:
    """What the pod's programs still wait for (the first one found), or None."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        for rule in RULES:
            why = rule(ctl, pod, container)
            if why:
                return why
    return None
