"""README claims about recovery and refusal, each shown end to end in the shared simulated cluster:
a lost identity record, etcd already bootstrapped, a bootstrap not available yet, envoy-gateway
CRDs at apply time, the VIP fallback, Flux not Ready, a release left pending-install, and the HELM
override reaching helmfile's helm. (A bootstrap not available yet is retried: the repave scenario.)"""
from __future__ import annotations

import stat

from tests.commands.conftest import summary, synced
from tests.world.shims import add_fault, clear_faults
from tests.world.world import admin, mark_release


def _talosctl_bootstraps(calls: list[dict]) -> list[dict]:
    return [c for c in calls if c["tool"] == "talosctl" and "bootstrap" in c["argv"]]


def test_a_lost_identity_record_is_relearned_only_after_the_user_confirms(cluster):
    """Without build/cluster-identity the run stops before any change and names `doit trust-cluster`;
    that task records the cluster's kube-system uid; the next run goes on."""
    identity = cluster.project.path("build/cluster-identity")
    uid = identity.read_text().strip()
    identity.unlink()
    cluster.uninstall("spegel")
    refused = cluster.bootstrap()
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "build/cluster-identity is missing" in output and "`doit trust-cluster`" in output
    assert cluster.new_mutating() == [] and not identity.exists()
    trusted = cluster.project.doit("trust-cluster", env=cluster.env)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert f"recorded kube-system uid {uid}" in trusted.stdout
    assert identity.read_text().strip() == uid
    cluster.converge()
    assert synced(cluster.new_mutating()) == ["spegel"]


def test_etcd_already_bootstrapped_counts_as_done(cluster):
    """The API (both tries of the first query) and etcd's status fail once: the stage calls
    `talosctl bootstrap`, which answers
    AlreadyExists; that counts as done, nothing else changes and the identity stays."""
    identity = cluster.project.path("build/cluster-identity").read_text()
    add_fault(cluster.world.dir, tool="kubectl", match=r" get namespace,", action="fail", exit=1, times=2,
              stderr="The connection to the server 127.0.0.1 was refused - did you specify the right host or port?\n")
    add_fault(cluster.world.dir, tool="talosctl", match=r"service etcd", action="fail", exit=1, times=1,
              stderr="error listing services: 1 error occurred:\n\t* 10.0.48.11: rpc error: code = Unavailable "
                     "desc = connection error\n\n")
    try:
        result = cluster.bootstrap()
    finally:
        clear_faults(cluster.world.dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = cluster.new_mutating()
    assert [c["tool"] for c in mutating] == ["talosctl"] and len(_talosctl_bootstraps(mutating)) == 1
    assert cluster.project.path("build/cluster-identity").read_text() == identity


def test_envoy_gateway_crds_are_refused_at_apply_time_too(cluster):
    """Should the CRD template ever yield envoy-gateway CRDs, the stage refuses before kubectl sees them."""
    cluster.project.path("build/seeded-crds.json").unlink()
    crds = ("---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata:\n  name: envoyproxies.gateway.envoyproxy.io\nspec:\n  group: gateway.envoyproxy.io\n")
    add_fault(cluster.world.dir, tool="helmfile", match=r"template", action="fail", exit=0, stdout=crds, times=1)
    try:
        result = cluster.bootstrap()
    finally:
        clear_faults(cluster.world.dir)
    assert result.returncode != 0
    assert ("stage crds failed: refusing to seed envoy-gateway CRDs: CustomResourceDefinition "
            "envoyproxies.gateway.envoyproxy.io") in result.stdout + result.stderr
    assert cluster.new_mutating() == []
    cluster.converge()


def test_a_vip_that_does_not_answer_falls_back_to_the_first_control_plane(cluster):
    """kube-vip's VIP not answering: the api-vip stage fails at its deadline naming the VIP and
    build/kubeconfig points at the first control plane again, so the next run can still work."""
    port = cluster.world.api()["port"]
    mapped = {**cluster.env, "BOOTSTRAP_TIMEOUT_VIP": "2",
              "BOOTSTRAP_ADDRESS_MAP": f"10.0.48.55:6443=127.0.0.1:9,10.0.48.11:6443=127.0.0.1:{port}"}
    cluster.mark = len(cluster.world.calls())
    result = cluster.project.doit("bootstrap", env=mapped)
    assert result.returncode != 0
    assert ("stage api-vip failed: gave up after 2s waiting for the API server to answer on the VIP 10.0.48.55"
            in result.stdout + result.stderr)
    config = cluster.project.read_yaml("build/kubeconfig")["clusters"][0]["cluster"]
    assert (config["server"], config["tls-server-name"]) == (f"https://127.0.0.1:{port}", "10.0.48.11")
    assert cluster.new_mutating() == []
    cluster.converge()
    config = cluster.project.read_yaml("build/kubeconfig")["clusters"][0]["cluster"]
    assert config["tls-server-name"] == "10.0.48.55"


def test_flux_not_ready_fails_naming_the_object_and_its_message(cluster):
    """A Kustomization that stays not Ready fails flux-ready at its deadline with Flux's own message."""
    namespace = cluster.world.settings("flux-instance")["namespace"]
    message = "kustomization path not found: lstat /tmp/kustomization/kubernetes/flux/cluster: no such file"
    condition = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "namespace": namespace,
                 "name": namespace, "type": "Ready"}
    admin(cluster.world, "POST", "conditions", {**condition, "status": "False", "reason": "ArtifactFailed",
                                                "message": message})
    try:
        result = cluster.project.doit("bootstrap", env={**cluster.env, "BOOTSTRAP_TIMEOUT_FLUX": "3"})
    finally:
        admin(cluster.world, "DELETE", "conditions", condition)
    assert result.returncode != 0
    assert (f"stage flux-ready failed: gave up after 3s waiting for Flux to reconcile the cluster root: "
            f"Kustomization {namespace}/{namespace} is not Ready: {message}") in result.stdout + result.stderr
    cluster.converge()


def test_a_release_left_pending_install_is_uninstalled_then_installed(cluster):
    """An install that never completed has nothing to roll back to: it is removed, then installed."""
    mark_release(cluster.world, "spegel", "kube-system", "pending-install")
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mutating = cluster.new_mutating()
    helm = [c["argv"][:2] for c in mutating if c["tool"] == "helm"]
    assert helm[0] == ["uninstall", "spegel"], summary(mutating)
    assert synced(mutating) == ["spegel"]


def test_the_helm_override_reaches_helmfile(cluster, tmp_path):
    """HELM names the helm helmfile runs (not the helm first on PATH)."""
    marker = tmp_path / "helm-calls"
    wrapper = tmp_path / "my-helm"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {marker}\nexec {cluster.world.dir / "bin" / "helm"} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    cluster.uninstall("spegel")
    cluster.mark = len(cluster.world.calls())
    result = cluster.project.doit("bootstrap", env={**cluster.env, "HELM": str(wrapper)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sync = next(c for c in cluster.new_mutating() if c["tool"] == "helmfile")
    assert sync["argv"][:2] == ["--helm-binary", str(wrapper)]
    assert any("spegel" in line for line in marker.read_text().splitlines()), marker.read_text()
