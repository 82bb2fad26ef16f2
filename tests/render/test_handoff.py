"""The hand-off preview: what Flux changes when it first upgrades a release with the tree's values."""
from __future__ import annotations

from tasks.render import catalogue, check, handoff
from tasks.settings.gitops import SourcedObject
from tests.variants import cluster_of, shipped  # noqa: F401  (fixture)


def test_differences_name_every_changed_added_and_dropped_key():
    bootstrap = {"operator": {"replicas": 2}, "hubble": {"enabled": False}, "list": [1, 2]}
    tree = {"operator": {"replicas": 1}, "ipam": {"mode": "kubernetes"}, "list": [1, 2]}
    assert handoff.differences(bootstrap, tree) == (
        "hubble.enabled: false -> chart default", "ipam.mode: chart default -> kubernetes",
        "operator.replicas: 2 -> 1")


def test_values_from_configmaps_merge_before_spec_values():
    release = SourcedObject("hr.yaml", 0, {"kind": "HelmRelease", "metadata": {"name": "x", "namespace": "ns"},
                                           "spec": {"valuesFrom": [{"kind": "ConfigMap", "name": "base"}],
                                                    "values": {"a": {"b": 2}}}})
    config = SourcedObject("cm.yaml", 0, {"kind": "ConfigMap", "metadata": {"name": "base", "namespace": "ns"},
                                          "data": {"values.yaml": "a: {b: 1, c: 3}\n"}})
    assert handoff.tree_values(release, [release, config]) == {"a": {"b": 2, "c": 3}}


def test_the_example_tree_changes_only_the_cilium_operator_replicas(shipped):
    cluster = cluster_of(shipped)
    rendered = {a.target: catalogue.render_artifact(cluster, a) for a in catalogue.cluster_catalogue(cluster)
                if a.kind == "helm-values"}
    tree = check.reconciled(cluster)          # the effective objects Flux reconciles from the sync path
    assert tree.problems == [] and tree.warnings == []
    objects = tree.objects
    found = {h.release: h for h in handoff.handoffs(cluster, rendered, objects)}
    assert sorted(found) == sorted(r.name for r in cluster.releases)
    assert found["cilium"].changes == ("operator.replicas: 2 -> 1",)
    assert found["cilium"].file.endswith("kube-system/cilium/app/helmrelease.yaml")
    assert all(h.changes == () for name, h in found.items() if name != "cilium")
    assert handoff.summary([found["cilium"]], "the tree") == [
        "hand-off: what Flux changes when it takes over (HelmReleases of the tree)",
        f"  cilium: 1 value(s) differ ({found['cilium'].file})", "      operator.replicas: 2 -> 1"]
