"""kube-controller-manager's workload controllers: they create and delete pods and count the ready ones.

- ReplicaSet (pkg/controller/replicaset): keeps spec.replicas pods; available = ready (minReadySeconds 0).
- Deployment (pkg/controller/deployment, sync.go/progress.go): one ReplicaSet per pod template
  (pod-template-hash), older ones scaled to zero at once (not surge by surge), revision annotation,
  Available/Progressing conditions.
- DaemonSet (pkg/controller/daemon/daemon_controller.go): one pod per node where NodeShouldRunDaemonPod
  holds (node affinity/selector, NoSchedule/NoExecute taints tolerated with the tolerations
  util.AddOrUpdateDaemonPodTolerations adds), pinned by util.ReplaceDaemonSetPodNodeNameNodeAffinity
  and bound by the scheduler; pods of an older template are replaced at once (not maxUnavailable at a time).
- StatefulSet: ordinal pods; Job (pkg/controller/job/job_controller.go): pods until completions succeed
  or failures pass backoffLimit.
"""
from __future__ import annotations

import copy

from . import scheduling
from .objects import owner_ref, ready, set_condition, template_hash
from .store import _meta, _random_suffix, now

REVISION = "deployment.kubernetes.io/revision"
# util.AddOrUpdateDaemonPodTolerations (pkg/controller/daemon/util/daemonset_util.go).
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                           "effect": "NoSchedule"}


def _create_pod(ctl, owner: dict, template: dict, name: str, labels: dict | None = None,
                spec: dict | None = None) -> None:
    """Create one pod of owner from its template (generateName-style name given)."""
    meta = copy.deepcopy(template.get("metadata") or {})
    meta.update(name=name, namespace=_meta(owner)["namespace"], ownerReferences=[owner_ref(owner)])
    meta["labels"] = {**(meta.get("labels") or {}), **(labels or {})}
    ctl.store.create(ctl.resource("", "v1", "pods"), meta["namespace"],
                     {"metadata": meta, "spec": spec or copy.deepcopy(template.get("spec") or {})},
                     manager="kube-controller-manager")


def _delete_pod(ctl, pod: dict) -> None:
    """Delete one pod at once (no graceful termination)."""
    pods = ctl.resource("", "v1", "pods")
    ctl.store.remove(pods, (pods.group, pods.plural, _meta(pod)["namespace"], _meta(pod)["name"]))


def replicaset_handler(ctl, res, key, obj) -> dict:
    """ReplicaSets keep spec.replicas pods and count the ready ones."""
    spec = obj.get("spec") or {}
    want, pods = int(spec.get("replicas", 1)), sorted(ctl.owned_pods(obj), key=lambda p: _meta(p)["name"])
    for pod in pods[want:]:
        _delete_pod(ctl, pod)
    for _ in range(want - len(pods)):
        _create_pod(ctl, obj, spec.get("template") or {}, f"{_meta(obj)['name']}-{_random_suffix()}")
    pods = ctl.owned_pods(obj)
    ready_count = sum(1 for p in pods if ready(p))
    counts = {"fullyLabeledReplicas": len(pods), "readyReplicas": ready_count, "availableReplicas": ready_count}
    return {"replicas": len(pods), **{k: v for k, v in counts.items() if v},  # Go's omitempty
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


def _ensure_replicaset(ctl, obj: dict) -> tuple[str, list[dict], str]:
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
                                         str(replicas)}, "ownerReferences": [owner_ref(obj)]},
            "spec": {"replicas": replicas, "selector": selector, "template": template}},
            manager="kube-controller-manager")
    elif (current.get("spec") or {}).get("replicas") != replicas:
        ctl.store.write_object(rs_res, key(rs_name), {**current, "spec": {**current["spec"], "replicas": replicas}})
    for old in owned:
        if _meta(old)["name"] != rs_name and (old.get("spec") or {}).get("replicas"):
            ctl.store.write_object(rs_res, key(_meta(old)["name"]), {**old, "spec": {**old["spec"], "replicas": 0}})
    return rs_name, owned, str(revision)


def _set_revision(ctl, res, key, revision: str) -> None:
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


def deployment_handler(ctl, res, key, obj) -> dict:
    """Deployments roll out at once: a ReplicaSet for the current template, old ones scaled to zero."""
    rs_name, owned, revision = _ensure_replicaset(ctl, obj)
    _set_revision(ctl, res, key, revision)
    rs_res = ctl.resource("apps", "v1", "replicasets")
    rs_status = (ctl.store.objects.get((rs_res.group, rs_res.plural, _meta(obj)["namespace"], rs_name)) or {}
                 ).get("status") or {}
    old = sum(int((o.get("status") or {}).get("replicas", 0)) for o in owned if _meta(o)["name"] != rs_name)
    return _deployment_status(obj, rs_name, rs_status, old)


def _daemon_pod_spec(template: dict, node: str) -> dict:
    """The pod spec the DaemonSet controller creates for a node: the daemon tolerations added and the
    required node affinity replaced by metadata.name In [node] (util/daemonset_util.go)."""
    spec = copy.deepcopy(template.get("spec") or {})
    extra = DAEMON_TOLERATIONS + ([HOST_NETWORK_TOLERATION] if spec.get("hostNetwork") else [])
    tolerations = spec.setdefault("tolerations", [])
    tolerations += [t for t in extra if not any(o.get("key") == t["key"] and o.get("effect") == t["effect"]
                                                for o in tolerations)]
    affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    return spec


