"""Direct unit tests of the semantic checks, the LB pool arithmetic, the drift reader and the
strict YAML loader: fast, in-process, no doit subprocess."""
from __future__ import annotations

import copy

import pytest
import yaml

from tasks import checks, gitops
from tasks.config import build_cluster, load_documents
from tasks.drift import PinnedChart, drift_problems, pinned_charts
from tasks.gitops import SourcedObject
from tasks.pools import pool_blocks
from tasks.yamlio import QuickLoader, StrictLoader, load_document

TALOS = "bootstrap/values/talos.yaml"
CILIUM = "bootstrap/values/cilium.yaml"
KUBE_VIP = "bootstrap/values/kube-vip.yaml"


# --- semantic checks ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    """The shipped settings, loaded and schema-checked once."""
    docs, problems = load_documents()
    assert problems == []
    return docs


@pytest.fixture
def variant(shipped):
    """variant(edit) -> (cluster, docs): the shipped settings with edit(data) applied to a copy,
    where data maps each settings name (and 'charts') to its mapping."""
    def make(edit):
        docs = copy.deepcopy(shipped)
        edit({name: doc.data for name, doc in docs.items()})
        return build_cluster(docs), docs
    return make


def run(check, variant, edit):
    return check(*variant(edit))


def test_shipped_settings_pass_every_check(shipped):
    cluster = build_cluster(copy.deepcopy(shipped))
    assert checks.semantic_problems(cluster, shipped) == []


def test_address_outside_subnet_names_file_path_and_line(variant, shipped):
    def edit(s):
        s["talos"]["nodes"][3]["address"] = "10.0.49.21"
    [problem] = run(checks.addresses_in_subnet, variant, edit)
    assert (problem.file, problem.path, problem.found) == (TALOS, "nodes[3].address", "10.0.49.21")
    assert problem.line == shipped["talos"].line("nodes[3].address") == 29
    assert "10.0.48.0/24" in problem.expected


def test_pool_start_after_stop(variant):
    def edit(s):
        s["cilium"]["loadBalancer"]["pool"].update(start="10.0.48.200", stop="10.0.48.50")
    [problem] = run(checks.pool_is_ordered, variant, edit)
    assert (problem.file, problem.path, problem.found) == (CILIUM, "loadBalancer.pool.stop", "10.0.48.50")


def test_exclude_outside_pool(variant):
    def edit(s):
        s["cilium"]["loadBalancer"]["pool"]["exclude"] = ["10.0.48.55", "10.0.48.201"]
    [problem] = run(checks.excludes_in_pool, variant, edit)
    assert problem.path == "loadBalancer.pool.exclude[1]" and problem.found == "10.0.48.201"


@pytest.mark.parametrize("edit, file, path, found_part", [
    (lambda s: s["talos"].update(endpoint="10.0.48.10"), TALOS, "endpoint", "10.0.48.10"),
    (lambda s: s["cilium"]["loadBalancer"]["pool"].update(exclude=[]), KUBE_VIP, "vip", "10.0.48.55"),
    (lambda s: (s["kube-vip"].update(vip="10.0.48.12"), s["talos"].update(endpoint="10.0.48.12")),
     KUBE_VIP, "vip", "node cp-2"),
], ids=["endpoint-not-vip", "vip-in-pool", "vip-is-node"])
def test_vip_placement(variant, edit, file, path, found_part):
    [problem] = run(checks.vip_placement, variant, edit)
    assert (problem.file, problem.path) == (file, path) and found_part in problem.found


def test_duplicates_are_reported_at_the_later_node(variant):
    def edit(s):
        s["talos"]["nodes"][3].update(name="cp-1", address="10.0.48.12")
    problems = run(checks.unique_nodes, variant, edit)
    assert [(p.path, p.expected) for p in problems] == [
        ("nodes[3].name", "a name no other node has"), ("nodes[3].address", "an address no other node has")]


@pytest.mark.parametrize("controlplanes, refused", [(1, False), (2, True), (3, False), (4, True), (0, True)])
def test_controlplane_quorum(variant, controlplanes, refused):
    def edit(s):
        for i, node in enumerate(s["talos"]["nodes"]):
            node["role"] = "controlplane" if i < controlplanes else "worker"
    problems = run(checks.controlplane_quorum, variant, edit)
    assert bool(problems) is refused
    if refused:
        assert problems[0].path == "nodes" and problems[0].found == str(controlplanes)


def test_vlan_consistency(variant):
    def edit(s):
        s["cilium"]["loadBalancer"]["vlan"] = 49
        s["kube-vip"]["interface"] = "bond0"
    problems = run(checks.vlan_consistency, variant, edit)
    assert [(p.file, p.path) for p in problems] == [(CILIUM, "loadBalancer.vlan"), (KUBE_VIP, "interface")]


