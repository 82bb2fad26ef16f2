"""The simulated controllers that make the fake cluster converge, and the condition fault knobs.

Each handler reads one object and returns its new ``status`` (creating children where the real
controller would); ``None`` leaves the status as it is (nobody reconciles the object). Who does what:

- ``workloads``: kube-controller-manager's ReplicaSet, Deployment, DaemonSet, StatefulSet and Job
  controllers (pods created and deleted, ready pods counted as helm ``--wait`` reads them).
- ``kubelet``: kube-scheduler's binding (``scheduling``), the kubelet's pod and node status (a node is
  Ready once a CNI agent pod on it is ready) and the node lifecycle controller's not-ready taints.
- ``operators``: the custom resources' controllers, which reconcile only while their Deployment is
  available (cert-manager, External Secrets, Flux, flux-operator's FluxInstance in ``flux``,
  cilium-operator's CRDs in ``cilium``); ``apps``: what some charts' programs wait for.
- ``core``: Services (LoadBalancer ingress), PVCs (bound), PodDisruptionBudgets (healthy pods),
  Namespaces (default ServiceAccount), CRDs (NamesAccepted + Established, and so served).

Handlers run after each write (the objects a change affects are reconciled too, see ``on_event``),
synchronously unless a delay is configured for the kind; a kind's controller can be switched off.
Condition overrides (``sticky``) are applied on top of whatever a handler computes, so a test can hold
e.g. a Kustomization at ``Ready=False``. Settings and sticky overrides live in the store's ``extra``
and persist with it.
"""
from __future__ import annotations

import copy
import threading

from . import core, flux, kubelet, operators, workloads
from .cluster import ClusterView
from .objects import ready, set_condition
from .store import Event, Store, _meta

# Kinds whose change can let a waiting pod be scheduled or started (scheduler filters, kubelet volume
# and network checks, apps' waits).
POD_INPUTS = {"Pod", "Node", "Secret", "ConfigMap", "Service", "CustomResourceDefinition"}


