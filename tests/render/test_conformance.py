"""Conformance of rendered output to the upstream JSON Schemas, served from a loopback mirror."""

from __future__ import annotations

import warnings

import pytest
import yaml

from tasks import paths as repo_paths
from tasks.problems import Findings
from tasks.render import schema_catalog, schema_store
from tasks.render.conformance import check_helm_values, check_kubernetes_objects, check_talos_documents
from tests.project import require_shared
from tests.schema_mirror import SHARED_SCHEMAS, closed_port_url

TALOS = "v1.13.9"

NODE_YAML = """
version: v1alpha1
debug: false
machine:
  type: controlplane
  token: abcdef.0123456789abcdef
  certSANs: [10.0.48.55]
  install:
    disk: /dev/sda
    image: factory.talos.dev/installer/abc:v1.13.9
    wipe: false
  kubelet:
    nodeIP:
      validSubnets: [10.0.48.0/24]
  nodeLabels:
    topology.kubernetes.io/zone: rack-1
cluster:
  clusterName: home
  controlPlane:
    endpoint: https://10.0.48.55:6443
  network:
    cni:
      name: none
  proxy:
    disabled: true
---
apiVersion: v1alpha1
kind: HostnameConfig
auto: "off"
hostname: cp-1
---
apiVersion: v1alpha1
kind: BondConfig
name: bond0
links: [enp1s0, enp2s0]
bondMode: 802.3ad
lacpRate: fast
xmitHashPolicy: layer3+4
miimon: 100
---
apiVersion: v1alpha1
kind: VLANConfig
name: bond0.48
parent: bond0
vlanID: 48
addresses: [{address: 10.0.48.11/24}]
routes: [{gateway: 10.0.48.1}]
---
apiVersion: v1alpha1
kind: ResolverConfig
nameservers: [{address: 10.0.48.1}]
"""


def node_docs() -> list[dict]:
    """A fresh copy of the valid control-plane node documents."""
    return list(yaml.safe_load_all(NODE_YAML))


def paths(report: Findings) -> list[str]:
    """The key paths of the problems found."""
    return [p.path for p in report.problems]


def text(report: Findings, index: int = 0) -> str:
    """One problem as the user reads it."""
    return str(report.problems[index])


# --- Talos -------------------------------------------------------------------------------------

def test_valid_talos_node_documents_pass(schema_mirror):
    report = check_talos_documents(node_docs(), TALOS, "build/talos/cp-1.yaml")
    assert report.ok, report.problems
    assert report.warnings == []
    assert report.checked == 5


def test_wrong_type_reports_path_and_expected_vs_found(schema_mirror):
    docs = node_docs()
    docs[0]["machine"]["install"]["disk"] = 0
    docs[3]["vlanID"] = "48"
    report = check_talos_documents(docs, TALOS, "cp-1.yaml")
    assert paths(report) == ["documents[0].machine.install.disk", "documents[3].vlanID"]
    first, second = report.problems
    assert (first.file, first.rule) == ("cp-1.yaml", "upstream-schema")
    assert "expected a string, found integer 0" in str(first)
    assert "expected an integer, found string '48'" in str(second)


def test_unknown_key_is_reported_at_its_own_path(schema_mirror):
    docs = node_docs()
    docs[0]["machine"]["install"]["disks"] = "/dev/sdb"
    report = check_talos_documents(docs, TALOS, "cp-1.yaml")
    assert paths(report) == ["documents[0].machine.install.disks"]
    assert "found unknown key 'disks'" in text(report)
    assert "did you mean 'disk'" in text(report)


def test_deprecated_machine_network_fails_on_1_13_only(schema_mirror):
    docs = node_docs()
    docs[0]["machine"]["network"] = {"kubespan": {"enabled": False}}
    report = check_talos_documents(docs, TALOS, "cp-1.yaml")
    assert paths(report) == ["documents[0].machine.network"]
    assert "HostnameConfig" in report.problems[0].hint  # says what to render instead
    assert check_talos_documents(docs[:1], "v1.12.11", "cp-1.yaml").ok


def test_unknown_kind_is_an_error_naming_it(schema_mirror):
    doc = {"apiVersion": "v1alpha1", "kind": "VlanConfig", "name": "bond0.48"}
    report = check_talos_documents([doc], TALOS, "cp-1.yaml")
    assert not report.ok
    assert "unknown kind 'VlanConfig'" in text(report)
    assert "did you mean 'VLANConfig'" in text(report)