@pytest.mark.parametrize("subnet, refused", [("10.43.0.0/28", False), ("10.43.0.0/29", True)])
def test_service_subnet_holds_the_dns_address(variant, subnet, refused):
    problems = run(checks.service_subnet_holds_dns, variant,
                   lambda s: s["common"]["network"].update(serviceSubnet=subnet))
    assert bool(problems) is refused


def test_pod_subnet_overlapping_the_vlan(variant):
    [problem] = run(checks.cluster_networks_disjoint, variant,
                    lambda s: s["common"]["network"].update(podSubnet="10.0.0.0/16"))
    assert problem.path == "network.podSubnet"


def test_bgp_needs_peers_only_when_enabled(variant):
    def no_peers(enabled):
        def edit(s):
            s["cilium"]["bgp"].pop("peers")
            s["cilium"]["bgp"]["enabled"] = enabled
        return edit
    assert run(checks.bgp_complete, variant, no_peers(False)) == []
    assert [p.path for p in run(checks.bgp_complete, variant, no_peers(True))] == ["bgp.peers"]


def test_acme_issuer_needs_its_settings(variant):
    def acme(settings):
        def edit(s):
            s["cert-manager"]["defaultIssuer"].update(type="acme", **settings)
        return edit
    assert [p.path for p in run(checks.acme_complete, variant, acme({}))] == ["defaultIssuer.acme"]
    assert run(checks.acme_complete, variant, acme({"acme": {"email": "a@b.c", "server": "https://x"}})) == []


def test_release_row_without_chart(variant):
    def edit(s):
        s["charts"]["releases"].append({"name": "metallb", "namespace": "metallb-system", "reads": ["common"]})
    [problem] = run(checks.releases_have_charts, variant, edit)
    assert (problem.file, problem.path, problem.found) == ("bootstrap/charts.yaml", "releases[9].name", "'metallb'")


# --- the LoadBalancer pool ------------------------------------------------------------------

@pytest.mark.parametrize("start, stop, exclude, blocks", [
    ("10.0.48.50", "10.0.48.200", [], [("10.0.48.50", "10.0.48.200")]),
    ("10.0.48.50", "10.0.48.200", ["10.0.48.55"], [("10.0.48.50", "10.0.48.54"), ("10.0.48.56", "10.0.48.200")]),
    ("10.0.48.50", "10.0.48.60", ["10.0.48.50", "10.0.48.60"], [("10.0.48.51", "10.0.48.59")]),
    ("10.0.48.50", "10.0.48.60", ["10.0.48.54", "10.0.48.55"], [("10.0.48.50", "10.0.48.53"),
                                                               ("10.0.48.56", "10.0.48.60")]),
    ("10.0.48.50", "10.0.48.60", ["10.0.48.1", "10.0.48.55", "10.0.48.55"], [("10.0.48.50", "10.0.48.54"),
                                                                            ("10.0.48.56", "10.0.48.60")]),
    ("10.0.48.50", "10.0.48.50", [], [("10.0.48.50", "10.0.48.50")]),
    ("10.0.48.50", "10.0.48.51", ["10.0.48.50", "10.0.48.51"], []),
    ("10.0.48.250", "10.0.49.5", ["10.0.48.255"], [("10.0.48.250", "10.0.48.254"), ("10.0.49.0", "10.0.49.5")]),
], ids=["whole", "hole", "edges", "adjacent-holes", "outside-and-repeated", "one-address", "all-excluded",
        "across-octet"])
def test_pool_blocks(start, stop, exclude, blocks):
    assert pool_blocks(start, stop, exclude) == blocks


# --- chart versions pinned by the GitOps tree -------------------------------------------------

def obj(file: str, kind: str, name: str, namespace: str, spec, index: int = 0) -> SourcedObject:
    return SourcedObject(file, index, {"kind": kind, "metadata": {"name": name, "namespace": namespace},
                                       "spec": spec})


OCI = obj("apps/cilium/oci.yaml", "OCIRepository", "cilium", "kube-system",
          {"url": "oci://quay.io/cilium/charts/cilium", "ref": {"tag": "1.19.4"}})
CILIUM_RELEASE = obj("apps/cilium/hr.yaml", "HelmRelease", "cilium", "kube-system",
                     {"chartRef": {"kind": "OCIRepository", "name": "cilium"}})


def test_pinned_by_chart_ref_to_an_ocirepository():
    assert pinned_charts([CILIUM_RELEASE, OCI]) == [PinnedChart("cilium", "1.19.4", "apps/cilium/oci.yaml")]


