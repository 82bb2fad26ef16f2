"""The world's controllers against the REAL kubectl: scheduling, node agents, jobs and the kubelet's
checks behave as a real cluster's do, so `rollout status` and `wait` only pass when they would."""
from __future__ import annotations

import json


def manifest(kind: str, name: str, spec: dict, namespace: str = "default", **template) -> str:
    """A Deployment/DaemonSet/Job with one container and the given pod spec fields."""
    pod = {"containers": [{"name": "main", "image": f"registry.invalid/{name}:1", **template.pop("container", {})}],
           **spec}
    body = {"template": {"metadata": {"labels": {"app": name}}, "spec": pod}, **template}
    if kind != "Job":
        body["selector"] = {"matchLabels": {"app": name}}
    return json.dumps({"apiVersion": "batch/v1" if kind == "Job" else "apps/v1", "kind": kind,
                       "metadata": {"name": name, "namespace": namespace}, "spec": body})


def pods(kubectl, app: str) -> list[dict]:
    return json.loads(kubectl("get", "pods", "-A", "-l", f"app={app}", "-o", "json", check=True).stdout)["items"]


def test_taints_selectors_and_anti_affinity_place_pods(apiserver, kubectl):
    apiserver.ready_nodes("cp-1", "worker-1")
    kubectl("taint", "node", "cp-1", "node-role.kubernetes.io/control-plane=:NoSchedule", check=True)
    kubectl("label", "node", "cp-1", "node-role.kubernetes.io/control-plane=", check=True)
    spread = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}}
    kubectl("apply", "--server-side", "-f", "-", input=manifest("Deployment", "web", spread, replicas=2), check=True)
    assert kubectl("rollout", "status", "deploy/web", "--timeout=2s").returncode == 1
    placed = sorted((p["spec"].get("nodeName", ""), p["status"]["phase"]) for p in pods(kubectl, "web"))
    assert placed == [("", "Pending"), ("worker-1", "Running")]
    waiting = next(p for p in pods(kubectl, "web") if not p["spec"].get("nodeName"))
    assert waiting["status"]["conditions"][0]["message"] == (
        "0/2 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/2 nodes are available: 1 No preemption victims "
        "found for incoming pod, 1 Preemption is not helpful for scheduling.")
    agent = {"nodeSelector": {"node-role.kubernetes.io/control-plane": ""},
             "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}
    kubectl("apply", "--server-side", "-f", "-", input=manifest("DaemonSet", "vip", agent), check=True)
    kubectl("rollout", "status", "daemonset/vip", "--timeout=5s", check=True)
    assert [p["spec"]["nodeName"] for p in pods(kubectl, "vip")] == ["cp-1"]


def test_a_disruption_budget_counts_the_healthy_pods(apiserver, kubectl):
    apiserver.ready_nodes("node-1", "node-2")
    kubectl("apply", "--server-side", "-f", "-", input=manifest("Deployment", "api", {}, replicas=2), check=True)
    kubectl("apply", "--server-side", "-f", "-", check=True, input=json.dumps({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "api", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "minAvailable": "50%"}}))
    kubectl("wait", "--for=condition=DisruptionAllowed", "pdb/api", "--timeout=5s", check=True)
    status = json.loads(kubectl("get", "pdb", "api", "-o", "json", check=True).stdout)["status"]
    assert (status["currentHealthy"], status["desiredHealthy"], status["disruptionsAllowed"]) == (2, 1, 1)


def test_a_job_runs_a_pod_to_completion(apiserver, kubectl):
    apiserver.ready_nodes()
    kubectl("apply", "--server-side", "-f", "-", check=True,
            input=manifest("Job", "once", {"restartPolicy": "Never"}))
    kubectl("wait", "--for=condition=Complete", "job/once", "--timeout=5s", check=True)
    job = json.loads(kubectl("get", "job", "once", "-o", "json", check=True).stdout)
    assert job["status"]["succeeded"] == 1
    [pod] = pods(kubectl, "once")
    assert pod["status"]["phase"] == "Succeeded" and pod["spec"]["nodeName"] == "node-1"


def test_pods_wait_for_their_secret_and_for_the_node_network(apiserver, kubectl):
    env = {"container": {"env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "token", "key": "t"}}}]}}
    apiserver.seed({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}})
    kubectl("apply", "--server-side", "-f", "-", input=manifest("Deployment", "app", {}, **env), check=True)
    [pod] = pods(kubectl, "app")
    assert pod["status"]["conditions"][0]["message"].endswith("1 node(s) had untolerated taint "
                                                              "{node.kubernetes.io/not-ready: }. preemption: 0/1 nodes "
                                                              "are available: 1 Preemption is not helpful for scheduling.")
    apiserver.ready_nodes()
    [pod] = pods(kubectl, "app")
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "CreateContainerConfigError", "message": 'secret "token" not found'}
    kubectl("create", "secret", "generic", "token", "--from-literal=t=x", check=True)
    kubectl("rollout", "status", "deploy/app", "--timeout=5s", check=True)


def test_a_daemonset_rollout_replaces_its_pods_and_the_nodes_stay_ready(apiserver, kubectl):
    apiserver.ready_nodes("node-1", "node-2")
    kubectl("rollout", "status", "-n", "kube-system", "daemonset/cilium", "--timeout=5s", check=True)
    before = {p["metadata"]["name"] for p in pods(kubectl, "cni")}
    kubectl("set", "image", "-n", "kube-system", "daemonset/cilium", "agent=registry.invalid/cni:2", check=True)
    kubectl("rollout", "status", "-n", "kube-system", "daemonset/cilium", "--timeout=5s", check=True)
    after = pods(kubectl, "cni")
    assert not before & {p["metadata"]["name"] for p in after} and len(after) == 2
    assert {p["spec"]["containers"][0]["image"] for p in after} == {"registry.invalid/cni:2"}
    kubectl("wait", "--for=condition=Ready", "node/node-1", "node/node-2", "--timeout=1s", check=True)
    node = json.loads(kubectl("get", "node", "node-1", "-o", "json", check=True).stdout)
    assert "taints" not in node.get("spec", {})
