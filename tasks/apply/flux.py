"""The hand-off (requirements step 5): the FluxInstance, the source and the Kustomization it owns
(its spec.sync, both named after its namespace) all report Ready."""
from __future__ import annotations

from ..facts import Facts
from ..facts.kube import KubeFacts, condition
from .api import needs_api
from .waits import deadline, wait_until


def flux_objects(facts: Facts) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the FluxInstance and of the source and Kustomization its sync creates."""
    settings = facts.cluster.settings["flux-instance"]
    namespace = settings["namespace"]
    return [("FluxInstance", namespace, settings["name"]), (settings["sync"]["kind"], namespace, namespace),
            ("Kustomization", namespace, namespace)]


@needs_api
def flux_ready(facts: Facts, kube: KubeFacts) -> tuple[bool, str]:
    """Every Flux object of the hand-off exists and reports Ready=True."""
    for kind, namespace, name in flux_objects(facts):
        obj = kube.get(kind, name, namespace)
        if obj is None:
            return False, f"{kind} {namespace}/{name} does not exist"
        ready = condition(obj, "Ready") or {}
        if ready.get("status") != "True":
            return False, f"{kind} {namespace}/{name} is not Ready: {ready.get('message') or 'no Ready condition yet'}"
    return True, "Flux reconciles the cluster root (FluxInstance, source and Kustomization Ready)"


def wait_flux(facts: Facts) -> str | None:
    """Wait for Flux to reconcile; fail naming the object and its condition message."""
    return wait_until("Flux to reconcile the cluster root", deadline("flux", 600), lambda: flux_ready(facts), facts,
                      interval=2.0)
