"""`doit check` on GitOps trees read the way Flux reads them (tasks/settings/fluxtree.py, fluxbuild.py).

Each case is a small tree under tests/fixtures/trees/<case>/, laid over tests/fixtures/trees/_base (the
cluster root kubernetes/flux/cluster and cilium pinned at the bootstrap's 1.19.4). The tree is copied into
a rendered project copy, common.yaml gitops.path points at it, and `doit check` runs with the pinned
kubectl (tests/world/binaries.py) for the folders that have a kustomization.yaml. Each case asserts the
exit code and the exact finding, or its absence."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.project import executed_tasks

TREES = Path(__file__).resolve().parent.parent / "fixtures" / "trees"
CHARTS = "bootstrap/charts.yaml"
ROOT = "tree/kubernetes/flux/cluster"
CILIUM_APP = "tree/kubernetes/apps/kube-system/cilium/app"
CILIUM_OCI = f"{CILIUM_APP}/ocirepository.yaml"

# case -> (exit code, lines that must be in the output, texts that must not be)
CASES = {
    "semver-in-range": (0, [
        f"warning: {CHARTS}: 8 bootstrap charts are not pinned anywhere in {ROOT} (coredns, spegel, cert-manager, "
        "external-secrets, onepassword-connect, kube-vip, flux-operator, flux-instance); their versions cannot be "
        "checked for drift"], ["chart-version-drift"]),
    # 7 plain Secrets: the finding once, then counted with the first few files.
    "repeated-findings": (1, [
        "bootstrap check failed: 7 problem(s)",
        "  - tree/kubernetes/apps/default/alpha/secret.yaml: [no-inline-secrets] documents[0]: expected an "
        "ExternalSecret (no Secret objects in Git), found Secret 'alpha'",
        "  - [no-inline-secrets] 6 more like the one above (7 in all), in tree/kubernetes/apps/default/bravo/secret.yaml, "
        "tree/kubernetes/apps/default/charlie/secret.yaml, tree/kubernetes/apps/default/delta/secret.yaml and 3 more "
        "file(s)\n"], ["echo/secret.yaml"]),
    "semver-out-of-range": (1, [
        f"  - {CHARTS}: [chart-version-drift] charts.cilium.version: expected a version in the range '~1.20.0' "
        f"(the range {CILIUM_OCI} sets for chart cilium), found 1.19.4, outside that range"], []),
    "digest-only": (0, [
        f"warning: {CILIUM_OCI}: OCIRepository kube-system/cilium: pins chart cilium by digest only (sha256:"], []),
    "namespace-from-kustomization": (1, [
        f"  - {CHARTS}: [chart-version-drift] charts.cilium.version: expected 1.19.6 (the version "
        "tree/kubernetes/apps/repos/cilium.yaml pins for chart cilium, as built by "
        "tree/kubernetes/apps/repos/kustomization.yaml), found 1.19.4"], []),
    "patch-changes-tag": (1, [
        f"  - {CHARTS}: [chart-version-drift] charts.cilium.version: expected 1.19.7 (the version "
        f"{CILIUM_OCI} pins for chart cilium, as built by {CILIUM_APP}/kustomization.yaml), found 1.19.4"], []),
    "component-changes-tag": (1, [
        f"  - {CHARTS}: [chart-version-drift] charts.cilium.version: expected 1.20.0 (the version "
        f"{CILIUM_OCI} pins for chart cilium, as built by {CILIUM_APP}/kustomization.yaml), found 1.19.4"], []),
    # The Flux Kustomization's own spec.patches (JSON 6902, a name regex).
    "flux-patch-changes-tag": (1, [
        f"  - {CHARTS}: [chart-version-drift] charts.cilium.version: expected 1.19.8 (the version "
        f"{CILIUM_OCI} pins for chart cilium, as built by {ROOT}/ks.yaml (spec.patches of "
        "flux-system/cluster-apps)), found 1.19.4"], []),
    "two-clusters": (0, [], ["1.18.0", "chart-version-drift", "no-inline-secrets", "onepassword-secret"]),
    "var-resolved": (0, [], ["CILIUM_VERSION", "chart-version-drift"]),
    "var-unresolved": (0, [
        f"warning: {CILIUM_OCI}: OCIRepository kube-system/cilium: the version of chart cilium is "
        "'${CILIUM_VERSION}', which Flux cannot resolve: ${CILIUM_VERSION} should come from postBuild.substitute "
        f"of Kustomization flux-system/cluster-apps ({ROOT}/ks.yaml); ConfigMap flux-system/cluster-settings "
        "(not in the tree); its drift cannot be checked"], ["chart-version-drift"]),
    "duplicate-anchors": (0, [], ["not read", "chart-version-drift"]),
    "equals-value": (0, [], ["not read", "chart-version-drift"]),
    "custom-tags": (0, [], ["not read", "chart-version-drift"]),
    "broken-file": (0, ["warning: tree/kubernetes/apps/default/notes/broken.yaml: not read (a YAML error at line 2:"],
                    ["chart-version-drift"]),
    "broken-chart-file": (1, ["bootstrap check failed: 1 problem(s)",
                              f"  - {CILIUM_OCI}:9: (document): expected YAML that kustomize can read (it holds a "
                              "bootstrap chart's objects, so its versions must be known), found a YAML error at "
                              "line 9: expected ',' or '}', but got '<stream end>'"], ["0 of 9"]),
    "envoy-gateway-drift": (0, [
        f"warning: {CHARTS}: charts.envoy-gateway.version: v1.6.1, but "
        "tree/kubernetes/apps/network/envoy-gateway/app/helmrelease.yaml pins v1.7.0: the bootstrap does not "
        "install envoy-gateway, so this drift is Flux's alone"], ["chart-version-drift"]),
    # Values at hand-off: valuesFrom a ConfigMap kustomize generates, shown by `doit check` as information.
    "values-from-generator": (0, [
        "  hand-off: what Flux changes when it takes over (HelmReleases of tree/kubernetes/flux/cluster)\n"
        "    cilium: 20 value(s) differ (tree/kubernetes/apps/kube-system/cilium/app/helmrelease.yaml)\n",
        "        operator.replicas: 2 -> 3\n"], []),
    # A remote base (through a local folder): kubectl would fetch it; the check stays offline and says so.
    "remote-base": (1, [
        "bootstrap check failed: 1 problem(s)",
        f"  - {CILIUM_APP}/kustomization.yaml: (document): expected a folder kubectl kustomize builds offline (it "
        "holds a bootstrap chart's objects, so its versions must be known), found remote resources "
        "(https://github.com/example/charts//cilium/extras?ref=v1.0.0), which the offline check does not fetch"], []),
    "helmchart-ref": (1, [
        f"  - {CHARTS}: [chart-version-drift] charts.cilium.version: expected a version in the range '1.18.x' "
        f"(the range {CILIUM_OCI} sets for chart cilium), found 1.19.4, outside that range"], []),
    "no-bootstrap-chart": (1, [
        "  - bootstrap/values/common.yaml: [bootstrap-charts-not-found] gitops.path: expected the HelmReleases of "
        "the 9 bootstrap charts (cilium, coredns, spegel, cert-manager, external-secrets, onepassword-connect, "
        f"kube-vip, flux-operator, flux-instance) among what Flux reconciles from {ROOT}, found 0 of 9 bootstrap "
        f"charts found in {ROOT}"], []),
}


def lay_tree(project, case: str) -> None:
    """tests/fixtures/trees/_base, then the case's files over it, at tree/; common.yaml points there."""
    dest = project.path("tree")
    shutil.copytree(TREES / "_base", dest)
    shutil.copytree(TREES / case, dest, dirs_exist_ok=True)
    common = project.path("bootstrap/values/common.yaml")
    text = common.read_text()
    assert text.count("path: examples/home-ops") == 1
    common.write_text(text.replace("path: examples/home-ops", "path: tree"))


