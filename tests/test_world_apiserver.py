"""Contract tests: the REAL kubectl 1.32 and helm 3.17 against the world's fake API server."""
from __future__ import annotations

import json
import textwrap
import threading
import time

import pytest

from tests.world.fixtures import run_tool, tool_env

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: %(scope)s
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""

KUSTOMIZATION_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: kustomizations.kustomize.toolkit.fluxcd.io
spec:
  group: kustomize.toolkit.fluxcd.io
  names: {kind: Kustomization, plural: kustomizations, singular: kustomization, shortNames: [ks]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    additionalPrinterColumns:
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"""

GITREPOSITORY_CRD = KUSTOMIZATION_CRD.replace("kustomizations.kustomize", "gitrepositories.source").replace(
    "group: kustomize.", "group: source.").replace(
    "{kind: Kustomization, plural: kustomizations, singular: kustomization, shortNames: [ks]}",
    "{kind: GitRepository, plural: gitrepositories, singular: gitrepository}")

GITREPOSITORY = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "https://example.invalid/home-ops.git", ref: {branch: main}}
"""

KUSTOMIZATION = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: cluster-apps, namespace: flux-system}
spec: {interval: 10m, path: %(path)s, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
"""


def cm(name: str, namespace: str = "default", labels: dict | None = None, data: dict | None = None) -> dict:
    """A ConfigMap manifest."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}}, "data": data or {}}


def names(proc) -> list[str]:
    """Object names from `kubectl get -o name` output."""
    return sorted(line.split("/", 1)[1] for line in proc.stdout.split())


# ---------------------------------------------------------------------------------------- discovery / reads

def test_version_and_discovery(kubectl):
    version = json.loads(kubectl("version", "-o", "json", check=True).stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.32.3"
    resources = kubectl("api-resources", "-o", "name", check=True).stdout.split()
    for expected in ("namespaces", "nodes", "secrets", "configmaps", "deployments.apps", "daemonsets.apps",
                     "statefulsets.apps", "clusterroles.rbac.authorization.k8s.io",
                     "customresourcedefinitions.apiextensions.k8s.io"):
        assert expected in resources
    assert kubectl("get", "--raw", "/readyz", check=True).stdout == "ok"


def test_get_list_with_label_and_field_selectors(apiserver, kubectl):
    apiserver.seed(cm("a", labels={"tier": "web", "env": "prod"}), cm("b", labels={"tier": "db", "env": "prod"}),
                   cm("c", labels={"tier": "web"}), cm("d", namespace="kube-system", labels={"tier": "web"}))
    get = lambda *sel: names(kubectl("get", "cm", "-n", "default", "-o", "name", *sel, check=True))
    assert get("-l", "tier=web") == ["a", "c"]
    assert get("-l", "tier!=web") == ["b"]
    assert get("-l", "tier in (db,cache)") == ["b"]
    assert get("-l", "tier notin (db),env") == ["a"]
    assert get("-l", "!env") == ["c"]
    assert get("--field-selector", "metadata.name=b") == ["b"]
    everywhere = names(kubectl("get", "cm", "-A", "-o", "name", "-l", "tier=web",
                               "--field-selector", "metadata.namespace=kube-system", check=True))
    assert everywhere == ["d"]
    status, body = apiserver.api("GET", "/api/v1/namespaces/default/configmaps?labelSelector=env%3Dprod")
    assert status == 200 and body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert [i["metadata"]["name"] for i in body["items"]] == ["a", "b"]
    bad = kubectl("get", "cm", "--field-selector", "spec.nope=1")
    assert bad.returncode == 1 and "field label not supported: spec.nope" in bad.stderr


def test_not_found_is_the_real_error(kubectl, apiserver):
    proc = kubectl("get", "namespace", "nope")
    assert proc.returncode == 1
    assert proc.stderr.strip() == 'Error from server (NotFound): namespaces "nope" not found'
    status, body = apiserver.api("DELETE", "/api/v1/namespaces/x")
    assert status == 404 and body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'namespaces "x" not found', "reason": "NotFound", "details": {"name": "x", "kind": "namespaces"},
        "code": 404}
    status, body = apiserver.api("GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert body["message"] == 'deployments.apps "web" not found' and body["details"]["group"] == "apps"


def test_create_already_exists_with_protobuf_bodies(kubectl, apiserver):
    kubectl("create", "namespace", "team", check=True)
    again = kubectl("create", "namespace", "team")
    assert again.returncode == 1
    assert again.stderr.strip() == 'Error from server (AlreadyExists): namespaces "team" already exists'
    kubectl("create", "secret", "generic", "creds", "-n", "team", "--from-literal=token=s3cr3t", check=True)
    kubectl("create", "configmap", "settings", "-n", "team", "--from-literal=mode=fast", check=True)
    kubectl("create", "serviceaccount", "robot", "-n", "team", check=True)
    assert names(kubectl("get", "sa", "-n", "team", "-o", "name", check=True)) == ["default", "robot"]
    secret = json.loads(kubectl("get", "secret", "creds", "-n", "team", "-o", "json", check=True).stdout)
    assert secret["data"] == {"token": "czNjcjN0"} and secret["type"] == "Opaque"
    assert "generateName" not in secret["metadata"]
    settings = json.loads(kubectl("get", "cm", "settings", "-n", "team", "-o", "json", check=True).stdout)
    assert settings["data"] == {"mode": "fast"}
    posts = [r for r in apiserver.requests() if r["method"] == "POST"]
    assert all(r["content_type"] == "application/vnd.kubernetes.protobuf" for r in posts)
    missing_ns = kubectl("create", "configmap", "x", "-n", "ghost")
    assert missing_ns.returncode == 1 and 'namespaces "ghost" not found' in missing_ns.stderr


# ---------------------------------------------------------------------------------------- writes

def test_server_side_apply_creates_then_updates(kubectl, apiserver):
    apiserver.ready_nodes()
    manifest = textwrap.dedent("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default, labels: {app: web, stale: "yes"}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: main, image: "nginx:%s"}]}
    """)
    args = ("apply", "--server-side", "--force-conflicts", "-f", "-", "-o", "json", "--show-managed-fields")
    first = json.loads(kubectl(*args, input=manifest % "1.0", check=True).stdout)
    meta = first["metadata"]
    assert meta["generation"] == 1 and meta["uid"] and meta["creationTimestamp"]
    assert [m["manager"] for m in meta["managedFields"]] == ["kubectl"]
    second = json.loads(kubectl(*args, input=(manifest % "2.0").replace(', stale: "yes"', ""), check=True).stdout)
    assert second["metadata"]["uid"] == meta["uid"]
    assert second["metadata"]["generation"] == 2
    assert int(second["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert second["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2.0"
    assert second["metadata"]["labels"] == {"app": "web"}  # a field the applier dropped is removed
    settled = kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.resourceVersion}", check=True).stdout
    unchanged = json.loads(kubectl(*args, input=(manifest % "2.0").replace(', stale: "yes"', ""),
                                   check=True).stdout)
    assert unchanged["metadata"]["resourceVersion"] == settled  # a no-op apply writes nothing
    kubectl("rollout", "status", "deployment/web", "--timeout=10s", check=True)
    kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=10s", check=True)
    patched = apiserver.api("PATCH", "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kubectl",
                            b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
                            "application/apply-patch+yaml")
    assert patched[0] == 200 and patched[1]["spec"]["replicas"] == 3  # YAML apply bodies


def test_client_side_apply_patch_and_conflicts(kubectl, apiserver):
    kubectl("apply", "-f", "-", input=json.dumps(cm("app", data={"a": "1", "b": "2"})), check=True)
    out = kubectl("apply", "-f", "-", input=json.dumps(cm("app", data={"a": "1", "c": "3"})), check=True)
    assert "configmap/app configured" in out.stdout
    kubectl("patch", "cm", "app", "--type=json", "-p", '[{"op":"add","path":"/data/d","value":"4"}]', check=True)
    kubectl("patch", "cm", "app", "-p", '{"data":{"a":null}}', check=True)
    kubectl("label", "cm", "app", "team=core", check=True)
    data = json.loads(kubectl("get", "cm", "app", "-o", "json", check=True).stdout)
    assert data["data"] == {"c": "3", "d": "4"} and data["metadata"]["labels"] == {"team": "core"}
    conflict = kubectl("apply", "--server-side", "-f", "-", input=json.dumps(cm("app", data={"c": "9"})))
    assert conflict.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1' in conflict.stderr
    assert ": .data.c" in conflict.stderr
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(cm("app", data={"c": "9"})),
            check=True)
    status, body = apiserver.api("POST", "/api/v1/namespaces/default/configmaps", cm("app"))
    assert status == 409 and body["reason"] == "AlreadyExists"
    assert body["message"] == 'configmaps "app" already exists'


def test_status_subresource_and_raw_admin_objects(apiserver):
    base = "/apis/apps/v1/namespaces/default/deployments"
    deployment = json.loads(workload("Deployment", "api", "default"))
    deployment["status"] = {"replicas": 99}
    status, created = apiserver.api("POST", base, deployment)
    assert status == 201 and "replicas" not in created.get("status", {})  # status is not settable on create
    apiserver.admin("POST", "controllers", {"kind": "Deployment", "enabled": False})
    status, live = apiserver.api("GET", f"{base}/api/status")
    live["status"] = {"observedGeneration": 1, "replicas": 7}
    live["spec"]["replicas"] = 5  # ignored through /status
    status, put = apiserver.api("PUT", f"{base}/api/status", live)
    assert status == 200 and put["status"]["replicas"] == 7 and put["spec"]["replicas"] == 1
    status, patched = apiserver.api("PATCH", f"{base}/api/status", {"status": {"readyReplicas": 3}},
                                    "application/merge-patch+json")
    assert patched["status"] == {"observedGeneration": 1, "replicas": 7, "readyReplicas": 3}
    patched["status"] = {"replicas": 0}
    patched["spec"]["replicas"] = 4
    status, main = apiserver.api("PUT", f"{base}/api", patched)  # the main resource ignores status
    assert main["status"]["replicas"] == 7 and main["spec"]["replicas"] == 4 and main["metadata"]["generation"] == 2
    stale = dict(main, metadata={**main["metadata"], "resourceVersion": "1"})
    status, body = apiserver.api("PUT", f"{base}/api", stale)
    assert status == 409 and body["message"] == (
        'Operation cannot be fulfilled on deployments.apps "api": the object has been modified; '
        "please apply your changes to the latest version and try again")
    assert apiserver.admin("DELETE", "objects?apiVersion=apps/v1&kind=Deployment&namespace=default&name=api") == {
        "deleted": True}
    assert apiserver.api("GET", f"{base}/api")[0] == 404
    assert apiserver.objects(kind="ReplicaSet") == []  # nothing left behind


def test_service_cluster_ips_come_from_the_service_cidr(apiserver, kubectl):
    service = lambda name, ip: json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                                           "spec": {"clusterIP": ip, "ports": [{"port": 53}]}})
    assert apiserver.objects(kind="Service", name="kubernetes")[0]["spec"]["clusterIP"] == "10.96.0.1"
    kubectl("apply", "--server-side", "-f", "-", input=service("dns", "10.96.0.10"), check=True)
    taken = kubectl("apply", "--server-side", "-f", "-", input=service("dns2", "10.96.0.10"))
    assert ('The Service "dns2" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to '
            "allocate IP 10.96.0.10: provided IP is already allocated") in taken.stderr
    outside = kubectl("apply", "--server-side", "-f", "-", input=service("dns3", "10.43.0.10"))
    assert ("failed to allocate IP 10.43.0.10: the provided IP (10.43.0.10) is not in the valid range. "
            "The range of valid IPs is 10.96.0.0/12") in outside.stderr


def test_namespace_delete_removes_its_objects(kubectl, apiserver):
    kubectl("create", "namespace", "doomed", check=True)
    apiserver.seed(cm("one", "doomed"), cm("two", "doomed"))
    kubectl("delete", "namespace", "doomed", "--timeout=10s", check=True)
    assert apiserver.objects(namespace="doomed") == []
    assert kubectl("get", "ns", "doomed").returncode == 1


# ---------------------------------------------------------------------------------------- CRDs, waits

@pytest.mark.parametrize("scope", ["Namespaced", "Cluster"])
def test_crd_becomes_served_and_custom_resources_work(kubectl, scope):
    kubectl("apply", "--server-side", "-f", "-", input=CRD % {"scope": scope}, check=True)
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s", check=True)
    resources = kubectl("api-resources", "--api-group=example.com", "-o", "wide", check=True).stdout
    assert "widgets" in resources and "Widget" in resources
    assert ("true" if scope == "Namespaced" else "false") in resources.split("\n")[1]
    ns_args = ("-n", "default") if scope == "Namespaced" else ()
    done = threading.Event()

    def create_later():
        time.sleep(1.0)
        kubectl("apply", "-f", "-", *ns_args,
                input="apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n")
        done.set()

    thread = threading.Thread(target=create_later)
    thread.start()
    kubectl("wait", "--for=create", "widget/w1", *ns_args, "--timeout=10s", check=True)
    thread.join()
    got = json.loads(kubectl("get", "wd", "w1", *ns_args, "-o", "json", check=True).stdout)
    assert got["spec"] == {"size": 3} and got["metadata"]["generation"] == 1
    assert ("namespace" in got["metadata"]) == (scope == "Namespaced")
    kubectl("delete", "widget", "w1", *ns_args, check=True)
    gone = kubectl("get", "widget", "w1", *ns_args)
    assert gone.returncode == 1 and 'widgets.example.com "w1" not found' in gone.stderr
    kubectl("delete", "crd", "widgets.example.com", check=True)
    assert "widgets" not in kubectl("api-resources", "-o", "name").stdout


def test_crd_established_after_a_delay(apiserver, kubectl):
    apiserver.admin("POST", "controllers", {"kind": "CustomResourceDefinition", "delay": 2.5})
    started = time.monotonic()
    kubectl("apply", "--server-side", "-f", "-", input=CRD % {"scope": "Namespaced"}, check=True)
    crd = json.loads(kubectl("get", "crd", "widgets.example.com", "-o", "json", check=True).stdout)
    assert not crd.get("status", {}).get("conditions")
    assert kubectl("get", "widgets").returncode == 1  # exists, not yet served
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s", check=True)
    assert time.monotonic() - started >= 2.5
    assert kubectl("get", "widgets", check=True).returncode == 0


def test_flux_objects_get_ready_and_sticky_overrides_hold(apiserver, kubectl):
    apiserver.ready_nodes()
    kubectl("apply", "--server-side", "-f", "-", check=True, input=KUSTOMIZATION_CRD + "---" + GITREPOSITORY_CRD)
    kubectl("wait", "--for=condition=Established", "crd/kustomizations.kustomize.toolkit.fluxcd.io",
            "crd/gitrepositories.source.toolkit.fluxcd.io", check=True)
    kubectl("create", "namespace", "flux-system", check=True)
    kubectl("apply", "--server-side", "-f", "-", input=KUSTOMIZATION % {"path": "./a"}, check=True)
    assert not json.loads(kubectl("get", "ks", "-n", "flux-system", "cluster-apps", "-o", "json",
                                  check=True).stdout).get("status")  # no kustomize-controller runs yet
    for name in ("kustomize-controller", "source-controller"):
        kubectl("apply", "--server-side", "-f", "-", input=workload("Deployment", name, "flux-system"), check=True)
    kubectl("wait", "-n", "flux-system", "--for=condition=Ready=False", "kustomization/cluster-apps", check=True)
    message = kubectl("get", "ks", "-n", "flux-system", "cluster-apps",
                      "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].message}', check=True).stdout
    assert message == "Source 'GitRepository/flux-system/flux-system' not found"
    kubectl("apply", "--server-side", "-f", "-", input=GITREPOSITORY, check=True)
    kubectl("wait", "-n", "flux-system", "--for=condition=Ready", "kustomization/cluster-apps",
            "gitrepository/flux-system", "--timeout=10s", check=True)
    ks = json.loads(kubectl("get", "ks", "-n", "flux-system", "cluster-apps", "-o", "json", check=True).stdout)
    ready = next(c for c in ks["status"]["conditions"] if c["type"] == "Ready")
    assert ready["observedGeneration"] == ks["metadata"]["generation"] == ks["status"]["observedGeneration"]
    apiserver.set_condition("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "cluster-apps", "Ready", "False",
                            namespace="flux-system", reason="BuildFailed", message="kustomize build failed")
    kubectl("wait", "-n", "flux-system", "--for=condition=Ready=False", "kustomization/cluster-apps",
            "--timeout=10s", check=True)
    kubectl("apply", "--server-side", "-f", "-", input=KUSTOMIZATION % {"path": "./b"}, check=True)  # generation 2
    ks = json.loads(kubectl("get", "ks", "-n", "flux-system", "cluster-apps", "-o", "json", check=True).stdout)
    ready = next(c for c in ks["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "BuildFailed", "kustomize build failed")
    assert ready["observedGeneration"] == 2
    table = kubectl("get", "ks", "-n", "flux-system", check=True).stdout
    assert table.split("\n")[0].split() == ["NAME", "READY", "AGE"] and "False" in table
    apiserver.admin("DELETE", "conditions", {"kind": "Kustomization"})
    kubectl("wait", "-n", "flux-system", "--for=condition=Ready", "kustomization/cluster-apps", "--timeout=10s",
            check=True)


def workload(kind: str, name: str, namespace: str = "kube-system", host_network: bool = False,
             tolerate_all: bool = False) -> str:
    """A minimal Deployment/DaemonSet manifest."""
    spec = {"containers": [{"name": "main", "image": f"{name}:1"}]}
    if host_network:
        spec["hostNetwork"] = True
    if tolerate_all:
        spec["tolerations"] = [{"operator": "Exists"}]
    body = {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}
    return json.dumps({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace},
                       "spec": body})


def test_nodes_turn_ready_when_a_cni_runs_and_pods_wait_for_them(apiserver, kubectl):
    apiserver.seed(*({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": n, "labels": {"node-role.kubernetes.io/control-plane": ""}}} for n in ("cp1", "cp2")))
    kubectl("wait", "--for=condition=Ready=False", "node/cp1", "--timeout=5s", check=True)
    kubectl("apply", "--server-side", "-f", "-", input=workload("Deployment", "coredns"), check=True)
    assert kubectl("rollout", "status", "-n", "kube-system", "deploy/coredns", "--timeout=1s").returncode == 1
    pods = json.loads(kubectl("get", "pods", "-n", "kube-system", "-l", "app=coredns", "-o", "json",
                              check=True).stdout)["items"]
    assert [p["status"]["phase"] for p in pods] == ["Pending"]
    assert "untolerated taint {node.kubernetes.io/not-ready: }" in pods[0]["status"]["conditions"][0]["message"]
    kubectl("apply", "--server-side", "-f", "-", check=True,
            input=workload("DaemonSet", "cilium", host_network=True, tolerate_all=True))
    kubectl("wait", "--for=condition=Ready", "node/cp1", "node/cp2", "--timeout=10s", check=True)
    kubectl("rollout", "status", "-n", "kube-system", "daemonset/cilium", "--timeout=10s", check=True)
    kubectl("rollout", "status", "-n", "kube-system", "deploy/coredns", "--timeout=10s", check=True)
    cilium_pods = json.loads(kubectl("get", "pods", "-n", "kube-system", "-l", "app=cilium", "-o", "json",
                                     check=True).stdout)["items"]
    assert sorted(p["spec"]["nodeName"] for p in cilium_pods) == ["cp1", "cp2"]
    assert "control-plane" in kubectl("get", "nodes", check=True).stdout


FLUX_INSTANCE = """
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec:
  distribution: {version: "2.x", registry: ghcr.io/fluxcd}
  sync: {kind: GitRepository, url: "ssh://git@github.com/me/home-ops.git", ref: refs/heads/main,
         path: kubernetes/flux/cluster, pullSecret: flux-system}
"""


def test_flux_instance_installs_flux_and_its_sync_objects(apiserver, kubectl):
    apiserver.ready_nodes()
    kubectl("apply", "--server-side", "-f", "-", check=True, input=CRD.replace("widgets.example.com", (
        "fluxinstances.fluxcd.controlplane.io")).replace("example.com", "fluxcd.controlplane.io").replace(
        "{kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}",
        "{kind: FluxInstance, plural: fluxinstances, singular: fluxinstance}") % {"scope": "Namespaced"})
    kubectl("create", "namespace", "flux-system", check=True)
    kubectl("apply", "--server-side", "-f", "-", input=FLUX_INSTANCE, check=True)
    assert kubectl("wait", "-n", "flux-system", "--for=jsonpath={.status}", "fluxinstance/flux",
                   "--timeout=1s").returncode == 1  # nothing reconciles it without flux-operator
    kubectl("apply", "--server-side", "-f", "-", input=workload("Deployment", "flux-operator", "flux-system"),
            check=True)
    kubectl("wait", "-n", "flux-system", "--for=condition=Ready=False", "gitrepository/flux-system", check=True)
    instance = json.loads(kubectl("get", "fluxinstance", "-n", "flux-system", "flux", "-o", "json", check=True).stdout)
    assert instance["metadata"]["finalizers"] == ["fluxcd.controlplane.io/finalizer"]
    ready = next(c for c in instance["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["message"]) == ("Unknown", "Reconciliation in progress")  # waits for the sync
    kubectl("create", "secret", "generic", "flux-system", "-n", "flux-system", "--from-literal=identity=x",
            check=True)
    kubectl("wait", "-n", "flux-system", "--for=condition=Ready", "fluxinstance/flux", "kustomization/flux-system",
            "gitrepository/flux-system", "--timeout=10s", check=True)
    repo = json.loads(kubectl("get", "gitrepo", "-n", "flux-system", "flux-system", "-o", "json", check=True).stdout)
    assert repo["spec"]["ref"] == {"name": "refs/heads/main"} and repo["spec"]["secretRef"] == {"name": "flux-system"}
    assert repo["metadata"]["labels"]["fluxcd.controlplane.io/name"] == "flux"
    ks = json.loads(kubectl("get", "ks", "-n", "flux-system", "flux-system", "-o", "json", check=True).stdout)
    assert ks["spec"]["path"] == "kubernetes/flux/cluster" and ks["spec"]["interval"] == "10m0s"
    assert ks["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    deployments = names(kubectl("get", "deploy", "-n", "flux-system", "-o", "name", check=True))
    assert deployments == ["flux-operator", "helm-controller", "kustomize-controller", "notification-controller",
                           "source-controller"]
    assert "helmreleases" in kubectl("api-resources", "--api-group=helm.toolkit.fluxcd.io", check=True).stdout
    status = json.loads(kubectl("get", "fluxinstance", "-n", "flux-system", "flux", "-o", "json", check=True).stdout)
    assert status["status"]["lastAppliedRevision"].startswith("v2.8.7@sha256:")
    kubectl("patch", "fluxinstance", "-n", "flux-system", "flux", "--type=merge", "-p",
            '{"spec": {"components": ["source-controller", "kustomize-controller", "helm-controller"]}}', check=True)
    assert "notification-controller" not in kubectl("get", "deploy", "-n", "flux-system", check=True).stdout  # pruned
    kubectl("delete", "fluxinstance", "-n", "flux-system", "flux", "--timeout=10s", check=True)  # uninstalls Flux
    assert names(kubectl("get", "deploy", "-n", "flux-system", "-o", "name", check=True)) == ["flux-operator"]
    assert "helmreleases" not in kubectl("api-resources", "-o", "name", check=True).stdout


def test_controllers_can_be_switched_off(apiserver, kubectl):
    apiserver.ready_nodes()
    apiserver.admin("POST", "controllers", {"kind": "Deployment", "enabled": False})
    kubectl("apply", "--server-side", "-f", "-", input=workload("Deployment", "web", "default"), check=True)
    assert kubectl("rollout", "status", "deploy/web", "--timeout=1s").returncode == 1
    assert apiserver.admin("GET", "controllers")["disabled"] == ["Deployment"]
    apiserver.admin("POST", "controllers", {"kind": "Deployment", "enabled": True})
    kubectl("rollout", "status", "deploy/web", "--timeout=10s", check=True)


def test_faults_and_request_log(apiserver, kubectl):
    apiserver.admin("DELETE", "requests")
    apiserver.admin("POST", "faults", {"method": "GET", "path": r"^/api/v1/namespaces/default$", "code": 503,
                                       "message": "etcd is sad", "times": 1})
    failed = kubectl("get", "ns", "default")
    assert failed.returncode == 1 and "etcd is sad" in failed.stderr
    assert kubectl("get", "ns", "default").returncode == 0
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(cm("logged")), check=True)
    log = apiserver.requests()
    assert any(r["method"] == "PATCH" and r["content_type"] == "application/apply-patch+yaml"
               and r["path"] == "/api/v1/namespaces/default/configmaps/logged" for r in log)
    assert apiserver.admin("GET", "requests/count")["count"] == len(log)
    assert apiserver.admin("DELETE", "requests") == {"count": 0}


# ---------------------------------------------------------------------------------------- helm

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "image: nginx:1.0\nmessage: hello\n",
    "templates/all.yaml": textwrap.dedent("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: {{ .Release.Name }}-config}
        data: {message: {{ .Values.message | quote }}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: {{ .Release.Name }}}
        spec: {selector: {app: tiny}, ports: [{port: 80, targetPort: 8080}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{ .Release.Name }}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: tiny}}
          template:
            metadata: {labels: {app: tiny}}
            spec:
              containers:
              - {name: main, image: {{ .Values.image | quote }}, ports: [{containerPort: 8080}], env: [{name: A, value: "1"}]}
    """),
}


@pytest.fixture
def chart(tmp_path):
    """A tiny local chart."""
    root = tmp_path / "chart"
    for rel, text in CHART.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_helm_install_upgrade_uninstall_with_secret_storage(helm, kubectl, chart, apiserver):
    apiserver.ready_nodes()
    helm("install", "tiny", chart, "-n", "apps", "--create-namespace", "--wait", "--timeout", "30s", check=True)
    releases = json.loads(helm("list", "-A", "-o", "json", check=True).stdout)
    assert [(r["name"], r["namespace"], r["status"], r["revision"]) for r in releases] == [
        ("tiny", "apps", "deployed", "1")]
    helm("upgrade", "tiny", chart, "-n", "apps", "--set", "image=nginx:2.0", "--set", "message=bye", "--wait",
         "--timeout", "30s", check=True)
    dep = json.loads(kubectl("get", "deploy", "tiny", "-n", "apps", "-o", "json", check=True).stdout)
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:2.0" and container["ports"] == [{"containerPort": 8080}]
    assert container["env"] == [{"name": "A", "value": "1"}]  # strategic merge kept the untouched fields
    assert kubectl("get", "cm", "tiny-config", "-n", "apps", "-o", "jsonpath={.data.message}").stdout == "bye"
    secrets = names(kubectl("get", "secrets", "-A", "-l", "owner=helm", "-o", "name", check=True))
    assert secrets == ["sh.helm.release.v1.tiny.v1", "sh.helm.release.v1.tiny.v2"]
    status = json.loads(helm("status", "tiny", "-n", "apps", "-o", "json", check=True).stdout)
    assert status["info"]["status"] == "deployed" and status["version"] == 2
    assert any(r["content_type"] == "application/vnd.kubernetes.protobuf" for r in apiserver.requests())
    helm("uninstall", "tiny", "-n", "apps", "--wait", check=True)
    assert json.loads(helm("list", "-A", "-o", "json", check=True).stdout) == []
    assert names(kubectl("get", "deploy,cm,svc,secrets", "-n", "apps", "-o", "name", check=True)) == []


# ---------------------------------------------------------------------------------------- restart

def test_state_survives_a_restart(apiserver_process, world_binaries, chart, tmp_path):
    api = apiserver_process
    env = tool_env(tmp_path / "home", api.kubeconfig)
    kubectl = lambda *a, **k: run_tool(world_binaries["kubectl"], a, env, **k)
    helm = lambda *a, **k: run_tool(world_binaries["helm"], a, env, **k)
    helm("install", "tiny", chart, "-n", "apps", "--create-namespace", check=True)
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(cm("keep", data={"k": "v"})), check=True)
    before = json.loads(kubectl("get", "cm", "keep", "-o", "json", check=True).stdout)
    port = api.port
    api.restart()
    assert api.port == port
    after = json.loads(kubectl("get", "cm", "keep", "-o", "json", check=True).stdout)
    assert after == before
    releases = json.loads(helm("list", "-A", "-o", "json", check=True).stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("tiny", "deployed")]
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(cm("keep", data={"k": "w"})), check=True)
    assert int(kubectl("get", "cm", "keep", "-o", "jsonpath={.metadata.resourceVersion}").stdout) > \
        int(before["metadata"]["resourceVersion"])


def test_serving_certificate_names_the_cluster_address(make_apiserver, world_binaries, tmp_path):
    api = make_apiserver(sans=("10.0.48.55",))
    config = tmp_path / "kubeconfig"
    text = api.kubeconfig.read_text().replace("certificate-authority-data",
                                              "tls-server-name: 10.0.48.55\n    certificate-authority-data")
    config.write_text(text)
    env = tool_env(tmp_path / "home", config)
    run_tool(world_binaries["kubectl"], ["get", "ns", "default"], env, check=True)
