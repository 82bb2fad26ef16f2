"""The simulated controllers that make the fake cluster converge, and the condition fault knobs.

Each handler reads one object and returns its new ``status`` (creating children where the real
controller would). The model, in the order a bootstrap meets it:

- Nodes are NotReady (the kubelet's "cni plugin not initialized") until a CNI DaemonSet exists
  (``CNI_DAEMONSETS``: cilium, calico-node, ...), then Ready.
- Pods are scheduled and Running/Ready when the cluster has no Nodes at all (simple tests), when a
  Node is Ready, or when the pod tolerates the ``node.kubernetes.io/not-ready`` taint or belongs to a
  DaemonSet (node agents: CNI, kube-vip, spegel); otherwise Pending/Unschedulable, like coredns or
  cert-manager before the CNI runs.
- A FluxInstance installs Flux (CRDs, component Deployments) and its ``.spec.sync`` objects
  (``flux.py``).
- Deployments get a ReplicaSet per template (helm ``--wait`` looks for it), ReplicaSets, DaemonSets
  (one pod per matching node) and StatefulSets get pods, and their status counts the pods that are
  ready, so ``helm --wait``/``kubectl rollout status`` pass exactly when the pods would run.
- Jobs complete; LoadBalancer Services get an ingress address; PVCs bind; Namespaces get their
  default ServiceAccount; CRDs become NamesAccepted + Established (and so served); Flux (and
  cert-manager, external-secrets) objects report ``Ready=True`` with ``observedGeneration``.

Handlers run after each write (children's changes wake their owners), synchronously unless a delay is
configured for the kind; a kind's controller can be switched off. Condition overrides (``sticky``) are
applied on top of whatever a handler computes, so a test can hold e.g. a Kustomization at
``Ready=False``. Settings and sticky overrides live in the store's ``extra`` and persist with it.
"""
from __future__ import annotations

import copy
import hashlib
import json
import threading

from .flux import REVISION as FLUX_REVISION
from .flux import fluxinstance_handler
from .resources import Resource
from .store import Event, Store, _meta, _random_suffix, now

# Ready condition (reason, message) per (group, kind); kind "*" covers a whole group.
READY = {
    ("fluxcd.controlplane.io", "*"): ("ReconciliationSucceeded", "Reconciliation finished"),
    ("source.toolkit.fluxcd.io", "*"): ("Succeeded", "stored artifact for revision 'main@sha1:0000000000000000000000000000000000000000'"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (
        "ReconciliationSucceeded", "Applied revision: main@sha1:0000000000000000000000000000000000000000"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): ("InstallSucceeded", "Helm install succeeded"),
    ("notification.toolkit.fluxcd.io", "*"): ("Succeeded", "Reconciliation finished"),
    ("image.toolkit.fluxcd.io", "*"): ("Succeeded", "Reconciliation finished"),
    ("cert-manager.io", "*"): ("Ready", "The resource is ready"),
    ("external-secrets.io", "ExternalSecret"): ("SecretSynced", "secret synced"),
    ("external-secrets.io", "*"): ("Valid", "store validated"),
}
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# DaemonSets whose presence means "a CNI runs" (nodes turn Ready).
CNI_DAEMONSETS = {"cilium", "calico-node", "kube-flannel-ds", "kube-router", "weave-net", "canal",
                  "antrea-agent", "kube-ovn-cni"}
# kubelet's runtime network check while no CNI is configured (pkg/kubelet/kubelet_node_status.go via
# the container runtime's NetworkReady condition).
CNI_NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                 "message:Network plugin returns error: cni plugin not initialized")
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
REVISION = "deployment.kubernetes.io/revision"


