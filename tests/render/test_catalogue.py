"""What the artifacts say to a real cluster: the Talos configs, Helm values, manifests and helmfiles
rendered in memory from the shipped settings and edited variants."""
from __future__ import annotations

import yaml

from tasks.render import catalogue
from tests.variants import cluster_of, shipped, variant  # noqa: F401  (fixtures)


def rendered(cluster, target: str) -> list:
    """The documents of one artifact."""
    artifact = next(a for a in catalogue.cluster_catalogue(cluster) if a.target == target)
    return [d for d in yaml.safe_load_all(catalogue.render_artifact(cluster, artifact)) if d is not None]


def machine(cluster, node: str) -> dict:
    return rendered(cluster, f"talos/{node}.yaml")[0]


def test_every_node_keeps_unpacked_layers_for_spegel(shipped):
    cluster = cluster_of(shipped)
    for node in cluster.nodes:
        [part] = machine(cluster, node.name)["machine"]["files"]
        assert (part["op"], part["path"]) == ("create", "/etc/cri/conf.d/20-customization.part")
        assert part["content"] == '[plugins."io.containerd.cri.v1.images"]\n  discard_unpacked_layers = false\n'


def test_without_spegel_there_is_no_cri_customization(variant):
    cluster, _ = variant(lambda s: s["spegel"].update(enabled=False))
    assert "files" not in machine(cluster, "cp-1")["machine"]


def test_control_planes_schedule_workloads_only_without_workers(shipped, variant):
    assert machine(cluster_of(shipped), "cp-1")["cluster"]["allowSchedulingOnControlPlanes"] is False
    alone, _ = variant(lambda s: s["talos"].update(nodes=[n for n in s["talos"]["nodes"] if n["role"] == "controlplane"]))
    assert machine(alone, "cp-1")["cluster"]["allowSchedulingOnControlPlanes"] is True
    forced, _ = variant(lambda s: s["talos"].update(schedulingOnControlPlanes=True))
    assert machine(forced, "cp-2")["cluster"]["allowSchedulingOnControlPlanes"] is True


def test_every_kubernetes_component_runs_kubernetes_version(variant):
    cluster, _ = variant(lambda s: s["talos"].update(kubernetesVersion="v1.35.2"))
    config = machine(cluster, "cp-1")
    assert config["machine"]["kubelet"]["image"] == "ghcr.io/siderolabs/kubelet:v1.35.2"
    assert [config["cluster"][c]["image"] for c in ("apiServer", "controllerManager", "scheduler")] == [
        "registry.k8s.io/kube-apiserver:v1.35.2", "registry.k8s.io/kube-controller-manager:v1.35.2",
        "registry.k8s.io/kube-scheduler:v1.35.2"]
    assert machine(cluster, "worker-1")["machine"]["kubelet"]["image"].endswith(":v1.35.2")


def test_a_pool_inside_the_node_subnet_is_announced_on_the_vlan_interface(shipped, variant):
    cluster = cluster_of(shipped)
    assert rendered(cluster, "values/cilium.yaml")[0]["l2announcements"] == {"enabled": True}
    [policy] = [d for d in rendered(cluster, "manifests/cilium-network.yaml") if d["kind"] == "CiliumL2AnnouncementPolicy"]
    assert policy["apiVersion"] == "cilium.io/v2alpha1"
    assert policy["spec"] == {"loadBalancerIPs": True, "interfaces": ["^bond0\\.48$"]}
    assert any(d["kind"] == "CiliumBGPClusterConfig" for d in rendered(cluster, "manifests/cilium-network.yaml"))
    routed, _ = variant(lambda s: s["cilium"]["loadBalancer"].update(l2Announcements=False))
    assert rendered(routed, "values/cilium.yaml")[0]["l2announcements"] == {"enabled": False}
    assert not any(d["kind"] == "CiliumL2AnnouncementPolicy" for d in rendered(routed, "manifests/cilium-network.yaml"))


def test_coredns_is_a_critical_addon_and_spegel_leaves_the_node_port_range(shipped):
    cluster = cluster_of(shipped)
    coredns = rendered(cluster, "values/coredns.yaml")[0]
    assert coredns["priorityClassName"] == "system-cluster-critical"
    assert {"key": "CriticalAddonsOnly", "operator": "Exists"} in coredns["tolerations"]
    assert rendered(cluster, "values/spegel.yaml")[0]["service"]["registry"]["hostPort"] == 29999


def test_releases_template_their_crds_as_gitops_trees_do(shipped):
    cluster = cluster_of(shipped)
    assert rendered(cluster, "values/cert-manager.yaml")[0]["crds"] == {"enabled": True, "keep": True}
    assert rendered(cluster, "values/external-secrets.yaml")[0]["installCRDs"] is True
    assert rendered(cluster, "values/flux-operator.yaml")[0]["installCRDs"] is True


def test_the_flux_instance_owns_the_sync(shipped):
    sync = rendered(cluster_of(shipped), "values/flux-instance.yaml")[0]["instance"]["sync"]
    assert sync == {"kind": "GitRepository", "url": "ssh://git@github.com/example/home-ops.git",
                    "ref": "refs/heads/main", "path": "kubernetes/flux/cluster", "interval": "1h",
                    "pullSecret": "flux-system"}


def test_helmfiles_are_plain_yaml_with_the_release_defaults(shipped, monkeypatch):
    monkeypatch.delenv("BOOTSTRAP_CHART_SOURCE", raising=False)
    cluster = cluster_of(shipped)
    [apps] = rendered(cluster, "helmfile/01-apps.yaml")
    assert apps["helmDefaults"] == {"wait": True, "waitForJobs": True, "cleanupOnFail": True, "timeout": 600}
    assert [r["name"] for r in apps["releases"]] == [r.name for r in cluster.releases]
    assert apps["releases"][0]["chart"] == "oci://quay.io/cilium/charts/cilium"
    [crds] = rendered(cluster, "helmfile/00-crds.yaml")
    assert [r["name"] for r in crds["releases"]] == ["cert-manager", "external-secrets", "flux-operator",
                                                      "envoy-gateway"]
    assert crds["releases"][2]["postRendererArgs"] == ["--release", "flux-operator", "--namespace", "flux-system"]
    monkeypatch.setenv("BOOTSTRAP_CHART_SOURCE", "/charts")
    [local] = rendered(cluster, "helmfile/01-apps.yaml")
    assert local["helmDefaults"]["skipDeps"] is True and local["releases"][0]["chart"] == "/charts/cilium-1.19.4"
    assert "repositories" not in local and "version" not in local["releases"][0]