class Controllers(ClusterView):
    """Runs the handlers on store events and owns the controller/condition knobs."""

    def __init__(self, store: Store):
        """Attach to a store's event stream."""
        self.store = store
        self.timers: set[threading.Timer] = set()
        self.stopped = False
        store.extra.setdefault("controllers", {"disabled": [], "delays": {}})
        store.extra.setdefault("overrides", [])
        store.listeners.append(self.on_event)

    # ------------------------------------------------------------------ settings

    @property
    def settings(self) -> dict:
        """{"disabled": [kinds], "delays": {kind: seconds}}."""
        return self.store.extra["controllers"]

    def enabled(self, kind: str) -> bool:
        """Whether the controller for kind runs."""
        disabled = self.settings["disabled"]
        return kind not in disabled and "*" not in disabled

    def configure(self, kind: str, enabled: bool | None = None, delay: float | None = None) -> dict:
        """Switch a kind's controller on/off and/or set its delay; re-enabling reconciles its objects."""
        with self.store.txn():
            disabled = self.settings["disabled"]
            if enabled is False and kind not in disabled:
                disabled.append(kind)
            if enabled is True:
                if kind == "*":
                    disabled.clear()
                elif kind in disabled:
                    disabled.remove(kind)
            if delay is not None:
                self.settings["delays"][kind] = float(delay)
            self.store.mark_dirty()
            if enabled:
                self.reconcile_kind(None if kind == "*" else kind)
            return copy.deepcopy(self.settings)

    def reconcile_kind(self, kind: str | None) -> None:
        """Run the handler for every stored object of a kind (all kinds when None)."""
        with self.store.txn():
            for key, obj in list(self.store.objects.items()):
                if kind is None or obj.get("kind") == kind:
                    self.schedule(obj.get("kind", ""), key)

    # ------------------------------------------------------------------ condition overrides

    def overrides(self) -> list[dict]:
        """The sticky condition overrides."""
        return self.store.extra["overrides"]

    def set_override(self, spec: dict) -> dict | None:
        """Set a condition on an object now; when sticky, keep enforcing it. Returns the object."""
        res = self.store.resource_for(spec.get("apiVersion", ""), spec.get("kind", ""))
        if res is None:
            raise KeyError(f"no resource for {spec.get('apiVersion')} {spec.get('kind')}")
        entry = {"group": res.group, "kind": res.kind, "namespace": spec.get("namespace", "") if res.namespaced else "",
                 "name": spec["name"], "type": spec["type"], "status": spec.get("status", "False"),
                 "reason": spec.get("reason", "WorldOverride"), "message": spec.get("message", "")}
        with self.store.txn():
            if spec.get("sticky", True):
                self.clear_overrides({**entry, "type": entry["type"]}, save=False)
                self.overrides().append(entry)
                self.store.mark_dirty()
            key = (res.group, res.plural, entry["namespace"], entry["name"])
            obj = self.store.objects.get(key)
            if obj is not None:
                status = self._apply_overrides(obj, copy.deepcopy(obj.get("status") or {}), [entry])
                self.store.write_status(res, key, status)
                return self.store.view(res, self.store.objects[key])
            return None

    def clear_overrides(self, match: dict | None = None, save: bool = True) -> int:
        """Remove sticky overrides matching the given fields (all when match is empty); returns how many."""
        fields = ("group", "kind", "namespace", "name", "type")
        match = {k: v for k, v in (match or {}).items() if k in fields and v not in (None, "")}
        keep = [o for o in self.overrides() if not all(o.get(k) == v for k, v in match.items())]
        removed = len(self.overrides()) - len(keep)
        self.overrides()[:] = keep
        if save and removed:
            self.store.mark_dirty()
        return removed

    def _apply_overrides(self, obj: dict, status: dict, entries: list[dict] | None = None) -> dict:
        """Status with the matching overrides' conditions set."""
        meta = _meta(obj)
        entries = self.overrides() if entries is None else entries
        generation = meta.get("generation")
        for o in entries:
            if (o["kind"], o["name"], o["namespace"]) == (obj.get("kind"), meta.get("name"), meta.get("namespace", "")) \
                    and obj.get("apiVersion", "").startswith(o["group"] + "/" if o["group"] else ""):
                status["conditions"] = set_condition(status.get("conditions") or [], o["type"], o["status"],
                                                     o["reason"], o["message"], generation)
        return status

    # ------------------------------------------------------------------ event dispatch

    def on_event(self, event: Event) -> None:
        """React to a store change: reconcile the object, its owner, and the objects it affects."""
        kind, meta, old = event.obj.get("kind", ""), _meta(event.obj), event.old or {}
        if kind == "Node" and event.type == "DELETED":
            self._collect_orphans(meta["name"])
        if kind == "Node" and (event.type != "MODIFIED" or _node_facts(event.obj) != _node_facts(old)):
            self.reconcile_kind("DaemonSet")
        if kind == "Pod" and kubelet.is_cni(event.obj) and ready(event.obj) != ready(old):
            self.schedule("Node", ("", "nodes", "", (event.obj.get("spec") or {}).get("nodeName")))
        if kind == "Deployment":
            operators.on_deployment(self, {} if event.type == "DELETED" else event.obj,
                                    event.obj if event.type == "DELETED" else old)
        if kind == "Secret" or event.group == "source.toolkit.fluxcd.io":
            self.reconcile_group("source.toolkit.fluxcd.io")
            self.reconcile_group("kustomize.toolkit.fluxcd.io")
        owner = (meta.get("labels") or {}).get("fluxcd.controlplane.io/name")
        if owner:
            self.schedule("FluxInstance", ("fluxcd.controlplane.io", "fluxinstances",
                                           (meta.get("labels") or {}).get("fluxcd.controlplane.io/namespace"), owner))
        if kind == "Pod":
            for pdb in self.list("policy", "v1", "poddisruptionbudgets", meta.get("namespace", "")):
                self.schedule("PodDisruptionBudget", ("policy", "poddisruptionbudgets", meta["namespace"],
                                                      _meta(pdb)["name"]))
        if kind in POD_INPUTS:
            for pod in [p for p in self.pods() if not kubelet.settled(p)]:
                self.schedule("Pod", ("", "pods", _meta(pod)["namespace"], _meta(pod)["name"]))
        self._reconcile_owner(event.obj)
        if event.type != "DELETED":
            self.schedule(kind, (event.group, event.plural, meta.get("namespace", ""), meta["name"]))

    def _collect_orphans(self, node: str) -> None:
        """PodGC (pkg/controller/podgc/gc_controller.go gcOrphaned): pods bound to a deleted node go."""
        pods = self.resource("", "v1", "pods")
        for pod in [p for p in self.pods() if (p.get("spec") or {}).get("nodeName") == node]:
            self.store.remove(pods, ("", "pods", _meta(pod)["namespace"], _meta(pod)["name"]))

    def _reconcile_owner(self, obj: dict) -> None:
        """A child changed: let its controlling owner recompute (and recreate what was deleted)."""
        ns = _meta(obj).get("namespace", "")
        for ref in _meta(obj).get("ownerReferences") or []:
            if not ref.get("controller"):
                continue
            res = self.store.registry.for_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
            if res is None:
                continue
            key = (res.group, res.plural, ns if res.namespaced else "", ref.get("name"))
            owner = self.store.objects.get(key)
            if owner is not None and _meta(owner).get("uid") == ref.get("uid"):
                self.schedule(owner.get("kind", ""), key)

    def reconcile_group(self, group: str) -> None:
        """Reconcile every stored object of an API group."""
        for key, obj in list(self.store.objects.items()):
            if key[0] == group:
                self.schedule(obj.get("kind", ""), key)

    def schedule(self, kind: str, key: tuple) -> None:
        """Run the reconcile for key now, or after the kind's configured delay."""
        delay = float(self.settings["delays"].get(kind, 0) or 0)
        if delay <= 0:
            self.reconcile(key)
            return
        timer = threading.Timer(delay, self._later, (key,))
        timer.daemon = True
        self.timers.add(timer)
        timer.start()

    def _later(self, key: tuple) -> None:
        """Timer callback: reconcile unless stopped."""
        if not self.stopped:
            self.reconcile(key)

    def stop(self) -> None:
        """Cancel pending delayed reconciles."""
        self.stopped = True
        for timer in list(self.timers):
            timer.cancel()

    def reconcile(self, key: tuple) -> None:
        """Compute and write the status of one object (handler, then overrides); a terminating object
        goes to its kind's finalizer, if any."""
        with self.store.txn():
            obj = self.store.objects.get(key)
            if obj is None:
                return
            res = self.store._res_of(key)
            kind = obj.get("kind", "")
            if not self.enabled(kind):
                return
            if _meta(obj).get("deletionTimestamp"):
                finalizer = FINALIZERS.get((res.group, kind))
                if finalizer:
                    finalizer(self, res, key, copy.deepcopy(obj))
                return
            status = copy.deepcopy(obj.get("status") or {})
            handler = HANDLERS.get((res.group, kind)) or (operators.ready_handler if operators.handles(res.group, kind)
                                                          else None)
            if handler:
                computed = handler(self, res, key, copy.deepcopy(obj))
                status = status if computed is None else computed
            obj = self.store.objects.get(key) or obj
            status = self._apply_overrides(obj, status)
            if status != (obj.get("status") or {}) or ("status" not in obj and status):
                self.store.write_status(res, key, status)


