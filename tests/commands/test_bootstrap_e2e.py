"""`doit bootstrap` end to end in the simulated cluster: real kubectl, helm and helmfile against the
fake API server, fake talosctl and op (the cluster is tests/commands/conftest.py's, shared)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from tests.commands.conftest import RELEASES, failure_report, summary, synced
from tests.project import executed_tasks
from tests.world.shims import add_fault, clear_faults
from tests.world import talos_state
from tests.world.world import CANARY, admin, delete_object, mark_release, repave


def test_fresh_cluster_reaches_flux_in_the_required_order(cluster):
    """Exit 0; talos apply before the single bootstrap; resources, CRDs, then the releases in
    order; Flux reports Ready."""
    result = cluster.first
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = [c for c in cluster.first_calls if c["mutating"]]
    bootstraps = [i for i, c in enumerate(mutating) if c["tool"] == "talosctl" and "bootstrap" in c["argv"]]
    applies = [i for i, c in enumerate(mutating) if c["tool"] == "talosctl" and "apply-config" in c["argv"]]
    assert len(bootstraps) == 1 and len(applies) == 4
    assert applies[0] < bootstraps[0] < applies[1]          # first node, bootstrap, then the others join
    assert synced(mutating) == RELEASES
    first_sync = next(i for i, c in enumerate(mutating) if c["tool"] == "helmfile")
    kubectl_before = [c for c in mutating[bootstraps[0]:first_sync] if c["tool"] == "kubectl"]
    assert len(kubectl_before) == 2                          # resources, then the seeded CRDs
    assert "name!=envoy-gateway" in " ".join(
        a for c in cluster.first_calls if c["tool"] == "helmfile" and "template" in c["argv"] for a in c["argv"])
    plan = cluster.project.doit("plan", env=cluster.env)
    assert "flux-ready" in plan.stdout and "would run" not in plan.stdout, plan.stdout
    assert "Flux reconciles the cluster root" in plan.stdout
    assert "hand-off: what Flux changes when it takes over" in plan.stdout
    assert "  cilium: 1 value(s) differ" in plan.stdout and "operator.replicas: 2 -> 1" in plan.stdout
    assert [p.name for p in cluster.project.path("build").iterdir() if "kubeconfig" in p.name] == ["kubeconfig"]
    assert oct(cluster.project.path("build/kubeconfig").stat().st_mode & 0o777) == "0o600"


def test_each_node_in_maintenance_is_asked_alone_once_before_its_stage(cluster):
    """The batched `get machineconfig` cannot say why a node did not answer, so a node is asked
    alone: once while it waits in maintenance mode, not again after every other node's stage (a
    fresh bootstrap stays linear in the nodes)."""
    calls = [c for c in cluster.first_calls if c["tool"] == "talosctl"]
    addresses = [n["address"] for n in cluster.project.read_yaml("bootstrap/values/talos.yaml")["nodes"]]
    for address in addresses:
        applied = next(i for i, c in enumerate(calls) if "apply-config" in c["argv"] and address in c["argv"])
        alone = [c for c in calls[:applied] if "machineconfig" in c["argv"]
                 and c["argv"][c["argv"].index("-n") + 1] == address]
        assert len(alone) == 1, (address, len(alone))


def test_immediate_rerun_and_lost_doit_state_make_no_change(cluster):
    """Zero mutating calls on a rerun, after deleting doit's state file, and after deleting every
    local record of past runs."""
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert cluster.new_mutating() == []
    assert executed_tasks(result.stdout) == []
    cluster.project.path(".doit.db").unlink()
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary(cluster.new_mutating()) == []
    # Without any local record at all, every stage compares the cluster with the desired state
    # (Talos dry-run, Helm release values, live objects) and still changes nothing.
    cluster.project.path(".doit.db").unlink()
    shutil.rmtree(cluster.project.path("build/state"))
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary(cluster.new_mutating()) == []
    assert "already runs this config" in result.stderr and "every object already matches" in result.stderr


def test_canary_secret_never_reaches_disk_logs_or_output(cluster):
    """The fake 1Password canary is nowhere in build/, the doit state, the event log or output."""
    assert CANARY not in cluster.first.stdout + cluster.first.stderr
    files = [*cluster.project.path("build").rglob("*"), cluster.project.path(".doit.db")]
    for path in (p for p in files if p.is_file()):
        assert CANARY not in path.read_text(errors="replace"), path
    assert CANARY not in (cluster.world.dir / "calls.jsonl").read_text()


def test_one_cilium_edit_reruns_only_the_cilium_release(cluster):
    """The plan names the changed input; the rerun's only mutating calls are Cilium's release."""
    settings = cluster.project.read_yaml("bootstrap/values/cilium.yaml")
    settings["values"] = {"operator": {"replicas": 1}}
    cluster.project.write_yaml("bootstrap/values/cilium.yaml", settings)
    plan = cluster.project.doit("plan", env=cluster.env)
    lines = [line for line in plan.stdout.splitlines() if "would run" in line]
    assert len(lines) == 1 and lines[0].startswith("release-cilium"), plan.stdout
    assert "build/values/cilium.yaml changed" in lines[0]
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert synced(mutating) == ["cilium"]
    assert all("cilium" in " ".join(c["argv"]) for c in mutating), summary(mutating)


def test_changed_node_config_goes_through_the_authenticated_api(cluster):
    """A configured node gets its changed config with talosctl's authenticated API, never --insecure;
    no other node and no other stage changes."""
    talos = cluster.project.read_yaml("bootstrap/values/talos.yaml")
    talos["nodes"][3]["installDisk"] = "/dev/nvme1n1"
    cluster.project.write_yaml("bootstrap/values/talos.yaml", talos)
    with talos_state.locked(cluster.world.dir) as state:       # the machine has that disk (the preflight
        nvme = dict(state["10.0.48.21"]["disks"][0], id="nvme1n1", dev_path="/dev/nvme1n1")   # checks it
        state["10.0.48.21"]["disks"].append(nvme)                # once a repave sends it to maintenance)
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert summary(mutating) and all(c["tool"] == "talosctl" for c in mutating), summary(mutating)
    assert len(mutating) == 1 and "10.0.48.21" in mutating[0]["argv"] and "--insecure" not in mutating[0]["argv"]
    assert any("--dry-run" in c["argv"] for c in cluster.new_calls())


@pytest.mark.parametrize("what, delete, stage", [
    ("release", ("helm", "uninstall", "spegel", "-n", "kube-system"), "spegel"),
    ("namespace", ("Namespace", "cert-manager"), "cert-manager"),
])
def test_deleted_release_or_namespace_reruns_only_its_stage(cluster, what, delete, stage):
    """Only the stage whose object vanished runs again."""
    if what == "release":
        cluster.uninstall(delete[2], delete[4])
    else:
        assert delete_object(cluster.world, "v1", delete[0], delete[1])
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert synced(cluster.new_mutating()) == [stage]
    assert [c for c in cluster.new_mutating() if c["tool"] in ("talosctl", "kubectl")] == []


def test_a_deleted_daemonset_reruns_only_its_release(cluster):
    """A release whose storage says deployed but whose DaemonSet is gone is not done: its stage alone
    runs and brings the DaemonSet back."""
    assert delete_object(cluster.world, "apps/v1", "DaemonSet", "spegel", "kube-system")
    plan = cluster.project.doit("plan", env=cluster.env)
    lines = [line for line in plan.stdout.splitlines() if "would run" in line]
    assert len(lines) == 1 and lines[0].startswith("release-spegel"), plan.stdout
    assert "DaemonSet kube-system/spegel is missing" in lines[0] or "DaemonSet spegel is missing" in lines[0]
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert executed_tasks(result.stdout) == ["release-spegel"]
    assert synced(cluster.new_mutating()) == ["spegel"]
    assert [c for c in cluster.new_mutating() if c["tool"] in ("talosctl", "kubectl")] == []


def test_hand_edited_object_is_put_back_by_its_stage_only(cluster):
    """A ClusterIssuer changed by hand in the cluster: only its manifest stage applies again."""
    issuer = admin(cluster.world, "GET", "objects?apiVersion=cert-manager.io/v1&kind=ClusterIssuer")["items"][0]
    issuer["spec"] = {"ca": {"secretName": "hand-made"}}
    admin(cluster.world, "POST", "objects", issuer)
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert executed_tasks(result.stdout) == ["cluster-issuer"]
    mutating = cluster.new_mutating()
    assert [c["tool"] for c in mutating] == ["kubectl"], summary(mutating)


def test_deleted_crd_reruns_only_the_crd_seeding(cluster):
    """A seeded CRD deleted in the cluster: only the CRD stage applies again."""
    assert delete_object(cluster.world, "apiextensions.k8s.io/v1", "CustomResourceDefinition",
                         "certificates.cert-manager.io")
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert [c["tool"] for c in mutating] == ["kubectl"], summary(mutating)
    assert "crds" in executed_tasks(result.stdout)


def test_failed_stage_is_named_and_the_rerun_starts_there(cluster):
    """A release whose sync exits 1 fails the run naming the stage; the rerun re-applies nothing before it."""
    cluster.uninstall("coredns")
    cilium = cluster.project.read_yaml("bootstrap/values/cilium.yaml")
    add_fault(cluster.world.dir, tool="helmfile", match="name=coredns", action="fail", exit=1,
              stderr="simulated failure", times=1)
    failed = cluster.bootstrap()
    assert failed.returncode != 0
    assert "release-coredns" in failed.stdout + failed.stderr
    assert cilium == cluster.project.read_yaml("bootstrap/values/cilium.yaml")
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert synced(cluster.new_mutating()) == ["coredns"]
    assert summary(c for c in cluster.new_mutating() if c["tool"] != "helmfile" and c["tool"] != "helm") == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_stage_resumes_without_reset_or_second_bootstrap(cluster, sig):
    """SIGTERM or Ctrl-C in the middle of a stage; the next run finishes only that stage."""
    cluster.uninstall("kube-vip")
    add_fault(cluster.world.dir, tool="helmfile", match="name=kube-vip", action="hang", seconds=30, times=1)
    process = cluster.bootstrap_in_background("name=kube-vip")
    process.send_signal(sig)
    process.communicate(timeout=60)
    assert process.returncode != 0
    clear_faults(cluster.world.dir)
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert synced(mutating) == ["kube-vip"]
    assert not any(c["tool"] == "talosctl" for c in mutating)


def test_a_second_concurrent_run_is_refused(cluster):
    """While one run works on a stage, a second run changes nothing and says who holds the lock."""
    cluster.uninstall("spegel")
    add_fault(cluster.world.dir, tool="helmfile", match="name=spegel", action="hang", seconds=8, times=1)
    first = cluster.bootstrap_in_background("name=spegel")
    mark = cluster.mark
    second = cluster.project.doit("bootstrap", env=cluster.env)
    first.communicate(timeout=120)
    clear_faults(cluster.world.dir)
    assert first.returncode == 0
    assert second.returncode != 0
    assert "another bootstrap run holds build/.bootstrap.lock" in second.stdout + second.stderr
    assert synced([c for c in cluster.world.calls()[mark:] if c["mutating"]]) == ["spegel"]


def _signed_out(vaults: dict) -> tuple[bool, dict]:
    return False, vaults


def _missing_item(vaults: dict) -> tuple[bool, dict]:
    del vaults["homelab"]["onepassword-connect"]
    return True, vaults


def _rotated_ca(vaults: dict) -> tuple[bool, dict]:
    vaults["homelab"]["talos"]["machine-ca-crt"] = "cm90YXRlZCBjYQ=="
    return True, vaults


@pytest.mark.parametrize("break_op, message", [
    (_signed_out, "You are not currently signed in"),         # already the Talos client config needs op
    # found by the preflight, before the stage starts (tasks/apply/preflight.py)
    (_missing_item, "stage resources failed: preflight found 1 problem(s) before any change"),
])
def test_op_failure_stops_the_stage_before_kubectl(cluster, break_op, message):
    """op signed out or a reference it cannot resolve: the stage fails with op's message and
    kubectl receives nothing."""
    assert delete_object(cluster.world, "v1", "Secret", "onepassword-secret", "external-secrets")
    result = cluster.bootstrap_with_op(break_op)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert cluster.new_mutating() == []
    cluster.converge()


def test_a_stranger_api_server_is_refused(cluster):
    """If the API server reached is not the cluster this tool built, nothing is applied."""
    identity = cluster.project.path("build/cluster-identity")
    original = identity.read_text()
    identity.write_text("00000000-not-this-cluster\n")
    cluster.uninstall("spegel")
    try:
        result = cluster.bootstrap()
    finally:
        identity.write_text(original)
    assert result.returncode != 0
    assert "not the cluster this tool built" in result.stdout + result.stderr
    assert "record the new cluster with `doit trust-cluster`" in result.stdout + result.stderr
    assert cluster.new_mutating() == []
    cluster.converge()


def test_invalid_values_make_no_mutating_call(cluster):
    """A guard violation stops the run before any call that changes the cluster."""
    path = "bootstrap/values/kube-vip.yaml"
    original = cluster.project.path(path).read_text()
    settings = cluster.project.read_yaml(path)
    settings["services"]["enabled"] = True
    cluster.project.write_yaml(path, settings)
    try:
        result = cluster.bootstrap()
    finally:
        cluster.project.path(path).write_text(original)
    assert result.returncode != 0
    assert "kube-vip-control-plane-only" in result.stdout + result.stderr
    assert cluster.new_calls() == []


def test_no_secret_store_without_the_external_secrets_operator(cluster):
    """The ClusterSecretStore is refused while the operator's deployment is missing in the cluster,
    even when the release's sync claimed success without bringing it back."""
    assert delete_object(cluster.world, "apps/v1", "Deployment", "external-secrets", "external-secrets")
    assert delete_object(cluster.world, "external-secrets.io/v1", "ClusterSecretStore", "onepassword")
    add_fault(cluster.world.dir, tool="helmfile", match="name=external-secrets sync", action="fail", exit=0, times=1)
    try:
        result = cluster.bootstrap()
    finally:
        clear_faults(cluster.world.dir)
    assert result.returncode != 0
    assert ("refusing to apply build/manifests/clustersecretstore.yaml: the External Secrets Operator deployment "
            "external-secrets/external-secrets is missing") in result.stdout + result.stderr
    assert [c["tool"] for c in cluster.new_mutating()] == ["helmfile"]        # the faked sync, nothing applied
    cluster.converge()
    assert synced(cluster.new_mutating()) == ["external-secrets"]


