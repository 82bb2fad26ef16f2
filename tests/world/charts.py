"""Stand-in charts, for when the real upstream charts (../shared/charts, test data) are absent or a
test asks for them (``World(charts="stand-in")``, ``python3 -m tests.world start --charts stand-in``):
small charts with the same names and versions as bootstrap/charts.yaml pins, each with a workload
named after the release and, where the real chart (or the controller it installs) brings CRDs, those
CRDs in crds/. The tool reaches them through BOOTSTRAP_CHART_SOURCE only."""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.world.shims import repo_root

# chart name -> (group, kind, plural, scope) of the CRDs the real chart or its controller installs.
CRDS = {
    "cilium": [("cilium.io", "CiliumLoadBalancerIPPool", "ciliumloadbalancerippools", "Cluster", "v2"),
               ("cilium.io", "CiliumBGPClusterConfig", "ciliumbgpclusterconfigs", "Cluster", "v2"),
               ("cilium.io", "CiliumBGPPeerConfig", "ciliumbgppeerconfigs", "Cluster", "v2"),
               ("cilium.io", "CiliumBGPAdvertisement", "ciliumbgpadvertisements", "Cluster", "v2"),
               ("cilium.io", "CiliumL2AnnouncementPolicy", "ciliuml2announcementpolicies", "Cluster", "v2alpha1")],
    "cert-manager": [("cert-manager.io", "ClusterIssuer", "clusterissuers", "Cluster", "v1"),
                     ("cert-manager.io", "Certificate", "certificates", "Namespaced", "v1")],
    "external-secrets": [("external-secrets.io", "ExternalSecret", "externalsecrets", "Namespaced", "v1"),
                         ("external-secrets.io", "ClusterSecretStore", "clustersecretstores", "Cluster", "v1")],
    "flux-operator": [("fluxcd.controlplane.io", "FluxInstance", "fluxinstances", "Namespaced", "v1")],
    # The FluxInstance installs Flux itself, with these CRDs.
    "flux-instance": [("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories", "Namespaced", "v1"),
                      ("source.toolkit.fluxcd.io", "OCIRepository", "ocirepositories", "Namespaced", "v1"),
                      ("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations", "Namespaced", "v1"),
                      ("helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", "Namespaced", "v2")],
    "gateway-helm": [("gateway.envoyproxy.io", "EnvoyProxy", "envoyproxies", "Namespaced", "v1alpha1")],
}
DAEMONSETS = {"cilium", "spegel", "kube-vip"}


def crd(group: str, kind: str, plural: str, scope: str, version: str) -> dict:
    """A minimal, valid CustomResourceDefinition."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": scope,
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": version, "served": True, "storage": True,
                                   "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}]}}


# Node agents run like the real charts' (cilium, kube-vip): host network, every taint tolerated.
AGENT = """      hostNetwork: true
      tolerations:
        - operator: Exists
"""
SCHEDULING = """      {{- with .Values.tolerations }}
      tolerations: {{- toYaml . | nindent 8 }}
      {{- end }}
"""
WORKLOAD = """apiVersion: apps/v1
kind: {kind}
metadata:
  name: {{{{ .Release.Name }}}}
  namespace: {{{{ .Release.Namespace }}}}
  labels:
    app.kubernetes.io/name: {{{{ .Release.Name }}}}
spec:
{replicas}  selector:
    matchLabels:
      app.kubernetes.io/name: {{{{ .Release.Name }}}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{{{ .Release.Name }}}}
      annotations:
        values-sha: {{{{ toJson .Values | sha256sum }}}}
    spec:
      {{{{- with .Values.nodeSelector }}}}
      nodeSelector: {{{{- toYaml . | nindent 8 }}}}
      {{{{- end }}}}
{scheduling}      containers:
        - name: main
          image: registry.invalid/{chart}:{version}
"""

FLUX_INSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: {{ .Release.Namespace }}
spec:
  distribution:
    version: {{ .Values.instance.distribution.version | quote }}
    registry: {{ .Values.instance.distribution.registry }}
  {{- with .Values.instance.sync }}
  sync:
    {{- toYaml . | nindent 4 }}
  {{- end }}
"""


def write_chart(root: Path, chart: str, version: str) -> Path:
    """One stand-in chart folder <chart>-<version>."""
    folder = root / f"{chart}-{version}"
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "Chart.yaml").write_text(yaml.safe_dump(
        {"apiVersion": "v2", "name": chart, "version": version, "description": f"world stand-in for {chart}"}))
    kind = "DaemonSet" if chart in DAEMONSETS else "Deployment"
    replicas = "" if kind == "DaemonSet" else "  replicas: 1\n"
    (folder / "templates" / "workload.yaml").write_text(
        WORKLOAD.format(kind=kind, replicas=replicas, chart=chart, version=version,
                        scheduling=AGENT if kind == "DaemonSet" else SCHEDULING))
    if chart == "flux-instance":
        (folder / "templates" / "instance.yaml").write_text(FLUX_INSTANCE)
    if chart in CRDS:
        (folder / "crds").mkdir(exist_ok=True)
        (folder / "crds" / "crds.yaml").write_text(
            "".join("---\n" + yaml.safe_dump(crd(*spec), sort_keys=True) for spec in CRDS[chart]))
    return folder


def write_charts(root: Path, charts_file: Path | None = None) -> list[Path]:
    """Every chart bootstrap/charts.yaml pins, as stand-ins under root."""
    pinned = yaml.safe_load((charts_file or repo_root() / "bootstrap" / "charts.yaml").read_text())["charts"]
    return [write_chart(root, c["chart"], str(c["version"])) for c in pinned.values()]