def check(project, env: dict) -> tuple[int, str]:
    result = project.doit("check", env=env, timeout=180)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return result.returncode, output


@pytest.fixture
def kubectl_env(schema_env, world_binaries):
    return {**schema_env, "KUBECTL": str(world_binaries["kubectl"])}


def test_every_case_has_a_tree():
    assert sorted(CASES) == sorted(p.name for p in TREES.iterdir() if p.is_dir() and p.name != "_base")


@pytest.mark.parametrize("case", sorted(CASES))
def test_tree_case(case, rendered, kubectl_env):
    """The case's exit code, and its exact finding (or its absence)."""
    lay_tree(rendered, case)
    code, output = check(rendered, kubectl_env)
    want, present, absent = CASES[case]
    assert code == want, output
    for line in present:
        assert line in output, f"{line!r} not in:\n{output}"
    for text in absent:
        assert text not in output, f"{text!r} must not be in:\n{output}"


def test_missing_kubectl_names_the_folder_that_needs_it(rendered, schema_env):
    """A kustomization.yaml and no kubectl: a clear problem naming the file and how to install kubectl."""
    lay_tree(rendered, "patch-changes-tag")
    code, output = check(rendered, {**schema_env, "KUBECTL": str(rendered.path("no-such-kubectl"))})
    assert code == 1, output
    assert ("  - tree/kubernetes/apps/kube-system/cilium/app/kustomization.yaml: (document): expected kubectl, "
            "to build this folder with kustomize as Flux does, found no kubectl on PATH and no KUBECTL set\n"
            "    fix: install kubectl (https://kubernetes.io/docs/tasks/tools/)") in output, output


def test_example_tree_needs_no_kubectl(rendered, schema_env):
    """The shipped example tree has no kustomization.yaml: `doit check` passes without any kubectl, and
    a second run executes nothing."""
    env = {**schema_env, "KUBECTL": str(rendered.path("no-such-kubectl")),
           "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                   if not (Path(p) / "kubectl").exists())}
    assert rendered.doit("forget", "check").returncode == 0
    first = rendered.doit("check", env=env, timeout=180)
    assert first.returncode == 0 and executed_tasks(first.stdout) == ["check"], first.stdout + first.stderr
    assert ("    cilium: 1 value(s) differ (examples/home-ops/kubernetes/apps/kube-system/cilium/app/helmrelease.yaml)\n"
            "        operator.replicas: 2 -> 1\n") in first.stderr, first.stderr
    again = rendered.doit("check", env=env, timeout=180)
    assert again.returncode == 0 and executed_tasks(again.stdout) == [], again.stdout


def test_an_edit_of_a_file_kustomize_reads_reruns_the_check(rendered, kubectl_env):
    """The check depends on every file of the tree, not only YAML: a configMapGenerator's values.txt."""
    lay_tree(rendered, "values-from-generator")
    assert check(rendered, kubectl_env)[0] == 0
    values = rendered.path("tree/kubernetes/apps/kube-system/cilium/app/values.txt")
    values.write_text(values.read_text().replace("replicas: 3", "replicas: 5"))
    result = rendered.doit("check", env=kubectl_env, timeout=180)
    assert result.returncode == 0 and executed_tasks(result.stdout) == ["check"], result.stdout + result.stderr
    assert "        operator.replicas: 2 -> 5\n" in result.stderr