def template_hash(template: dict) -> str:
    """A stable pod-template-hash for a pod template (alphabet of rand.SafeEncodeString)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:10])


def set_condition(conds: list, ctype: str, status: str, reason: str = "", message: str = "",
                  generation: int | None = None) -> list:
    """Return conditions with one type set, keeping lastTransitionTime when the status is unchanged."""
    out = [copy.deepcopy(c) for c in conds or [] if c.get("type") != ctype]
    old = next((c for c in conds or [] if c.get("type") == ctype), None)
    cond = {"type": ctype, "status": status,
            "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == status
            and old.get("lastTransitionTime") else now(), "reason": reason, "message": message}
    if generation is not None:
        cond["observedGeneration"] = generation
    if old and old.get("lastUpdateTime") is not None:
        cond["lastUpdateTime"] = old["lastUpdateTime"] if old.get("status") == status else cond["lastTransitionTime"]
    out.insert(next((i for i, c in enumerate(conds or []) if c.get("type") == ctype), len(out)), cond)
    return out


def _owner_ref(obj: dict) -> dict:
    """A controller ownerReference pointing at obj."""
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": _meta(obj)["name"],
            "uid": _meta(obj)["uid"], "controller": True, "blockOwnerDeletion": True}


def _owned_by(obj: dict, owner: dict) -> bool:
    """True when obj has a controller reference to owner."""
    uid = _meta(owner).get("uid")
    return any(r.get("uid") == uid and r.get("controller") for r in _meta(obj).get("ownerReferences") or [])


class Controllers:
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
        """React to a store change: reconcile the object, its owner, and kinds that depend on it."""
        kind, meta = event.obj.get("kind", ""), _meta(event.obj)
        if kind == "Node":
            if event.type in ("ADDED", "DELETED"):
                self.reconcile_kind("DaemonSet")
            if event.type == "DELETED" or _ready(event.obj) != _ready(event.old or {}):
                self.reconcile_kind("Pod")
        if kind == "DaemonSet" and meta.get("name") in CNI_DAEMONSETS and event.type in ("ADDED", "DELETED"):
            self.reconcile_kind("Node")
        self._reconcile_owner(event.obj)
        if event.type != "DELETED":
            self.schedule(kind, (event.group, event.plural, meta.get("namespace", ""), meta["name"]))

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
        """Compute and write the status of one object (handler, then overrides)."""
        with self.store.txn():
            obj = self.store.objects.get(key)
            if obj is None:
                return
            res = self.store._res_of(key)
            kind = obj.get("kind", "")
            status = copy.deepcopy(obj.get("status") or {})
            handler = self._handler(res)
            if handler and self.enabled(kind) and not _meta(obj).get("deletionTimestamp"):
                status = handler(self, res, key, copy.deepcopy(obj)) or status
            status = self._apply_overrides(obj, status)
            if status != (obj.get("status") or {}) or ("status" not in obj and status):
                self.store.write_status(res, key, status)

    def _handler(self, res: Resource):
        """The handler for a resource, if any."""
        if (res.group, res.kind) in HANDLERS:
            return HANDLERS[(res.group, res.kind)]
        if (res.group, res.kind) in READY or (res.group, "*") in READY:
            return ready_handler
        return None

    # ------------------------------------------------------------------ helpers for handlers

    def resource(self, group: str, version: str, plural: str) -> Resource:
        """A served resource by path."""
        return self.store.registry.lookup(group, version, plural)

    def children(self, res: Resource, namespace: str, owner: dict) -> list[dict]:
        """Stored objects of res in namespace controlled by owner."""
        return [o for o in self.store.matching(res, namespace) if _owned_by(o, owner)]

    def nodes(self) -> list[dict]:
        """All stored Nodes."""
        return self.store.matching(self.resource("", "v1", "nodes"))

    def cni_running(self) -> bool:
        """Whether a CNI DaemonSet exists."""
        ds = self.resource("apps", "v1", "daemonsets")
        return any(_meta(d)["name"] in CNI_DAEMONSETS and not _meta(d).get("deletionTimestamp")
                   for d in self.store.matching(ds))

    def unschedulable(self, pod: dict) -> str | None:
        """Why a pod cannot be scheduled now (the scheduler's message), or None when it can run."""
        nodes = self.nodes()
        if not nodes or any(_ready(n) for n in nodes) or _tolerates_not_ready(pod):
            return None
        if any(r.get("kind") == "DaemonSet" for r in _meta(pod).get("ownerReferences") or []):
            return None  # node agents (CNI, kube-vip, spegel) tolerate not-ready nodes
        n = len(nodes)
        return (f"0/{n} nodes are available: {n} node(s) had untolerated taint {{{NOT_READY_TAINT}: }}. "
                f"preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.")

    def pods_ready(self, owner: dict) -> tuple[int, int]:
        """(pods, ready pods) controlled by owner."""
        pods = self.children(self.resource("", "v1", "pods"), _meta(owner)["namespace"], owner)
        return len(pods), sum(1 for p in pods if _ready(p))


def _ready(obj: dict) -> bool:
    """Whether an object's Ready condition is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def _tolerates_not_ready(pod: dict) -> bool:
    """Whether a pod tolerates the not-ready taint (an Exists toleration without key, or that key)."""
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        matches = (not t.get("key") and t.get("operator") == "Exists") or t.get("key") == NOT_READY_TAINT
        if matches and t.get("effect") in (None, "", "NoSchedule"):
            return True
    return False


# ---------------------------------------------------------------------- handlers

def node_handler(ctl: Controllers, res, key, obj) -> dict:
    """Nodes report no pressure, and Ready once a CNI runs (NotReady before, as a kubelet would)."""
    status = obj.get("status") or {}
    conds = status.get("conditions") or []
    for ctype, reason, msg in (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                               ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                               ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available")):
        conds = set_condition(conds, ctype, "False", reason, msg)
    if ctl.cni_running():
        conds = set_condition(conds, "Ready", "True", "KubeletReady", "kubelet is posting ready status")
    else:
        conds = set_condition(conds, "Ready", "False", "KubeletNotReady", CNI_NOT_READY)
    status["conditions"] = conds
    return status


def namespace_handler(ctl: Controllers, res, key, obj) -> dict:
    """Namespaces get their default ServiceAccount."""
    name = _meta(obj)["name"]
    sa = ctl.resource("", "v1", "serviceaccounts")
    if ctl.store.find(sa, name, "default") is None:
        ctl.store.create(sa, name, {"metadata": {"name": "default"}}, manager="kube-controller-manager")
    status = obj.get("status") or {}
    status["phase"] = "Active"
    return status


def _sync_pods(ctl: Controllers, owner: dict, template: dict, names: list[str], nodes: list[str | None]) -> int:
    """Make the owner's pods exactly the given names (created from template); returns the count."""
    ns = _meta(owner)["namespace"]
    pods = ctl.resource("", "v1", "pods")
    existing = {_meta(p)["name"]: p for p in ctl.children(pods, ns, owner)}
    for name, node in zip(names, nodes):
        if name in existing:
            continue
        meta = copy.deepcopy(template.get("metadata") or {})
        meta.update(name=name, namespace=ns, ownerReferences=[_owner_ref(owner)])
        spec = copy.deepcopy(template.get("spec") or {})
        if node:
            spec["nodeName"] = node
        ctl.store.create(pods, ns, {"metadata": meta, "spec": spec}, manager="kube-controller-manager")
    for name in set(existing) - set(names):
        ctl.store.remove(pods, (pods.group, pods.plural, ns, name))
    return len(names)


def replicaset_handler(ctl: Controllers, res, key, obj) -> dict:
    """ReplicaSets keep spec.replicas pods and count the ready ones."""
    want = int((obj.get("spec") or {}).get("replicas", 1))
    template = (obj.get("spec") or {}).get("template") or {}
    pods = ctl.resource("", "v1", "pods")
    have = sorted(_meta(p)["name"] for p in ctl.children(pods, _meta(obj)["namespace"], obj))
    names = have[:want] + [f"{_meta(obj)['name']}-{_random_suffix()}" for _ in range(want - len(have))]
    _sync_pods(ctl, obj, template, names, [None] * len(names))
    total, ready = ctl.pods_ready(obj)
    return {"replicas": total, "fullyLabeledReplicas": total, "readyReplicas": ready, "availableReplicas": ready,
            "observedGeneration": _meta(obj).get("generation", 1)}


def _max_unavailable(spec: dict, replicas: int) -> int:
    """deploymentutil.MaxUnavailable: RollingUpdate's maxUnavailable (default 25%, rounded down)."""
    strategy = spec.get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate" or replicas == 0:
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return min(replicas, replicas * int(value[:-1]) // 100)
    return min(replicas, int(value))


def _ensure_replicaset(ctl: Controllers, obj: dict) -> tuple[str, list[dict], str]:
    """Create/scale the ReplicaSet of the current template, scale the others to zero; return its name and
    the owned ReplicaSets seen before."""
    meta, spec = _meta(obj), obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    template = copy.deepcopy(spec.get("template") or {})
    phash = template_hash(template)
    rs_res = ctl.resource("apps", "v1", "replicasets")
    owned = ctl.children(rs_res, meta["namespace"], obj)
    rs_name = f"{meta['name']}-{phash}"
    revision_of = lambda r: int((_meta(r).get("annotations") or {}).get(REVISION, 0))
    current = next((r for r in owned if _meta(r)["name"] == rs_name), None)
    revision = revision_of(current) if current else max(map(revision_of, owned), default=0) + 1
    labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": phash}
    template.setdefault("metadata", {})["labels"] = labels
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = phash
    key = lambda name: (rs_res.group, rs_res.plural, meta["namespace"], name)
    if current is None:
        ctl.store.create(rs_res, meta["namespace"], {
            "metadata": {"name": rs_name, "namespace": meta["namespace"], "labels": labels,
                         "annotations": {REVISION: str(revision), "deployment.kubernetes.io/desired-replicas":
                                         str(replicas)}, "ownerReferences": [_owner_ref(obj)]},
            "spec": {"replicas": replicas, "selector": selector, "template": template}},
            manager="kube-controller-manager")
    elif (current.get("spec") or {}).get("replicas") != replicas:
        ctl.store.write_object(rs_res, key(rs_name), {**current, "spec": {**current["spec"], "replicas": replicas}})
    for old in owned:
        if _meta(old)["name"] != rs_name and (old.get("spec") or {}).get("replicas"):
            ctl.store.write_object(rs_res, key(_meta(old)["name"]), {**old, "spec": {**old["spec"], "replicas": 0}})
    return rs_name, owned, str(revision)


def _set_revision(ctl: Controllers, res, key, revision: str) -> None:
    """Record the rollout revision annotation on the Deployment."""
    live = ctl.store.objects[key]
    annotations = dict(_meta(live).get("annotations") or {})
    if annotations.get(REVISION) != revision:
        annotations[REVISION] = revision
        ctl.store.write_object(res, key, {**live, "metadata": {**_meta(live), "annotations": annotations}})


def _deployment_status(obj: dict, rs_name: str, rs_status: dict, old_replicas: int) -> dict:
    """Deployment status from its new ReplicaSet's status (deployment controller's sync/progress logic)."""
    spec = obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    updated, available = int(rs_status.get("replicas", 0)), int(rs_status.get("availableReplicas", 0))
    status = copy.deepcopy(obj.get("status") or {})
    conds = status.get("conditions") or []
    if available >= replicas - _max_unavailable(spec, replicas):
        conds = set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
                              "Deployment has minimum availability.")
    else:
        conds = set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                              "Deployment does not have minimum availability.")
    if updated == replicas and available >= replicas:
        conds = set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                              f'ReplicaSet "{rs_name}" has successfully progressed.')
    else:
        conds = set_condition(conds, "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    for c in conds:
        c.setdefault("lastUpdateTime", c["lastTransitionTime"])
    counts = {"replicas": updated + old_replicas, "updatedReplicas": updated,
              "readyReplicas": int(rs_status.get("readyReplicas", 0)), "availableReplicas": available,
              "unavailableReplicas": max(replicas - available, 0)}
    for field in counts:
        status.pop(field, None)
    status.update({k: v for k, v in counts.items() if v})  # Go's omitempty
    status.update(observedGeneration=_meta(obj).get("generation", 1), conditions=conds)
    return status


def deployment_handler(ctl: Controllers, res, key, obj) -> dict:
    """Deployments roll out at once: a ReplicaSet for the current template, old ones scaled to zero."""
    rs_name, owned, revision = _ensure_replicaset(ctl, obj)
    _set_revision(ctl, res, key, revision)
    rs_res = ctl.resource("apps", "v1", "replicasets")
    rs_status = (ctl.store.objects.get((rs_res.group, rs_res.plural, _meta(obj)["namespace"], rs_name)) or {}
                 ).get("status") or {}
    old = sum(int((o.get("status") or {}).get("replicas", 0)) for o in owned if _meta(o)["name"] != rs_name)
    return _deployment_status(obj, rs_name, rs_status, old)

def _node_matches(node: dict, template: dict) -> bool:
    """Whether a DaemonSet pod template's nodeSelector matches a node's labels."""
    selector = (template.get("spec") or {}).get("nodeSelector") or {}
    labels = _meta(node).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def daemonset_handler(ctl: Controllers, res, key, obj) -> dict:
    """DaemonSets run one pod per (matching) node and count the ready ones."""
    template = (obj.get("spec") or {}).get("template") or {}
    nodes = sorted(_meta(n)["name"] for n in ctl.nodes() if _node_matches(n, template))
    pods = ctl.resource("", "v1", "pods")
    by_node = {(p.get("spec") or {}).get("nodeName"): _meta(p)["name"]
               for p in ctl.children(pods, _meta(obj)["namespace"], obj)}
    names = [by_node.get(n) or f"{_meta(obj)['name']}-{_random_suffix()}" for n in nodes]
    count = _sync_pods(ctl, obj, template, names, nodes)
    _, ready = ctl.pods_ready(obj)
    return {"currentNumberScheduled": count, "desiredNumberScheduled": count, "numberMisscheduled": 0,
            "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": count,
            "observedGeneration": _meta(obj).get("generation", 1)}


def statefulset_handler(ctl: Controllers, res, key, obj) -> dict:
    """StatefulSets run ordinal pods; current revision = update revision."""
    spec, meta = obj.get("spec") or {}, _meta(obj)
    replicas = int(spec.get("replicas", 1))
    names = [f"{meta['name']}-{i}" for i in range(replicas)]
    _sync_pods(ctl, obj, spec.get("template") or {}, names, [None] * replicas)
    _, ready = ctl.pods_ready(obj)
    revision = f"{meta['name']}-{template_hash(spec.get('template') or {})}"
    return {"observedGeneration": meta.get("generation", 1), "replicas": replicas, "readyReplicas": ready,
            "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": ready,
            "currentRevision": revision, "updateRevision": revision, "collisionCount": 0}


def job_handler(ctl: Controllers, res, key, obj) -> dict:
    """Jobs complete successfully at once."""
    status = copy.deepcopy(obj.get("status") or {})
    if any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in status.get("conditions") or []):
        return status
    t = now()
    completions = int((obj.get("spec") or {}).get("completions") or 1)
    conds = set_condition(status.get("conditions") or [], "SuccessCriteriaMet", "True", "CompletionsReached",
                          "Reached expected number of succeeded pods")
    conds = set_condition(conds, "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")
    status.update(startTime=status.get("startTime", t), completionTime=t, succeeded=completions, ready=0,
                  terminating=0, uncountedTerminatedPods={}, conditions=conds)
    return status


