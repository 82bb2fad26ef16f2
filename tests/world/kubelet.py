"""The nodes' side of the world: kubelet pod and node status, kube-scheduler binding, and the node
lifecycle controller's taints.

- kube-scheduler (pkg/scheduler/schedule_one.go) binds a pending pod to a feasible node
  (``scheduling.choose_node``) or marks it ``PodScheduled=False/Unschedulable`` with the FitError.
- kubelet (pkg/kubelet/kubelet.go syncPod) starts a pod on its node only when the node's network is
  ready or the pod uses the host network ("network is not ready: ..."), when its Secret and ConfigMap
  volumes exist (volumemanager: ``MountVolume.SetUp failed for volume ...``) and when the Secrets and
  ConfigMaps its environment names exist (kubelet_pods.go makeEnvironmentVariables:
  CreateContainerConfigError). Containers are not run: a started container is ready (probes pass)
  unless ``apps.waiting`` says its program waits for something; restartPolicy Never/OnFailure pods exit 0.
- The kubelet reports the node Ready once a CNI agent pod on it has been ready (the CNI wrote its config);
  the node lifecycle controller (pkg/controller/nodelifecycle/node_lifecycle_controller.go) taints a
  node that is not Ready with ``node.kubernetes.io/not-ready`` NoSchedule and NoExecute.
"""
from __future__ import annotations

import copy
import hashlib

from . import apps, errors, scheduling
from .objects import ready, set_condition
from .store import _meta, now

# DaemonSets whose ready pod on a node means the node's network is ready.
CNI_DAEMONSETS = {"cilium", "calico-node", "kube-flannel-ds", "kube-router", "weave-net", "canal",
                  "antrea-agent", "kube-ovn-cni"}
# kubelet's runtime network check while no CNI config exists (kubelet_node_status.go, NetworkReady=false).
CNI_NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                 "message:Network plugin returns error: cni plugin not initialized")
NOT_READY_TAINTS = [{"key": scheduling.NOT_READY_TAINT, "effect": "NoSchedule"},
                    {"key": scheduling.NOT_READY_TAINT, "effect": "NoExecute"}]
PRESSURE = (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))


def is_cni(pod: dict) -> bool:
    """Whether a pod belongs to a CNI DaemonSet."""
    return any(r.get("kind") == "DaemonSet" and r.get("name") in CNI_DAEMONSETS
               for r in _meta(pod).get("ownerReferences") or [])


def settled(pod: dict) -> bool:
    """Whether a pod has nothing left to wait for: finished, or running and ready."""
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed") or (phase == "Running" and ready(pod))


def cni_ready_on(ctl, node_name: str) -> bool:
    """Whether a ready pod of a CNI DaemonSet runs on the node."""
    return any((p.get("spec") or {}).get("nodeName") == node_name and ready(p) and is_cni(p) for p in ctl.pods())


def cni_configured(ctl, node_name: str) -> bool:
    """Whether the node's CNI config exists: written by the first CNI agent pod ready on it and kept on
    the node's disk (an agent restart or upgrade leaves it, so the node stays Ready); the world keeps
    that disk state in the store's extra."""
    configured = ctl.store.extra.setdefault("cniConfigured", [])
    if node_name not in configured and cni_ready_on(ctl, node_name):
        configured.append(node_name)
        ctl.store.mark_dirty()
    return node_name in configured


def untimed(taints: list) -> list:
    """Taints without their timeAdded (for comparisons)."""
    return [{k: v for k, v in t.items() if k != "timeAdded"} for t in taints or []]


def node_handler(ctl, res, key, obj) -> dict:
    """Kubelet conditions (Ready once the network is) and the lifecycle controller's not-ready taints."""
    status = copy.deepcopy(obj.get("status") or {})
    conds = status.get("conditions") or []
    for ctype, reason, message in PRESSURE:
        conds = set_condition(conds, ctype, "False", reason, message)
    network = cni_configured(ctl, _meta(obj)["name"])
    conds = set_condition(conds, "Ready", *(("True", "KubeletReady", "kubelet is posting ready status") if network
                                            else ("False", "KubeletNotReady", CNI_NOT_READY)))
    status["conditions"] = conds
    live = (obj.get("spec") or {}).get("taints") or []
    taints = [t for t in live if t.get("key") != scheduling.NOT_READY_TAINT]
    taints += [] if network else [{**t, "timeAdded": now()} for t in NOT_READY_TAINTS]
    if untimed(taints) != untimed(live):
        spec = {**(obj.get("spec") or {}), "taints": taints}
        if not taints:
            spec.pop("taints")
        ctl.store.write_object(res, key, {**ctl.store.objects[key], "spec": spec})
    return status


