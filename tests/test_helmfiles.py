"""The helmfiles under bootstrap/helmfile.d/, read by the real helmfile in v0 and v1 mode
(HELMFILE_V1MODE=true reproduces helmfile v1): plain YAML including the rendered releases, the
requirements' commands working as written, release order, needs, values and settings."""
from __future__ import annotations

import os
import subprocess

import pytest
import yaml

MODES = {"v0": {}, "v1": {"HELMFILE_V1MODE": "true"}}


def _helmfile(project, binaries, mode: str, *args: str) -> subprocess.CompletedProcess:
    """The real helmfile run in the project root, as the requirements' commands are."""
    env = {**os.environ, **MODES[mode], "PATH": f"{binaries['helm'].parent}:{os.environ['PATH']}",
           "HELMFILE_UPGRADE_NOTICE_DISABLED": "1"}
    return subprocess.run([str(binaries["helmfile"]), *args], cwd=project.root, env=env, capture_output=True,
                          text=True, timeout=120)


def _releases(project, binaries, mode: str, helmfile: str) -> list[dict]:
    """`helmfile build` of one helmfile: its releases after inclusion (rendered with a local chart
    source, so helmfile never looks for the OCI charts on the network)."""
    assert project.doit("render", env={"BOOTSTRAP_CHART_SOURCE": "/charts"}).returncode == 0
    result = _helmfile(project, binaries, mode, "-f", f"bootstrap/helmfile.d/{helmfile}", "build")
    assert result.returncode == 0, result.stderr
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    return [r for d in documents for r in d.get("releases") or []]


def test_the_helmfiles_hold_no_template_expressions(rendered):
    """helmfile v1 templates only *.gotmpl files: ours are plain YAML, so v0 and v1 read them alike."""
    for name in ("00-crds.yaml", "01-apps.yaml"):
        text = rendered.path(f"bootstrap/helmfile.d/{name}").read_text()
        assert "{{" not in text and yaml.safe_load(text)["helmfiles"]
        assert "{{" not in rendered.path(f"build/helmfile/{name}").read_text()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_apps_are_chained_in_the_required_order(rendered, world_binaries, mode):
    """01-apps.yaml: the requirements' order, each release `needs` the one before, rendered values."""
    releases = _releases(rendered, world_binaries, mode, "01-apps.yaml")
    names = [r["name"] for r in releases]
    assert names == ["cilium", "coredns", "spegel", "cert-manager", "external-secrets", "onepassword-connect",
                     "kube-vip", "flux-operator", "flux-instance"]
    for before, release in zip(releases, releases[1:]):
        assert release["needs"] == [f"{before['namespace']}/{before['name']}"]
    assert releases[0]["values"] == ["../values/cilium.yaml"]
    assert releases[0]["chart"] == "/charts/cilium-1.19.4"


def test_namespace_creation_follows_the_settings(rendered, world_binaries, schema_env):
    """cert-manager.yaml createNamespace: false reaches the cert-manager release, and only it."""
    settings = rendered.read_yaml("bootstrap/values/cert-manager.yaml")
    settings["createNamespace"] = False
    rendered.write_yaml("bootstrap/values/cert-manager.yaml", settings)
    create = {r["name"]: r["createNamespace"] for r in _releases(rendered, world_binaries, "v0", "01-apps.yaml")}
    assert create.pop("cert-manager") is False and all(create.values())


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_requirements_crd_command_yields_owned_crds_only(rendered, world_binaries, schema_env, mode):
    """`helmfile -f bootstrap/helmfile.d/00-crds.yaml template --selector name!=envoy-gateway` (step 3 as
    written) prints CustomResourceDefinitions only, none of envoy-gateway, each owned by its release."""
    from tests.project import require_shared
    charts = require_shared("charts")
    assert rendered.doit("render", env={**schema_env, "BOOTSTRAP_CHART_SOURCE": str(charts)}).returncode == 0
    result = _helmfile(rendered, world_binaries, mode, "-f", "bootstrap/helmfile.d/00-crds.yaml", "template",
                       "--selector", "name!=envoy-gateway")
    assert result.returncode == 0, result.stderr
    crds = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert {d["kind"] for d in crds} == {"CustomResourceDefinition"}
    owners = {(d["metadata"]["annotations"]["meta.helm.sh/release-name"],
               d["metadata"]["annotations"]["meta.helm.sh/release-namespace"]) for d in crds}
    assert owners == {("cert-manager", "cert-manager"), ("external-secrets", "external-secrets"),
                      ("flux-operator", "flux-system")}
    assert all(d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm" for d in crds)
    assert not any(d["spec"]["group"].endswith("envoyproxy.io") for d in crds)
    assert len(crds) == 35        # cert-manager 6, external-secrets 25, flux-operator 4 (../shared/charts/README.md)
