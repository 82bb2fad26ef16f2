"""Contract tests: the REAL helm installs the REAL upstream charts (../shared/charts) with the values
`doit render` writes, `--wait --wait-for-jobs`, against the world's fake API server, in the bootstrap's
order and after its steps 2 and 3 (tests/world/releases.py); skipped (failed in CI) without the charts."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
import yaml

from tests.project import require_shared
from tests.world.fixtures import ApiHandle, tool_env
from tests.world.releases import Release, Tools, register_nodes, releases

ORDER = ["cilium", "coredns", "spegel", "cert-manager", "external-secrets", "onepassword-connect", "kube-vip",
         "flux-operator", "flux-instance"]


@dataclass
class Cluster:
    """A fake API server with the example's nodes, and the tools and releases to install on it."""

    api: ApiHandle
    tools: Tools
    releases: dict[str, Release]
    values: object  # build/values of the rendered project
    results: dict = field(default_factory=dict)
    elapsed: float = 0.0

    def install(self, name: str, *extra: str, timeout: str = "120s"):
        return self.tools.install(self.releases[name], self.values / f"{name}.yaml", *extra, timeout=timeout)

    def objects(self, kind: str, namespace: str = "") -> list[dict]:
        return self.api.objects(kind=kind, **({"namespace": namespace} if namespace else {}))