def test_chart_ref_namespace_is_honoured():
    elsewhere = obj("apps/hr.yaml", "HelmRelease", "cilium", "network",
                    {"chartRef": {"kind": "OCIRepository", "name": "cilium"}})
    explicit = obj("apps/hr2.yaml", "HelmRelease", "cilium", "network",
                   {"chartRef": {"kind": "OCIRepository", "name": "cilium", "namespace": "kube-system"}})
    assert pinned_charts([elsewhere, OCI]) == []
    assert [p.chart for p in pinned_charts([explicit, OCI])] == ["cilium"]


def test_pinned_by_chart_spec():
    release = obj("apps/kube-vip/hr.yaml", "HelmRelease", "kube-vip", "kube-system",
                  {"chart": {"spec": {"chart": "kube-vip", "version": "0.9.9",
                                      "sourceRef": {"kind": "HelmRepository", "name": "kube-vip"}}}})
    assert pinned_charts([release]) == [PinnedChart("kube-vip", "0.9.9", "apps/kube-vip/hr.yaml")]


@pytest.mark.parametrize("spec", [
    {"chartRef": None}, {"chartRef": "cilium"}, {"chartRef": {"kind": "HelmChart", "name": "cilium"}},
    {"chart": "cilium"}, {"chart": {"spec": {"chart": "cilium"}}}, "not a mapping", None,
], ids=["null-ref", "string-ref", "other-kind", "string-chart", "no-version", "string-spec", "null-spec"])
def test_unusable_helmreleases_pin_nothing(spec):
    release = obj("apps/hr.yaml", "HelmRelease", "cilium", "kube-system", spec)
    assert pinned_charts([release, OCI]) == []


def test_shipped_tree_pins_the_bootstrap_versions():
    objects, problems = gitops.read_objects(gitops.tree_files("examples/home-ops"))
    pins = {p.chart: p for p in pinned_charts(objects)}
    assert problems == []
    assert pins["cilium"].version == "1.19.4" and pins["cilium"].file.endswith("cilium/app/ocirepository.yaml")
    assert pins["kube-vip"].version == "0.9.9" and pins["kube-vip"].file.endswith("kube-vip/app/helmrelease.yaml")


def test_drift_problem_names_both_versions_and_files():
    charts = {"cilium": {"chart": "cilium", "repo": "oci://quay.io/cilium/charts", "version": "1.19.5"}}
    [problem], warnings = drift_problems(charts, [CILIUM_RELEASE, OCI])
    assert (problem.file, problem.path, problem.rule) == ("bootstrap/charts.yaml", "charts.cilium.version",
                                                         "chart-version-drift")
    assert problem.found == "1.19.5" and "1.19.4" in problem.expected and "apps/cilium/oci.yaml" in problem.expected
    assert warnings == []
    assert drift_problems(charts, []) == ([], [
        "bootstrap/charts.yaml: charts.cilium: chart cilium is not pinned anywhere in the GitOps tree; "
        "its version cannot be checked for drift"])


# --- the strict YAML loader -----------------------------------------------------------------

def load(tmp_path, text: str):
    file = tmp_path / "settings.yaml"
    file.write_text(text)
    return load_document(file, "settings.yaml")


def test_line_numbers_of_keys_and_list_items(tmp_path):
    doc, problem = load(tmp_path, "# comment\na:\n  b: 1\n  c:\n    - x: 1\n    - x: 2\n      y: 3\n")
    assert problem is None
    assert [doc.line(p) for p in ("a", "a.b", "a.c", "a.c[0].x", "a.c[1]", "a.c[1].y")] == [2, 3, 4, 5, 6, 7]
    assert doc.line("a.c[1].missing") == 6            # the nearest parent that exists
    assert doc.line("nowhere") == 2                   # the document's first line


def test_yaml_1_2_booleans(tmp_path):
    doc, _ = load(tmp_path, "a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: NO\n")
    assert doc.data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False, "g": "NO"}


def test_quick_loader_reads_scalars_like_the_strict_loader():
    text = "a: no\nb: on\nc: true\nd: 1\ne: 1.5\nf: null\ng: '1'\nh: 2024-01-01\n"
    assert yaml.load(text, Loader=QuickLoader) == yaml.load(text, Loader=StrictLoader)


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    doc, problem = load(tmp_path, "a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert doc is None
    assert problem.line == 4 and "duplicate key 'b' (first at line 2)" in problem.found


def test_syntax_error_has_its_line(tmp_path):
    doc, problem = load(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    assert doc is None and problem.expected == "valid YAML" and problem.line == 3


def test_empty_and_missing_files(tmp_path):
    doc, problem = load(tmp_path, "# only a comment\n")
    assert problem is None and doc.data == {}
    doc, problem = load_document(tmp_path / "absent.yaml", "absent.yaml")
    assert doc is None and problem.expected == "a readable YAML file"