@pytest.mark.parametrize("status", ["pending-upgrade", "pending-rollback"])
def test_release_left_pending_is_rolled_back_never_uninstalled(cluster, status):
    """A release an interrupted helm left pending is rolled back (a running CNI is never
    uninstalled), then synced again."""
    mark_release(cluster.world, "cilium", "kube-system", status)
    plan = cluster.project.doit("plan", env=cluster.env)
    assert f"release cilium is {status}" in plan.stdout, plan.stdout
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert [c["argv"][0] for c in mutating if c["tool"] == "helm"][:1] == ["rollback"], summary(mutating)
    assert synced(mutating) == ["cilium"]


def test_replaced_first_control_plane_rejoins_without_a_second_bootstrap(cluster):
    """The first control-plane node back in maintenance mode while the others run etcd: it gets
    its config again (after confirming maintenance mode) and no `talosctl bootstrap` runs."""
    with talos_state.locked(cluster.world.dir) as state:
        state["10.0.48.11"] = talos_state.reset_node(state["10.0.48.11"])
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert [c["tool"] for c in mutating] == ["talosctl"], summary(mutating)
    assert "apply-config" in mutating[0]["argv"] and "10.0.48.11" in mutating[0]["argv"]
    assert not any("bootstrap" in c["argv"] for c in cluster.new_calls() if c["tool"] == "talosctl")