def _cluster(directory, world_binaries, project) -> Cluster:
    """A started fake API server with the nodes of bootstrap/values/talos.yaml registered."""
    common = yaml.safe_load(project.path("bootstrap/values/common.yaml").read_text())
    api = ApiHandle(directory / "apiserver", service_cidr=common["network"]["serviceSubnet"]).start()
    register_nodes(api.info, project.root)
    tools = Tools(world_binaries, tool_env(directory / "home", api.kubeconfig))
    by_name = {r.name: r for r in releases(project.root, require_shared("charts"))}
    return Cluster(api, tools, by_name, project.path("build/values"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, world_binaries, rendered_template):
    """Steps 2 and 3, then the nine releases installed in order (results and elapsed time kept)."""
    require_shared("charts")
    cluster = _cluster(tmp_path_factory.mktemp("charts"), world_binaries, rendered_template)
    cluster.tools.seed_resources(rendered_template.root)
    cluster.tools.seed_crds(cluster.releases)
    started = time.monotonic()
    for name in cluster.releases:
        cluster.results[name] = cluster.install(name)
    cluster.elapsed = time.monotonic() - started
    yield cluster
    cluster.api.stop()


@pytest.fixture
def fresh(tmp_path, world_binaries, rendered_template):
    """A new cluster with its nodes and Cilium (so pods can run), nothing seeded."""
    require_shared("charts")
    cluster = _cluster(tmp_path, world_binaries, rendered_template)
    assert cluster.install("cilium").returncode == 0
    yield cluster
    cluster.api.stop()


def test_the_releases_are_the_nine_of_the_bootstrap_in_order(installed):
    assert list(installed.releases) == ORDER
    assert installed.elapsed < 60, f"the nine releases took {installed.elapsed:.1f}s"


@pytest.mark.parametrize("name", ORDER)
def test_release_installs_with_wait_and_wait_for_jobs(installed, name):
    result = installed.results[name]
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(installed.tools.helm("status", name, "-n", installed.releases[name].namespace,
                                             "-o", "json").stdout)
    assert (status["info"]["status"], status["version"]) == ("deployed", 1)


def test_pods_run_where_taints_and_selectors_let_them(installed):
    nodes = lambda label: sorted({p["spec"]["nodeName"] for p in installed.objects("Pod")
                                  if p["metadata"]["name"].startswith(label)})
    assert nodes("kube-vip-") == ["cp-1", "cp-2", "cp-3"]  # nodeSelector: control planes only
    assert nodes("cilium-") == ["cp-1", "cp-2", "cp-3", "worker-1"]
    assert nodes("cert-manager-") == ["worker-1"]  # no toleration for the control-plane taint
    assert all(p["status"]["phase"] == "Running" for p in installed.objects("Pod"))
    assert all(c["status"] == "True" for n in installed.objects("Node") for c in n["status"]["conditions"]
               if c["type"] == "Ready")


def test_cilium_operator_registered_its_crds_and_the_network_manifest_applies(installed, rendered_template):
    crds = {c["metadata"]["name"]: c for c in installed.objects("CustomResourceDefinition")}
    cilium = sorted(n for n in crds if n.endswith(".cilium.io"))
    assert len(cilium) == 21 and "ciliuml2announcementpolicies.cilium.io" in cilium
    pool = next(v for v in crds["ciliumloadbalancerippools.cilium.io"]["spec"]["versions"] if v["name"] == "v2")
    assert "blocks" in pool["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    manifest = rendered_template.path("build/manifests/cilium-network.yaml").read_text()
    installed.tools.kubectl("apply", "--server-side", "-f", "-", input=manifest)


def test_cert_manager_startupapicheck_hook_ran_and_was_deleted(installed):
    log = installed.api.requests()
    job = "/apis/batch/v1/namespaces/cert-manager/jobs"
    assert any(r["method"] == "POST" and r["path"] == job for r in log)
    assert any(r["method"] == "DELETE" and r["path"] == f"{job}/cert-manager-startupapicheck" for r in log)
    assert installed.objects("Job", "cert-manager") == []


def test_flux_instance_is_ready_with_the_components_of_its_values(installed):
    installed.tools.kubectl("wait", "-n", "flux-system", "--for=condition=Ready", "fluxinstance/flux",
                            "--timeout=10s")
    values = yaml.safe_load((installed.values / "flux-instance.yaml").read_text())
    deployments = {d["metadata"]["name"] for d in installed.objects("Deployment", "flux-system")}
    assert deployments == {"flux-operator", *values["instance"]["components"]}


def test_webhooks_refuse_while_their_service_has_no_ready_endpoint(installed, rendered_template):
    issuer = rendered_template.path("build/manifests/cluster-issuer.yaml").read_text()
    scale = lambda n: installed.tools.kubectl("scale", "-n", "cert-manager", "deploy/cert-manager-webhook",
                                              f"--replicas={n}")
    scale(0)
    refused = installed.tools.kubectl("apply", "--server-side", "-f", "-", input=issuer, check=False)
    assert ('Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: '
            'Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": '
            'no endpoints available for service "cert-manager-webhook"') in refused.stderr
    scale(1)
    installed.tools.kubectl("rollout", "status", "-n", "cert-manager", "deploy/cert-manager-webhook", "--timeout=10s")
    installed.tools.kubectl("apply", "--server-side", "-f", "-", input=issuer)


@pytest.mark.parametrize("name", ORDER)
def test_upgrade_again_succeeds(installed, name):
    result = installed.install(name)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(installed.tools.helm("status", name, "-n", installed.releases[name].namespace,
                                             "-o", "json").stdout)
    assert (status["info"]["status"], status["version"]) == ("deployed", 2)


def test_spegel_uninstall_runs_its_post_delete_hooks(installed):
    installed.api.admin("DELETE", "requests")
    result = installed.tools.helm("uninstall", "spegel", "-n", "kube-system", "--wait", "--timeout", "60s")
    assert result.returncode == 0, result.stderr
    deleted = {r["path"].rsplit("/", 2)[-2:][1] for r in installed.api.requests() if r["method"] == "DELETE"}
    assert {"spegel-cleanup", "spegel-cleanup-wait"} <= deleted  # hook-succeeded: created, waited on, deleted
    assert [p for p in installed.objects("Pod", "kube-system") if p["metadata"]["name"].startswith("spegel")] == []


def test_charts_that_template_their_crds_install_them(fresh):
    for name, flag in (("cert-manager", "crds.enabled=true"), ("external-secrets", "installCRDs=true"),
                       ("flux-operator", "installCRDs=true")):
        result = fresh.install(name, "--set", flag)
        assert result.returncode == 0, result.stdout + result.stderr
    owned = {c["metadata"]["name"] for c in fresh.objects("CustomResourceDefinition")
             if c["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") == "Helm"}
    assert {"certificates.cert-manager.io", "clustersecretstores.external-secrets.io",
            "fluxinstances.fluxcd.controlplane.io"} <= owned


def test_seeded_crds_block_the_chart_until_labelled_for_adoption(fresh):
    fresh.tools.seed_crds(fresh.releases, owned=False)
    refused = fresh.install("cert-manager", "--set", "crds.enabled=true")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: Unable to continue with install: CustomResourceDefinition ")
    assert ('in namespace "" exists and cannot be imported into the current release: invalid ownership metadata; '
            'annotation validation error: missing key "meta.helm.sh/release-name": must be set to "cert-manager"'
            ) in refused.stderr  # the templates' labels came along (managed-by: Helm), the annotations did not
    crds = [c["metadata"]["name"] for c in fresh.objects("CustomResourceDefinition")
            if c["metadata"]["name"].endswith("cert-manager.io")]
    fresh.tools.kubectl("annotate", "crd", *crds, "meta.helm.sh/release-name=cert-manager",
                        "meta.helm.sh/release-namespace=cert-manager")
    adopted = fresh.install("cert-manager", "--set", "crds.enabled=true")
    assert adopted.returncode == 0, adopted.stderr


def test_wait_waits_for_what_the_pods_need(fresh, rendered_template):
    no_crds = fresh.install("cert-manager", "--set", "crds.enabled=false", timeout="5s")  # its hook waits for the CRDs
    assert no_crds.returncode == 1 and "post-install" in no_crds.stderr
    said = fresh.tools.kubectl("get", "events", "-n", "cert-manager", "--field-selector=reason=ProgramWaiting",
                               "-o", "jsonpath={.items[*].message}").stdout
    assert "Not ready: the cert-manager CRDs are not yet installed on the Kubernetes API server" in said
    no_secret = fresh.install("onepassword-connect", timeout="3s")
    assert no_secret.returncode == 1 and "context deadline exceeded" in no_secret.stderr
    events = fresh.tools.kubectl("get", "events", "-n", "external-secrets", "-o", "json").stdout
    assert 'MountVolume.SetUp failed for volume \\"credentials\\" : secret \\"onepassword-secret\\" not found' in events
    fresh.tools.seed_resources(rendered_template.root)
    assert fresh.install("onepassword-connect").returncode == 0