def should_run(template: dict, node: dict) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should run, should continue running) on the node."""
    spec = _daemon_pod_spec(template, _meta(node)["name"])
    fits = scheduling.node_affinity_matches(spec, node)
    tolerations = spec.get("tolerations") or []
    return (fits and scheduling.untolerated(tolerations, node) is None,
            fits and scheduling.untolerated(tolerations, node, ("NoExecute",)) is None)


def _daemon_node(pod: dict) -> str | None:
    """The node a daemon pod belongs to (its nodeName, else its metadata.name node affinity)."""
    terms = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms") or [{}]
    fields = terms[0].get("matchFields") or [{}]
    return (pod.get("spec") or {}).get("nodeName") or (fields[0].get("values") or [None])[0]


def daemonset_handler(ctl, res, key, obj) -> dict:
    """DaemonSets run one pod of the current template on every node that should run one."""
    meta, template = _meta(obj), (obj.get("spec") or {}).get("template") or {}
    revision = template_hash(template)
    nodes = {_meta(n)["name"]: should_run(template, n) for n in ctl.nodes()}
    desired = {name for name, (run, _) in nodes.items() if run}
    by_node: dict[str, list] = {}
    for pod in ctl.owned_pods(obj):
        stale = (_meta(pod).get("labels") or {}).get("controller-revision-hash") != revision
        node = _daemon_node(pod)
        if stale or not nodes.get(node, (False, False))[1] or by_node.get(node):
            _delete_pod(ctl, pod)
        else:
            by_node[node] = [pod]
    for node in sorted(desired - set(by_node)):
        _create_pod(ctl, obj, template, f"{meta['name']}-{_random_suffix()}",
                    {"controller-revision-hash": revision, "pod-template-generation": str(meta.get("generation", 1))},
                    _daemon_pod_spec(template, node))
    pods = {_daemon_node(p): p for p in ctl.owned_pods(obj)}
    scheduled = [pods[n] for n in desired if n in pods]
    available = sum(1 for p in scheduled if ready(p))
    status = {"currentNumberScheduled": len(scheduled), "desiredNumberScheduled": len(desired),
              "numberMisscheduled": len(set(pods) - desired), "numberReady": available,
              "numberAvailable": available, "updatedNumberScheduled": len(scheduled),
              "numberUnavailable": len(desired) - available, "observedGeneration": meta.get("generation", 1)}
    return {k: v for k, v in status.items() if v or k in ("currentNumberScheduled", "desiredNumberScheduled",
                                                          "numberMisscheduled", "numberReady")}


def statefulset_handler(ctl, res, key, obj) -> dict:
    """StatefulSets run ordinal pods; current revision = update revision."""
    spec, meta = obj.get("spec") or {}, _meta(obj)
    replicas = int(spec.get("replicas", 1))
    names = [f"{meta['name']}-{i}" for i in range(replicas)]
    have = {_meta(p)["name"]: p for p in ctl.owned_pods(obj)}
    for name in set(have) - set(names):
        _delete_pod(ctl, have[name])
    for name in names:
        if name not in have:
            _create_pod(ctl, obj, spec.get("template") or {}, name)
    ready_count = sum(1 for p in ctl.owned_pods(obj) if ready(p))
    revision = f"{meta['name']}-{template_hash(spec.get('template') or {})}"
    return {"observedGeneration": meta.get("generation", 1), "replicas": replicas, "readyReplicas": ready_count,
            "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": ready_count,
            "currentRevision": revision, "updateRevision": revision, "collisionCount": 0}


def job_handler(ctl, res, key, obj) -> dict:
    """Jobs run pods until completions succeeded (Complete) or more than backoffLimit failed (Failed)."""
    status, spec, meta = copy.deepcopy(obj.get("status") or {}), obj.get("spec") or {}, _meta(obj)
    if any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in status.get("conditions") or []):
        return status
    pods = ctl.owned_pods(obj)
    phase = lambda p: (p.get("status") or {}).get("phase")
    succeeded = sum(1 for p in pods if phase(p) == "Succeeded")
    failed = sum(1 for p in pods if phase(p) == "Failed")
    active = [p for p in pods if phase(p) not in ("Succeeded", "Failed")]
    completions, parallelism = int(spec.get("completions") or 1), int(spec.get("parallelism", 1))
    conds, t = status.get("conditions") or [], now()
    finished = succeeded >= completions or failed > int(spec.get("backoffLimit", 6))
    if succeeded >= completions:
        for ctype in ("SuccessCriteriaMet", "Complete"):
            conds = set_condition(conds, ctype, "True", "CompletionsReached", "Reached expected number of succeeded pods")
        status.update(completionTime=t)
    elif finished:
        for ctype in ("FailureTarget", "Failed"):
            conds = set_condition(conds, ctype, "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    else:
        labels = {"batch.kubernetes.io/controller-uid": meta["uid"], "batch.kubernetes.io/job-name": meta["name"],
                  "controller-uid": meta["uid"], "job-name": meta["name"]}
        for _ in range(min(parallelism, completions - succeeded) - len(active)):
            _create_pod(ctl, obj, spec.get("template") or {}, f"{meta['name']}-{_random_suffix()}", labels)
        active = [p for p in ctl.owned_pods(obj) if phase(p) not in ("Succeeded", "Failed")]
    counts = {"active": 0 if finished else len(active), "succeeded": succeeded, "failed": failed}
    for field in counts:
        status.pop(field, None)
    status.update({k: v for k, v in counts.items() if v})  # Go's omitempty
    status.update(startTime=status.get("startTime", t), ready=sum(1 for p in active if ready(p)), terminating=0,
                  uncountedTerminatedPods={}, **({"conditions": conds} if conds else {}))
    return status