def test_configured_nodes_never_get_an_insecure_config_when_authentication_fails(cluster):
    """A client certificate the nodes no longer accept (rotated CA, expired cert) looks like
    maintenance mode to the API check; the node must confirm it, so nothing is sent --insecure."""
    result = cluster.bootstrap_with_op(_rotated_ca)
    assert result.returncode != 0
    assert "does not confirm maintenance mode" in result.stdout + result.stderr
    block = failure_report(result.stdout)
    assert len(block) <= 3 and "wrong credentials" in block[1] and "fix: put the credentials" in block[2], block
    assert cluster.new_mutating() == []
    cluster.converge()


def test_unreachable_node_fails_its_stage_by_name(cluster):
    """A configured node that stops answering is 'not done' with the reason; the run fails naming it."""
    talos_state.set_node(cluster.world.dir, "10.0.48.21", unreachable=True)
    try:
        result = cluster.bootstrap()
    finally:
        talos_state.set_node(cluster.world.dir, "10.0.48.21", unreachable=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "stage node-worker-1 failed" in output and "10.0.48.21" in output
    block = failure_report(result.stdout)
    # The preflight finds it before the stage changes anything: the node, why, and the fix.
    assert len(block) <= 3 and "preflight found 1 problem(s) before any change" in block[1], block
    assert "cannot be reached in maintenance mode" in block[-1] and "10.0.48.21" in block[-1], block
    assert "fix: power the node on and check the network path to 10.0.48.21:50000" in block[-1], block
    assert cluster.new_mutating() == []
    cluster.converge()


def test_api_server_stopped_and_restarted_mid_run(cluster):
    """The API server goes away; the run waits (with a deadline, saying for what) and carries on
    when it is back, re-applying only what is missing."""
    cluster.uninstall("spegel")
    port = cluster.world.api()["port"]
    cluster.world.stop()
    cluster.env["BOOTSTRAP_TIMEOUT_API"] = "60"
    try:
        process = cluster.bootstrap_in_background("kubeconfig -")   # the API is gone: refetch, then wait
    finally:
        del cluster.env["BOOTSTRAP_TIMEOUT_API"]
    time.sleep(1)
    cluster.world.start_apiserver(15, port=port)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out[-3000:] + err[-3000:]
    # the deadline is 60 s from the stage's start; a loaded machine may have spent a second of it already
    assert re.search(r"waiting up to (59|60)s for the Kubernetes API server", err), err[-2000:]
    assert synced(cluster.new_mutating()) == ["spegel"]


def test_releases_handed_off_to_flux_are_left_to_flux(cluster):
    """Once a Flux HelmRelease owns a release, a values edit does not make the bootstrap fight Flux."""
    admin(cluster.world, "POST", "objects", {
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "cilium", "namespace": "kube-system"},
        "spec": {"interval": "1h", "chartRef": {"kind": "OCIRepository", "name": "cilium"}}})
    cilium = cluster.project.read_yaml("bootstrap/values/cilium.yaml")
    cilium["values"] = {"operator": {"replicas": 3}}
    cluster.project.write_yaml("bootstrap/values/cilium.yaml", cilium)
    plan = cluster.project.doit("plan", env=cluster.env)
    assert "release cilium is managed by Flux (HelmRelease kube-system/cilium)" in plan.stdout, plan.stdout
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    assert cluster.new_mutating() == []
    assert delete_object(cluster.world, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "cilium", "kube-system")


