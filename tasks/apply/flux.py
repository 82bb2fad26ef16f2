"""The hand-off (requirements step 5): the FluxInstance, the source and the Kustomization it owns
(its spec.sync, both named after its namespace) all report Ready."""
from __future__ import annotations

from ..facts import Facts
from ..facts.kube import KubeFacts, condition
from .api import needs_api
from .waits import deadline, wait_until


def flux_objects(facts: Facts) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the source and Kustomization the FluxInstance's sync creates, then the
    FluxInstance (whose Ready waits for them: the most telling message comes first)."""
    settings = facts.cluster.settings["flux-instance"]
    namespace = settings["namespace"]
    return [(settings["sync"]["kind"], namespace, namespace), ("Kustomization", namespace, namespace),
            ("FluxInstance", namespace, settings["name"])]


@needs_api
def flux_ready(facts: Facts, kube: KubeFacts) -> tuple[bool, str]:
    """Every Flux object of the hand-off exists and reports Ready=True; else each one that does not."""
    found = []
    for kind, namespace, name in flux_objects(facts):
        obj = kube.get(kind, name, namespace)
        ready = condition(obj, "Ready") or {}
        if obj is None:
            found.append(f"{kind} {namespace}/{name} does not exist")
        elif ready.get("status") != "True":
            found.append(f"{kind} {namespace}/{name} is not Ready: {ready.get('message') or 'no Ready condition yet'}")
    if found:
        return False, "; ".join(found)
    return True, "Flux reconciles the cluster root (FluxInstance, source and Kustomization Ready)"


def wait_flux(facts: Facts) -> str | None:
    """Wait for Flux to reconcile; fail naming the object and its condition message."""
    return wait_until("Flux to reconcile the cluster root", deadline("flux", 600), lambda: flux_ready(facts), facts,
                      interval=2.0)