def pod_handler(ctl: Controllers, res, key, obj) -> dict:
    """Pods run and are Ready (Succeeded for Job pods and restartPolicy Never/OnFailure), or stay Pending
    while no node can take them."""
    status = copy.deepcopy(obj.get("status") or {})
    spec = obj.get("spec") or {}
    why = ctl.unschedulable(obj)
    if why:
        conds = set_condition(status.get("conditions") or [], "PodScheduled", "False", "Unschedulable", why)
        return {"phase": "Pending", "conditions": conds, "qosClass": status.get("qosClass", "BestEffort")}
    done = spec.get("restartPolicy", "Always") != "Always" or any(
        r.get("kind") == "Job" for r in _meta(obj).get("ownerReferences") or [])
    t = status.get("startTime") or now()
    ready = "False" if done else "True"
    conds = status.get("conditions") or []
    for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"):
        conds = set_condition(conds, ctype, ready if ctype in ("Ready", "ContainersReady") else "True",
                              "PodCompleted" if done and ctype in ("Ready", "ContainersReady") else "")
    state = ({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": t, "finishedAt": t}} if done
             else {"running": {"startedAt": t}})
    statuses = [{"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": not done,
                 "started": not done, "restartCount": 0, "state": state, "containerID": f"containerd://{i:064x}"}
                for i, c in enumerate(spec.get("containers") or [])]
    seed = int(hashlib.sha256(_meta(obj)["name"].encode()).hexdigest(), 16)
    node_ip = _node_ip(ctl, spec.get("nodeName"))
    pod_ip = node_ip if spec.get("hostNetwork") else status.get("podIP") or \
        f"10.244.{seed % 250}.{(seed >> 8) % 250 + 2}"
    status.update(phase="Succeeded" if done else "Running", conditions=conds, containerStatuses=statuses,
                  startTime=t, qosClass=status.get("qosClass", "BestEffort"), podIP=pod_ip, hostIP=node_ip,
                  podIPs=[{"ip": pod_ip}])
    return status


def _node_ip(ctl: Controllers, node_name: str | None) -> str:
    """InternalIP of a node (any node when unnamed); a placeholder in a nodeless cluster."""
    for n in ctl.nodes():
        if node_name in (None, _meta(n)["name"]):
            for a in (n.get("status") or {}).get("addresses") or []:
                if a.get("type") == "InternalIP":
                    return a.get("address")
    return "10.0.48.1"


def service_handler(ctl: Controllers, res, key, obj) -> dict:
    """LoadBalancer Services get an ingress address (TEST-NET-1, never contacted)."""
    spec = obj.get("spec") or {}
    status = copy.deepcopy(obj.get("status") or {"loadBalancer": {}})
    if spec.get("type") == "LoadBalancer" and not (status.get("loadBalancer") or {}).get("ingress"):
        seed = int(hashlib.sha256(_meta(obj)["name"].encode()).hexdigest(), 16)
        ip = spec.get("loadBalancerIP") or f"192.0.2.{seed % 250 + 2}"
        status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"}]}
    return status


def pvc_handler(ctl: Controllers, res, key, obj) -> dict:
    """PersistentVolumeClaims are Bound with the requested capacity."""
    spec = obj.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {"phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "capacity": {"storage": storage}}


def crd_handler(ctl: Controllers, res, key, obj) -> dict:
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


def ready_handler(ctl: Controllers, res, key, obj) -> dict:
    """Flux, cert-manager and external-secrets objects report Ready=True for their generation."""
    reason, message = READY.get((res.group, res.kind)) or READY[(res.group, "*")]
    generation = _meta(obj).get("generation", 1)
    status = copy.deepcopy(obj.get("status") or {})
    conds = status.get("conditions") or []
    if res.group == "helm.toolkit.fluxcd.io":
        conds = set_condition(conds, "Released", "True", reason, message, generation)
    status["conditions"] = set_condition(conds, "Ready", "True", reason, message, generation)
    status["observedGeneration"] = generation
    if res.group == "kustomize.toolkit.fluxcd.io":
        status.update(lastAppliedRevision=FLUX_REVISION, lastAttemptedRevision=FLUX_REVISION)
    if res.group == "source.toolkit.fluxcd.io":
        name, ns = _meta(obj)["name"], _meta(obj).get("namespace", "")
        status["artifact"] = {"revision": FLUX_REVISION, "digest": f"sha256:{'0' * 64}",
                              "path": f"{res.kind.lower()}/{ns}/{name}/0.tar.gz",
                              "url": f"http://source-controller.{ns}.svc.cluster.local./{res.kind.lower()}/{ns}/{name}/0.tar.gz",
                              "lastUpdateTime": (status.get("artifact") or {}).get("lastUpdateTime") or now()}
    return status


HANDLERS = {
    ("", "Node"): node_handler,
    ("", "Namespace"): namespace_handler,
    ("", "Pod"): pod_handler,
    ("", "Service"): service_handler,
    ("", "PersistentVolumeClaim"): pvc_handler,
    ("apps", "Deployment"): deployment_handler,
    ("apps", "ReplicaSet"): replicaset_handler,
    ("apps", "DaemonSet"): daemonset_handler,
    ("apps", "StatefulSet"): statefulset_handler,
    ("batch", "Job"): job_handler,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): crd_handler,
    ("fluxcd.controlplane.io", "FluxInstance"): fluxinstance_handler,
}
