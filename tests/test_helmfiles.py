"""The hand-kept helmfiles, read by the real helmfile: release order, needs, values and settings."""
from __future__ import annotations

import os
import subprocess

import yaml


def _build(project, binaries, helmfile: str) -> list[dict]:
    """`helmfile build` of one helmfile in the project: its releases after templating."""
    env = {**os.environ, "PATH": f"{binaries['helm'].parent}:{os.environ['PATH']}",
           "HELMFILE_UPGRADE_NOTICE_DISABLED": "1", "BOOTSTRAP_CHART_SOURCE": "/charts"}
    result = subprocess.run([str(binaries["helmfile"]), "-f", f"bootstrap/helmfile.d/{helmfile}", "build"],
                            cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    return [r for d in documents for r in d.get("releases") or []]


def test_apps_are_chained_in_the_required_order(rendered, world_binaries):
    """01-apps.yaml: the requirements' order, each release `needs` the one before, rendered values."""
    releases = _build(rendered, world_binaries, "01-apps.yaml")
    names = [r["name"] for r in releases]
    assert names == ["cilium", "coredns", "spegel", "cert-manager", "external-secrets", "onepassword-connect",
                     "kube-vip", "flux-operator", "flux-instance"]
    for before, release in zip(releases, releases[1:]):
        assert release["needs"] == [f"{before['namespace']}/{before['name']}"]
    assert releases[0]["values"] == ["../../build/values/cilium.yaml"]
    assert releases[0]["chart"] == "/charts/cilium-1.19.4"


def test_namespace_creation_follows_the_settings(rendered, world_binaries, schema_env):
    """cert-manager.yaml createNamespace: false reaches the cert-manager release, and only it."""
    settings = rendered.read_yaml("bootstrap/values/cert-manager.yaml")
    settings["createNamespace"] = False
    rendered.write_yaml("bootstrap/values/cert-manager.yaml", settings)
    assert rendered.doit("render", env=schema_env).returncode == 0
    create = {r["name"]: r["createNamespace"] for r in _build(rendered, world_binaries, "01-apps.yaml")}
    assert create.pop("cert-manager") is False and all(create.values())
