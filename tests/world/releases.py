"""The bootstrap's cluster steps, done by hand with the real helm and kubectl against a fake API server,
for the chart contract tests: nodes as Talos registers them, step 2's resources (bootstrap/resources.yaml
with every ``op://`` reference replaced by a placeholder), step 3's CRDs (the charts templated with their
CRD gates on, as bootstrap/helmfile.d/00-crds.yaml does, CRDs only) and step 4's releases
(``helm upgrade --install --wait --wait-for-jobs`` with the values ``doit render`` wrote)."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.world import talos_kube
from tests.world.fixtures import run_tool

# The charts whose CRDs step 3 seeds (bootstrap/charts.yaml crds:), and the values that turn their CRD
# templates on (the releases' rendered values do too).
CRD_CHARTS = {"cert-manager": ["--set", "crds.enabled=true"], "external-secrets": ["--set", "installCRDs=true"],
              "flux-operator": ["--set", "installCRDs=true"]}
POST_RENDERER = Path(__file__).resolve().parent.parent.parent / "bootstrap" / "helmfile.d" / "crds-only"
PLACEHOLDER = "d29ybGQ="  # base64 of "world"


@dataclass(frozen=True)
class Release:
    """One bootstrap release: name, namespace and its chart folder."""

    name: str
    namespace: str
    chart: Path


def releases(project: Path, charts: Path) -> list[Release]:
    """The bootstrap releases in order (bootstrap/charts.yaml), each with its unpacked chart."""
    data = yaml.safe_load((project / "bootstrap" / "charts.yaml").read_text())
    return [Release(r["name"], r["namespace"], charts / f"{data['charts'][r['name']]['chart']}-"
                                                      f"{data['charts'][r['name']]['version']}")
            for r in data["releases"]]


def register_nodes(api: dict, project: Path) -> None:
    """The Nodes the kubelets of bootstrap/values/talos.yaml register."""
    talos = yaml.safe_load((project / "bootstrap" / "values" / "talos.yaml").read_text())
    talos_kube.register_nodes(api, [{"hostname": n["name"], "address": n["address"], "machine_type": n["role"],
                                     "talos_version": talos["talosVersion"],
                                     "kubernetes_version": talos["kubernetesVersion"]} for n in talos["nodes"]])


class Tools:
    """The real helm and kubectl with one environment."""

    def __init__(self, binaries: dict, env: dict):
        self.binaries, self.env = binaries, env

    def helm(self, *args, input: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        return run_tool(self.binaries["helm"], args, self.env, input, timeout=timeout)

    def kubectl(self, *args, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return run_tool(self.binaries["kubectl"], args, self.env, input, check=check)

    def seed_resources(self, project: Path) -> None:
        """Step 2: bootstrap/resources.yaml applied server-side, secrets as placeholders."""
        text = re.sub(r"op://[^\s\"']+", PLACEHOLDER, (project / "bootstrap" / "resources.yaml").read_text())
        self.kubectl("apply", "--server-side", "-f", "-", input=text)

    def seed_crds(self, by_name: dict[str, Release], owned: bool = True) -> list[str]:
        """Step 3: the CRDs of the charts that template them, applied server-side; returns their names.
        owned: through the project's crds-only post-renderer, which gives each CRD its release's Helm
        ownership, as 00-crds.yaml does; else the bare templates (what Helm then refuses to adopt)."""
        crds = []
        for name, values in CRD_CHARTS.items():
            release = by_name[name]
            owner = ["--post-renderer", str(POST_RENDERER), "--post-renderer-args", "--release",
                     "--post-renderer-args", name, "--post-renderer-args", "--namespace",
                     "--post-renderer-args", release.namespace] if owned else []
            rendered = self.helm("template", name, release.chart, "-n", release.namespace, "--include-crds",
                                 "--no-hooks", *values, *owner)
            assert rendered.returncode == 0, rendered.stderr
            crds += [d for d in yaml.safe_load_all(rendered.stdout) if d and d["kind"] == "CustomResourceDefinition"]
        self.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(crds))
        return [c["metadata"]["name"] for c in crds]

    def install(self, release: Release, values: Path, *extra: str, timeout: str = "120s") -> subprocess.CompletedProcess:
        """Step 4: helm upgrade --install --wait --wait-for-jobs with the rendered values."""
        return self.helm("upgrade", "--install", release.name, release.chart, "-n", release.namespace,
                         "--create-namespace", "-f", values, "--wait", "--wait-for-jobs", "--timeout", timeout,
                         *extra)