# The releases the example tree manages whose hand-off the requirements name: helm-controller's first
# upgrade of each, with the real chart and the tree's HelmRelease values, must succeed.
TAKEN_OVER = {"cert-manager": "cert-manager/cert-manager", "external-secrets": "external-secrets/external-secrets",
              "flux-operator": "flux-system/flux-operator", "flux-instance": "flux-system/flux-instance"}


def _helm_controller_upgrade(cluster, helmrelease: dict, chart: str) -> subprocess.CompletedProcess:
    """What helm-controller does on its first reconcile of an existing release: upgrade it in the
    HelmRelease's namespace (its storage namespace) under the name it derives (releaseName, else
    [targetNamespace-]name), with only the HelmRelease's values and --wait (helm-controller's defaults)."""
    meta, spec = helmrelease["metadata"], helmrelease["spec"]
    name = spec.get("releaseName") or "-".join(filter(None, [spec.get("targetNamespace"), meta["name"]]))
    return subprocess.run([str(cluster.world.dir / "bin" / "helm"), "upgrade", name, chart,
                           "-n", spec.get("storageNamespace") or meta["namespace"], "--reset-values",
                           "--values", "-", "--wait", "--timeout", "120s",
                           "--kubeconfig", str(cluster.project.path("build/kubeconfig"))],
                          input=yaml.safe_dump(spec.get("values") or {}), env={**os.environ, **cluster.env},
                          capture_output=True, text=True, timeout=180)


