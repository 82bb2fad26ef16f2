"""Chart versions pinned by the GitOps tree against bootstrap/charts.yaml."""
from __future__ import annotations

import pytest

from tasks.settings import fluxtree, gitops
from tasks.settings.drift import PinnedChart, drift_problems
from tasks.settings.drift import pinned_charts as pinned_and_warnings
from tasks.settings.gitops import SourcedObject


def pinned_charts(objects):
    return pinned_and_warnings(objects)[0]


def obj(file: str, kind: str, name: str, namespace: str, spec, index: int = 0) -> SourcedObject:
    return SourcedObject(file, index, {"kind": kind, "metadata": {"name": name, "namespace": namespace},
                                       "spec": spec})


OCI = obj("apps/cilium/oci.yaml", "OCIRepository", "cilium", "kube-system",
          {"url": "oci://quay.io/cilium/charts/cilium", "ref": {"tag": "1.19.4"}})
CILIUM_RELEASE = obj("apps/cilium/hr.yaml", "HelmRelease", "cilium", "kube-system",
                     {"chartRef": {"kind": "OCIRepository", "name": "cilium"}})


def test_pinned_by_chart_ref_to_an_ocirepository():
    assert pinned_charts([CILIUM_RELEASE, OCI]) == [PinnedChart("cilium", "1.19.4", "apps/cilium/oci.yaml", "tag",
                                                                             "OCIRepository kube-system/cilium")]


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
    assert pinned_charts([release]) == [PinnedChart("kube-vip", "0.9.9", "apps/kube-vip/hr.yaml", "version",
                                                       "HelmRelease kube-system/kube-vip")]


@pytest.mark.parametrize("spec", [
    {"chartRef": None}, {"chartRef": "cilium"}, {"chartRef": {"kind": "HelmChart", "name": "cilium"}},
    {"chart": "cilium"}, "not a mapping", None,
], ids=["null-ref", "string-ref", "other-kind", "string-chart", "string-spec", "null-spec"])
def test_unusable_helmreleases_pin_nothing(spec):
    release = obj("apps/hr.yaml", "HelmRelease", "cilium", "kube-system", spec)
    assert pinned_charts([release, OCI]) == []


def test_shipped_tree_pins_the_bootstrap_versions():
    tree = fluxtree.reconcile(gitops.tree_root("examples/home-ops"), {"kind": "GitRepository",
                              "path": "kubernetes/flux/cluster"}, "flux-system", ("cilium",), "flux-instance.yaml")
    pins = {p.chart: p for p in pinned_charts(tree.objects)}
    assert tree.problems == [] and tree.warnings == []
    assert pins["cilium"].version == "1.19.4" and pins["cilium"].file.endswith("cilium/app/ocirepository.yaml")
    assert pins["kube-vip"].version == "0.9.9" and pins["kube-vip"].file.endswith("kube-vip/app/helmrelease.yaml")


def test_drift_problem_names_both_versions_and_files():
    charts = {"cilium": {"chart": "cilium", "repo": "oci://quay.io/cilium/charts", "version": "1.19.5"}}
    [problem], warnings = drift_problems(charts, [CILIUM_RELEASE, OCI])
    assert (problem.file, problem.path, problem.rule) == ("bootstrap/charts.yaml", "charts.cilium.version",
                                                         "chart-version-drift")
    assert problem.found == "1.19.5" and "1.19.4" in problem.expected and "apps/cilium/oci.yaml" in problem.expected
    assert warnings == []
    assert drift_problems(charts, [])[1] == [
        "bootstrap/charts.yaml: charts.cilium: chart cilium is not pinned anywhere in the GitOps tree; "
        "its version cannot be checked for drift"]
    assert drift_problems(charts, [])[0][0].found == "0 of 1 bootstrap charts found in the GitOps tree"


def test_chart_spec_version_range_must_hold_the_bootstrap_version():
    charts = {"kube-vip": {"chart": "kube-vip", "repo": "https://kube-vip.github.io/helm-charts", "version": "0.9.9"}}
    def release(version):
        return obj("apps/kube-vip/hr.yaml", "HelmRelease", "kube-vip", "kube-system",
                   {"chart": {"spec": {"chart": "kube-vip", "version": version}}})
    assert drift_problems(charts, [release("0.9.x")])[0] == []
    [problem] = drift_problems(charts, [release(">=0.10.0")])[0]
    assert problem.expected.startswith("a version in the range '>=0.10.0'") and problem.found == "0.9.9, outside that range"