def _node_facts(node: dict) -> tuple:
    """What a DaemonSet's placement reads from a node: labels, taints, unschedulable."""
    spec = node.get("spec") or {}
    return (_meta(node).get("labels"), kubelet.untimed(spec.get("taints")), spec.get("unschedulable"))


HANDLERS = {
    ("", "Node"): kubelet.node_handler,
    ("", "Namespace"): core.namespace_handler,
    ("", "Pod"): kubelet.pod_handler,
    ("", "Service"): core.service_handler,
    ("", "PersistentVolumeClaim"): core.pvc_handler,
    ("policy", "PodDisruptionBudget"): core.pdb_handler,
    ("apps", "Deployment"): workloads.deployment_handler,
    ("apps", "ReplicaSet"): workloads.replicaset_handler,
    ("apps", "DaemonSet"): workloads.daemonset_handler,
    ("apps", "StatefulSet"): workloads.statefulset_handler,
    ("batch", "Job"): workloads.job_handler,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): core.crd_handler,
    ("fluxcd.controlplane.io", "FluxInstance"): flux.fluxinstance_handler,
}
# Kinds whose controller finalizes a terminating object (it removes its own finalizer).
FINALIZERS = {("fluxcd.controlplane.io", "FluxInstance"): flux.uninstall}
