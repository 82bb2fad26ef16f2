"""The hand-off: Flux reconciles the cluster root (requirements step 5)."""
from __future__ import annotations

from ..facts import Facts
from ..facts.kube import KubeFacts, condition
from .api import needs_api
from .waits import deadline, wait_until

FLUX_OBJECTS = (("GitRepository", "flux-system"), ("Kustomization", "cluster"), ("FluxInstance", "flux"))


@needs_api
def flux_ready(facts: Facts, kube: KubeFacts) -> tuple[bool, str]:
    """The Git source, the cluster Kustomization and the FluxInstance report Ready=True."""
    namespace = facts.cluster.settings["flux-instance"]["namespace"]
    for kind, name in FLUX_OBJECTS:
        if kube.get(kind, name, namespace) is None:
            return False, f"{kind} {namespace}/{name} does not exist"
        ready = condition(kube.get(kind, name, namespace), "Ready")
        if (ready or {}).get("status") != "True":
            message = (ready or {}).get("message") or "no Ready condition yet"
            return False, f"{kind} {namespace}/{name} is not Ready: {message}"
    return True, "Flux reconciles the cluster root"


def wait_flux(facts: Facts) -> str | None:
    """Wait for Flux to reconcile; fail naming the object and its condition message."""
    return wait_until("Flux to reconcile the cluster root", deadline("flux", 600), lambda: flux_ready(facts), facts,
                      interval=2.0)