def test_yaml11_boolean_gets_a_hint(schema_mirror):
    docs = list(yaml.safe_load_all("apiVersion: v1alpha1\nkind: HostnameConfig\nauto: off\n"))
    report = check_talos_documents(docs, TALOS, "cp-1.yaml")
    assert paths(report) == ["documents[0].auto"]
    assert "found boolean false" in text(report)
    assert "quote the value" in report.problems[0].hint


def test_document_without_kind_or_version_is_an_error(schema_mirror):
    report = check_talos_documents([{"machine": {}}], TALOS, "cp-1.yaml")
    assert "found neither `kind` nor `version`" in text(report)


# --- Helm values -------------------------------------------------------------------------------

def test_cilium_values_pass_and_fail(schema_mirror):
    good = {"hubble": {"enabled": False}, "ipam": {"mode": "kubernetes"},
            "kubeProxyReplacement": True, "l2announcements": {"enabled": True},
            "bgpControlPlane": {"enabled": True}, "k8sServiceHost": "127.0.0.1", "k8sServicePort": 7445}
    assert check_helm_values(good, "cilium", "1.19.4", "values/cilium.yaml").ok
    report = check_helm_values({"hubble": {"enabled": "no"}}, "cilium", "1.19.4", "values/cilium.yaml")
    assert paths(report) == ["hubble.enabled"]
    assert "expected a boolean, found string 'no'" in text(report)


def test_helm_null_override_deletes_the_key(schema_mirror):
    assert check_helm_values({"hubble": None}, "cilium", "1.19.4", "cilium.yaml").ok


def test_flux_overrides_do_not_report_required(schema_mirror):
    values = {"instance": {
        "distribution": {"artifact": "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"},
        "sync": {"kind": "GitRepository", "url": "ssh://git@github.com/me/home-ops",
                 "ref": "refs/heads/main", "path": "kubernetes/flux/cluster"}}}
    assert check_helm_values(values, "flux-instance", "0.49.0", "flux-instance.yaml").ok
    assert check_helm_values({"installCRDs": True}, "flux-operator", "0.49.0", "flux-operator.yaml").ok


def test_flux_overrides_still_report_types(schema_mirror):
    report = check_helm_values({"instance": {"cluster": {"multitenant": "yes"}}},
                               "flux-instance", "0.49.0", "flux-instance.yaml")
    assert paths(report) == ["instance.cluster.multitenant"]


def test_other_pinned_charts_validate(schema_mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # draft-07 URI jsonschema does not know
        assert check_helm_values({"connect": {"serviceType": "ClusterIP"}},
                                 "onepassword-connect", "2.4.1", "connect.yaml").ok
    assert check_helm_values({"crds": {"enabled": True}}, "cert-manager", "v1.21.1", "cm.yaml").ok
    assert check_helm_values({"installCRDs": True}, "external-secrets", "2.9.0", "eso.yaml").ok
    bad = check_helm_values({"crds": {"enabled": "true"}}, "cert-manager", "v1.21.1", "cm.yaml")
    assert paths(bad) == ["crds.enabled"]


@pytest.mark.parametrize("chart", ["coredns", "spegel", "kube-vip", "envoy-gateway", "no-such-chart"])
def test_charts_without_schema_have_nothing_to_check(schema_mirror, chart):
    report = check_helm_values({"anything": 1}, chart, "1.0.0", f"{chart}.yaml")
    assert report.ok and report.checked == 0 and report.warnings == []
    assert report.unchecked == [f"Helm values of {chart} 1.0.0 (" + (
        "the chart ships no values schema)" if chart in schema_catalog.HELM_WITHOUT_SCHEMA else "no catalogued schema)")]
    assert schema_mirror.total_hits == 0


# --- Kubernetes objects ------------------------------------------------------------------------

RESOURCES = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "external-secrets"}},
    {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
     "metadata": {"name": "onepassword-secret", "namespace": "external-secrets"},
     "stringData": {"token": "op://vault/item/token"}},
    {"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": {"name": "lan"},
     "spec": {"blocks": [{"start": "10.0.48.50", "stop": "10.0.48.200"}]}},
    {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
     "metadata": {"name": "onepassword"},
     "spec": {"provider": {"onepassword": {
         "connectHost": "http://onepassword-connect.external-secrets.svc:8080",
         "vaults": {"home": 1},
         "auth": {"secretRef": {"connectTokenSecretRef": {
             "name": "onepassword-secret", "namespace": "external-secrets", "key": "token"}}}}}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "not-catalogued"}},
]