def _missing_volume(ctl, namespace: str, spec: dict) -> str | None:
    """The FailedMount message for the first non-optional Secret/ConfigMap volume source that is absent."""
    for volume in spec.get("volumes") or []:
        sources = [volume] + [s for s in (volume.get("projected") or {}).get("sources") or []]
        for source in sources:
            for kind, field, word in (("secret", "secretName", "secret"), ("configMap", "name", "configmap")):
                ref = source.get(kind)
                if ref is None or ref.get("optional"):
                    continue
                name = ref.get(field) or ref.get("name")
                if ctl.get("", "v1", "secrets" if kind == "secret" else "configmaps", namespace, name) is None:
                    return f'MountVolume.SetUp failed for volume "{volume.get("name")}" : {word} "{name}" not found'
    return None


def _missing_env(ctl, namespace: str, spec: dict) -> str | None:
    """The CreateContainerConfigError message for the first absent non-optional Secret/ConfigMap the
    containers' env or envFrom names."""
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        refs = [((e.get("valueFrom") or {}).get(k), k) for e in container.get("env") or []
                for k in ("secretKeyRef", "configMapKeyRef")]
        refs += [(e.get(k), k) for e in container.get("envFrom") or [] for k in ("secretRef", "configMapRef")]
        for ref, kind in refs:
            if not ref or ref.get("optional"):
                continue
            secret = kind.startswith("secret")
            if ctl.get("", "v1", "secrets" if secret else "configmaps", namespace, ref.get("name")) is None:
                return f'{"secret" if secret else "configmap"} "{ref.get("name")}" not found'
    return None


def _conditions(status: dict, spec: dict, started: bool, ready_now: bool, done: bool) -> list:
    """The kubelet's pod conditions (pkg/kubelet/status/generate.go)."""
    names = [c.get("name") for c in spec.get("containers") or []]
    unready = ("ContainersNotReady", f"containers with unready status: [{' '.join(names)}]")
    ready_reason = ("PodCompleted", "") if done else ("", "") if ready_now else unready
    conds = status.get("conditions") or []
    conds = set_condition(conds, "PodReadyToStartContainers", "True" if started and not done else "False")
    conds = set_condition(conds, "Initialized", "True", "PodCompleted" if done else "")
    for ctype in ("Ready", "ContainersReady"):
        conds = set_condition(conds, ctype, "True" if ready_now else "False", *ready_reason)
    return set_condition(conds, "PodScheduled", "True")


def _node_ip(node: dict) -> str:
    """The node's InternalIP."""
    return next((a.get("address") for a in (node.get("status") or {}).get("addresses") or []
                 if a.get("type") == "InternalIP"), "10.0.48.1")