def _helm_json(cluster, *args: str):
    """The JSON answer of the real helm, run against this cluster."""
    done = subprocess.run([str(cluster.world.dir / "bin" / "helm"), *args, "-o", "json", "--kubeconfig",
                           str(cluster.project.path("build/kubeconfig"))], env={**os.environ, **cluster.env},
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_flux_takes_over_the_releases_with_the_trees_values(cluster):
    """Play helm-controller after a bootstrap: each release upgraded with the real chart and the example
    tree's HelmRelease values succeeds (CRDs templated and owned by the release, no ownership conflict);
    with the HelmReleases in place `doit plan` reports every one handed off and a run changes nothing;
    exactly one Kustomization reconciles the cluster root."""
    cluster.converge()
    charts = cluster.project.read_yaml("bootstrap/charts.yaml")["charts"]
    tree = cluster.project.path("examples/home-ops/kubernetes/apps")
    created = []
    try:
        for release, where in TAKEN_OVER.items():
            helmrelease = yaml.safe_load((tree / where / "app" / "helmrelease.yaml").read_text())
            chart = cluster.world.chart_source / f"{charts[release]['chart']}-{charts[release]['version']}"
            upgraded = _helm_controller_upgrade(cluster, helmrelease, str(chart))
            assert upgraded.returncode == 0, f"{release}: {upgraded.stderr}"
            assert _helm_json(cluster, "get", "values", release, "-n", where.split("/")[0]) == helmrelease["spec"]["values"]
            admin(cluster.world, "POST", "objects", helmrelease)
            created.append(helmrelease["metadata"])
        plan = cluster.project.doit("plan", env=cluster.env)
        for release, where in TAKEN_OVER.items():
            namespace = where.split("/")[0]
            assert f"release {release} is managed by Flux (HelmRelease {namespace}/{release})" in plan.stdout, plan.stdout
        assert cluster.bootstrap().returncode == 0 and cluster.new_mutating() == []
    finally:
        for meta in created:
            delete_object(cluster.world, "helm.toolkit.fluxcd.io/v2", "HelmRelease", meta["name"], meta["namespace"])
    path = cluster.project.read_yaml("bootstrap/values/flux-instance.yaml")["sync"]["path"]
    kustomizations = admin(cluster.world, "GET", "objects?apiVersion=kustomize.toolkit.fluxcd.io/v1&kind=Kustomization")
    assert [(k["metadata"]["namespace"], k["metadata"]["name"]) for k in kustomizations["items"]
            if k["spec"]["path"].strip("./") == path] == [("flux-system", "flux-system")]
    assert len(kustomizations["items"]) == 1


def test_repaved_cluster_reruns_every_stage(cluster):
    """Every node back in maintenance mode and an empty API: every stage runs again, one bootstrap.
    Its first two attempts answer FailedPrecondition (time not in sync yet) and are retried."""
    repave(cluster.world)
    add_fault(cluster.world.dir, tool="talosctl", match=r"bootstrap -n", action="fail", exit=1, times=2,
              stderr="error executing bootstrap: 1 error occurred:\n\t* 10.0.48.11: rpc error: code = "
                     "FailedPrecondition desc = time is not in sync yet\n\n")
    try:
        result = cluster.bootstrap()
    finally:
        clear_faults(cluster.world.dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = cluster.new_mutating()
    bootstraps = [c for c in mutating if c["tool"] == "talosctl" and "bootstrap" in c["argv"]]
    assert [c.get("fault") for c in bootstraps] == ["fail", "fail", None]      # retried, then exactly one
    assert sum(1 for c in mutating if c["tool"] == "talosctl" and "apply-config" in c["argv"]) == 4
    assert synced(mutating) == RELEASES
    assert cluster.project.path("build/cluster-identity").read_text().strip() == cluster.world_uid()