def test_kubernetes_objects_validate(schema_mirror):
    report = check_kubernetes_objects(RESOURCES, "build/resources.yaml")
    assert report.ok, report.problems
    assert report.warnings == []
    assert report.checked == 4
    assert report.unchecked == ["Deployment (apps/v1): no catalogued schema"]  # said, not skipped silently


def test_kubernetes_objects_report_errors_with_index_and_path(schema_mirror):
    objs = [dict(o) for o in RESOURCES]
    objs[1] = {**objs[1], "stringdata": {"token": "x"}}
    objs[2] = {**objs[2], "spec": {"blocks": [{"start": 10}]}}
    report = check_kubernetes_objects(objs, "build/resources.yaml")
    assert paths(report) == ["documents[1].stringdata", "documents[2].spec.blocks[0].start"]


# --- fetching, cache, offline ------------------------------------------------------------------

def test_second_call_uses_the_cache(schema_mirror):
    check_talos_documents(node_docs(), TALOS, "cp-1.yaml")
    rel = schema_catalog.talos_schema(TALOS).rel
    assert schema_mirror.hits == {rel: 1}
    assert (schema_mirror.cache_dir / rel).is_file()
    check_talos_documents(node_docs(), TALOS, "cp-2.yaml")  # in memory
    schema_store.forget_loaded_schemas()
    assert check_talos_documents(node_docs(), TALOS, "cp-3.yaml").ok  # from the disk cache
    assert schema_mirror.total_hits == 1


def test_unreachable_mirror_warns_once_per_schema(schema_mirror, monkeypatch):
    monkeypatch.setenv(schema_store.MIRROR_ENV, closed_port_url())
    first = check_talos_documents(node_docs(), TALOS, "cp-1.yaml")
    again = check_talos_documents(node_docs(), TALOS, "cp-2.yaml")
    objs = check_kubernetes_objects(RESOURCES + RESOURCES, "resources.yaml")
    assert first.ok and again.ok and objs.ok
    assert len(first.unfetched) == 1 and again.unfetched == [] and first.warnings == []
    assert "schema for Talos v1.13.9 config not available" in first.unfetched[0]
    assert "connection failed" in first.unfetched[0] and "BOOTSTRAP_SCHEMA_MIRROR" in first.unfetched[0]
    assert len(objs.unfetched) == 4  # Namespace, Secret, pool, store: one each
    assert check_kubernetes_objects(RESOURCES, "resources.yaml").unfetched == []


def test_unreachable_mirror_is_an_error_in_strict_mode(schema_mirror, monkeypatch):
    monkeypatch.setenv(schema_store.MIRROR_ENV, closed_port_url())
    report = check_talos_documents(node_docs(), TALOS, "cp-1.yaml", strict=True)
    assert len(report.problems) == 1 and report.unfetched == []
    assert "found none: " in text(report) and "connection failed" in text(report)
    monkeypatch.setenv("BOOTSTRAP_SCHEMA_STRICT", "1")
    objs = check_kubernetes_objects(RESOURCES + RESOURCES, "resources.yaml")
    assert len(objs.problems) == 4  # once per schema per call, each failing call is not ok


def test_missing_schema_on_the_mirror_is_a_warning(schema_mirror):
    report = check_talos_documents(node_docs(), "v1.99.0", "cp-1.yaml")
    assert report.ok
    assert "HTTP 404" in report.unfetched[0]
    assert "talos/talos-v1.99.0-config.schema.json" in report.unfetched[0]


def test_broken_cache_file_is_fetched_again(schema_mirror):
    rel = schema_catalog.kubernetes_schema("v1", "Namespace").rel
    (schema_mirror.cache_dir / rel).parent.mkdir(parents=True)
    (schema_mirror.cache_dir / rel).write_text("<html>captive portal</html>")
    assert check_kubernetes_objects(RESOURCES[:1], "ns.yaml").ok
    assert schema_mirror.hits == {rel: 1}