def _run(ctl, obj: dict, node: dict) -> dict:
    """The status of a pod whose containers started: Running (Ready unless its program waits for
    something), or Succeeded for restartPolicy Never/OnFailure once its program is done."""
    meta, spec = _meta(obj), obj.get("spec") or {}
    status = copy.deepcopy(obj.get("status") or {})
    waits = apps.waiting(ctl, obj)
    if waits:  # what the program would log; the world says it with an Event, as it runs no container
        record(ctl, obj, "world", "ProgramWaiting", waits, spec.get("nodeName", ""))
    done = spec.get("restartPolicy", "Always") != "Always" and not waits
    t = status.get("startTime") or now()
    state = ({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": t, "finishedAt": now()}} if done
             else {"running": {"startedAt": t}})
    statuses = [{"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": not (done or waits),
                 "started": not done, "restartCount": 0, "state": state, "containerID": f"containerd://{i:064x}"}
                for i, c in enumerate(spec.get("containers") or [])]
    seed = int(hashlib.sha256(meta["name"].encode()).hexdigest(), 16)
    pod_ip = _node_ip(node) if spec.get("hostNetwork") else status.get("podIP") or \
        f"10.244.{seed % 250}.{(seed >> 8) % 250 + 2}"
    status.update(phase="Succeeded" if done else "Running", containerStatuses=statuses, startTime=t,
                  conditions=_conditions(status, spec, True, not (done or waits), done),
                  qosClass=status.get("qosClass", "BestEffort"), podIP=pod_ip, hostIP=_node_ip(node),
                  podIPs=[{"ip": pod_ip}])
    return status


def _blocked(status: dict, spec: dict, node: dict, reason: str, message: str) -> dict:
    """A pod bound to its node whose containers cannot start yet (Pending, waiting)."""
    statuses = [{"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": False, "started": False,
                 "restartCount": 0, "state": {"waiting": {"reason": reason, **({"message": message} if message else {})}}}
                for c in spec.get("containers") or []]
    return {**status, "phase": "Pending", "conditions": _conditions(status, spec, False, False, False),
            "containerStatuses": statuses, "hostIP": _node_ip(node), "startTime": status.get("startTime") or now(),
            "qosClass": status.get("qosClass", "BestEffort")}


def record(ctl, pod: dict, component: str, reason: str, message: str, host: str = "") -> None:
    """A Warning Event about the pod, once per reason and message (client-go's EventRecorder would
    count repeats), so `kubectl describe` and `kubectl get events` say why a pod waits."""
    meta, t = _meta(pod), now()
    name = f"{meta['name']}.{hashlib.sha256(f'{reason}{message}'.encode()).hexdigest()[:16]}"
    events = ctl.resource("", "v1", "events")
    if ctl.store.find(events, meta["namespace"], name) is not None:
        return
    try:
        ctl.store.create(events, meta["namespace"], {
            "metadata": {"name": name}, "type": "Warning", "reason": reason, "message": message, "count": 1,
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": meta["namespace"],
                               "name": meta["name"], "uid": meta.get("uid")},
            "source": {"component": component, **({"host": host} if host else {})},
            "reportingComponent": component, "firstTimestamp": t, "lastTimestamp": t}, manager=component)
    except errors.ApiError:  # e.g. the namespace is terminating
        pass


def pod_handler(ctl, res, key, obj) -> dict:
    """Schedule the pod if unbound, then start it on its node as far as the node lets it."""
    spec, status = obj.get("spec") or {}, copy.deepcopy(obj.get("status") or {})
    if status.get("phase") in ("Succeeded", "Failed"):
        return status
    if not spec.get("nodeName"):
        node_name, why = scheduling.choose_node(obj, ctl.nodes(), ctl.pods())
        if node_name is None:
            record(ctl, obj, "default-scheduler", "FailedScheduling", why)
            conds = set_condition(status.get("conditions") or [], "PodScheduled", "False", "Unschedulable", why)
            return {"phase": "Pending", "conditions": conds, "qosClass": status.get("qosClass", "BestEffort")}
        spec = {**spec, "nodeName": node_name}
        ctl.store.write_object(res, key, {**ctl.store.objects[key], "spec": spec})
        obj = {**obj, "spec": spec}
    node = ctl.node(spec["nodeName"])
    if node is None:
        return status
    if status.get("phase") == "Running":  # started containers keep running; only their readiness moves
        return _run(ctl, obj, node)
    host = spec["nodeName"]
    if not spec.get("hostNetwork") and not ready(node):
        record(ctl, obj, "kubelet", "NetworkNotReady", f"network is not ready: {CNI_NOT_READY}", host)
        return _blocked(status, spec, node, "ContainerCreating", "")
    why = _missing_volume(ctl, _meta(obj)["namespace"], spec)
    if why:
        record(ctl, obj, "kubelet", "FailedMount", why, host)
        return _blocked(status, spec, node, "ContainerCreating", "")
    why = _missing_env(ctl, _meta(obj)["namespace"], spec)
    if why:
        record(ctl, obj, "kubelet", "Failed", f"Error: {why}", host)
        return _blocked(status, spec, node, "CreateContainerConfigError", why)
    return _run(ctl, obj, node)