def test_local_folder_works_as_mirror(schema_mirror, monkeypatch):
    monkeypatch.setenv(schema_store.MIRROR_ENV, str(SHARED_SCHEMAS))
    assert check_kubernetes_objects(RESOURCES, "resources.yaml").ok
    assert schema_mirror.total_hits == 0


def test_without_mirror_the_upstream_url_is_used(monkeypatch, tmp_path):
    monkeypatch.delenv(schema_store.MIRROR_ENV, raising=False)
    monkeypatch.setenv(schema_store.CACHE_ENV, str(tmp_path))
    ref = schema_catalog.talos_schema("1.13.9")
    assert schema_store.current_store().location(ref) == (
        "https://raw.githubusercontent.com/siderolabs/talos/v1.13.9"
        "/pkg/machinery/config/schemas/config.schema.json")


# --- the catalogue -----------------------------------------------------------------------------

FLUX_049 = "fc87d3b3f55bc28becb11126dadcde2bedf648a0"
UPSTREAM = {
    ("cilium", "1.19.4"): "cilium/cilium/v1.19.4/install/kubernetes/cilium/values.schema.json",
    ("cert-manager", "v1.21.1"):
        "cert-manager/cert-manager/v1.21.1/deploy/charts/cert-manager/values.schema.json",
    ("external-secrets", "2.9.0"): "external-secrets/external-secrets/helm-chart-2.9.0"
                                   "/deploy/charts/external-secrets/values.schema.json",
    ("connect", "2.4.1"):
        "1Password/connect-helm-charts/connect-2.4.1/charts/connect/values.schema.json",
    ("flux-operator", "0.49.0"):
        f"controlplaneio-fluxcd/charts/{FLUX_049}/charts/flux-operator/values.schema.json",
    ("flux-instance", "0.50.0"):  # not pinned in FLUX_CHARTS_REFS: falls back to main
        "controlplaneio-fluxcd/charts/main/charts/flux-instance/values.schema.json",
}


@pytest.mark.parametrize(("chart", "version"), list(UPSTREAM))
def test_helm_upstream_urls(chart, version):
    ref = schema_catalog.helm_values_schema(chart, version)
    assert ref.url == f"{schema_catalog.RAW}/{UPSTREAM[chart, version]}"


def test_kubernetes_upstream_urls():
    pool = schema_catalog.kubernetes_schema("cilium.io/v2", "CiliumLoadBalancerIPPool")
    assert pool.url.endswith("/datreeio/CRDs-catalog/main/cilium.io/ciliumloadbalancerippool_v2.json")
    assert pool.rel == "crds/cilium.io/ciliumloadbalancerippool_v2.json"
    secret = schema_catalog.kubernetes_schema("v1", "Secret")
    assert secret.url.endswith("/yannh/kubernetes-json-schema/master/master-standalone-strict/secret-v1.json")
    assert schema_catalog.kubernetes_schema("apps/v1", "Deployment") is None


def _pinned_charts() -> list[tuple[str, str]]:
    """(chart, version) for every chart in bootstrap/charts.yaml."""
    charts = yaml.safe_load(repo_paths.CHARTS_FILE.read_text())["charts"]
    return [(c["chart"], str(c["version"])) for c in charts.values()]


def test_every_catalogued_schema_of_the_pinned_versions_is_on_the_mirror():
    require_shared("schemas")
    refs = [schema_catalog.helm_values_schema(c, v) for c, v in _pinned_charts()]
    refs += [schema_catalog.kubernetes_schema(a, k) for a, k in schema_catalog.CRD_KINDS]
    refs += [schema_catalog.kubernetes_schema("v1", k) for k in schema_catalog.CORE_KINDS]
    refs += [schema_catalog.talos_schema(v) for v in ("v1.13.9", "v1.12.11")]
    missing = [r.rel for r in refs if r is not None and not (SHARED_SCHEMAS / r.rel).is_file()]
    assert missing == []


def test_pinned_flux_charts_have_a_pinned_ref():
    flux = [v for c, v in _pinned_charts() if c in ("flux-operator", "flux-instance")]
    assert flux and all(schema_catalog.bare(v) in schema_catalog.FLUX_CHARTS_REFS for v in flux)
