"""Where the upstream JSON Schemas of the pinned versions live: tables as data, lookups as functions.

Every schema has two addresses: its upstream raw URL (pinned to the tag or commit of the version we
deploy) and a path relative to a mirror that uses the layout of `../shared/schemas`. The relative path
is also the key of the on-disk cache (see `tasks/schema_store.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

RAW = "https://raw.githubusercontent.com"

# The Talos machine-config schema: one file per Talos release, the tag is the version.
TALOS = {
    "url": RAW + "/siderolabs/talos/v{bare}/pkg/machinery/config/schemas/config.schema.json",
    "mirror": "talos/talos-v{bare}-config.schema.json",
}

# The charts' own tag is not the chart version in controlplaneio-fluxcd/charts (chart 0.49.0 is repo
# tag v0.14.8), so each pinned chart version names the commit that released it: immutable, and it
# matches what Helm validates. An unknown version falls back to FLUX_CHARTS_FALLBACK_REF (`main`,
# the newest charts): good enough right after a bump, but add the row to be exact.
FLUX_CHARTS_REFS = {
    "0.49.0": "fc87d3b3f55bc28becb11126dadcde2bedf648a0",
}
FLUX_CHARTS_FALLBACK_REF = "main"

# Helm chart values schemas, keyed by chart name. `{bare}` is the version without a leading "v",
# `{ref}` the flux charts commit above. `draft` forces a validator class where the file's `$schema`
# is one `jsonschema` does not recognise (None: use `validator_for`).
HELM_VALUES = {
    "cilium": {
        "url": RAW + "/cilium/cilium/v{bare}/install/kubernetes/cilium/values.schema.json",
        "mirror": "helm-values/cilium-{bare}.values.schema.json",
        "draft": None,
    },
    "cert-manager": {
        "url": RAW + "/cert-manager/cert-manager/v{bare}/deploy/charts/cert-manager/values.schema.json",
        "mirror": "helm-values/cert-manager-v{bare}.values.schema.json",
        "draft": None,
    },
    "external-secrets": {
        "url": RAW + "/external-secrets/external-secrets/helm-chart-{bare}"
        "/deploy/charts/external-secrets/values.schema.json",
        "mirror": "helm-values/external-secrets-{bare}.values.schema.json",
        "draft": None,
    },
    "connect": {
        "url": RAW + "/1Password/connect-helm-charts/connect-{bare}/charts/connect/values.schema.json",
        "mirror": "helm-values/1password-connect-{bare}.values.schema.json",
        "draft": "draft7",
    },
    "flux-operator": {
        "url": RAW + "/controlplaneio-fluxcd/charts/{ref}/charts/flux-operator/values.schema.json",
        "mirror": "helm-values/flux-operator-{bare}.values.schema.json",
        "draft": None,
    },
    "flux-instance": {
        "url": RAW + "/controlplaneio-fluxcd/charts/{ref}/charts/flux-instance/values.schema.json",
        "mirror": "helm-values/flux-instance-{bare}.values.schema.json",
        "draft": None,
    },
}

# Other names the same charts go by (release name in bootstrap/charts.yaml, mirror file prefix).
HELM_ALIASES = {
    "onepassword-connect": "connect",
    "1password-connect": "connect",
}

# Charts that ship no values.schema.json (none of their histories ever had one): nothing to check.
HELM_WITHOUT_SCHEMA = frozenset({"coredns", "spegel", "kube-vip"})

# Custom resources: datreeio/CRDs-catalog, `{group}/{kind_lower}_{version}.json`.
CRDS_CATALOG = {
    "url": RAW + "/datreeio/CRDs-catalog/main/{group}/{kind_lower}_{version}.json",
    "mirror": "crds/{group}/{kind_lower}_{version}.json",
}
CRD_KINDS = frozenset({
    ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
    ("source.toolkit.fluxcd.io/v1", "HelmRepository"),
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ("fluxcd.controlplane.io/v1", "FluxInstance"),
    ("cilium.io/v2", "CiliumLoadBalancerIPPool"),
    ("cilium.io/v2", "CiliumBGPClusterConfig"),
    ("cilium.io/v2", "CiliumBGPPeerConfig"),
    ("cilium.io/v2", "CiliumBGPAdvertisement"),
    ("cilium.io/v2alpha1", "CiliumL2AnnouncementPolicy"),
    ("external-secrets.io/v1", "ExternalSecret"),
    ("external-secrets.io/v1", "ClusterSecretStore"),
    ("cert-manager.io/v1", "ClusterIssuer"),
    ("cert-manager.io/v1", "Certificate"),
})

# Core kinds (apiVersion v1): yannh/kubernetes-json-schema, standalone-strict layout.
CORE_CATALOG = {
    "url": RAW + "/yannh/kubernetes-json-schema/master/master-standalone-strict/{kind_lower}-v1.json",
    "mirror": "kubernetes/{kind_lower}-v1.json",
    "draft": "draft7",
}
CORE_KINDS = frozenset({"Namespace", "Secret", "ConfigMap", "Service"})


@dataclass(frozen=True)
class SchemaRef:
    """One schema: a label for messages, its upstream URL, its mirror/cache path, a forced draft."""

    label: str
    url: str
    rel: str
    draft: str | None = None


def bare(version: str) -> str:
    """The version without a leading "v" (charts.yaml writes `v1.21.1` and `1.19.4` alike)."""
    return str(version).strip().removeprefix("v")


def talos_schema(version: str) -> SchemaRef:
    """The machine-config schema of one Talos release."""
    fields = {"bare": bare(version)}
    return SchemaRef(f"Talos v{fields['bare']} config", TALOS["url"].format(**fields),
                     TALOS["mirror"].format(**fields))


def helm_chart_name(chart: str) -> str:
    """The catalogue name of a chart given by chart name, release name or mirror prefix."""
    return HELM_ALIASES.get(chart, chart)


def helm_values_schema(chart: str, version: str) -> SchemaRef | None:
    """The values schema of one chart version, or None when the chart ships none (or is unknown)."""
    entry = HELM_VALUES.get(helm_chart_name(chart))
    if entry is None:
        return None
    fields = {"bare": bare(version)}
    fields["ref"] = FLUX_CHARTS_REFS.get(fields["bare"], FLUX_CHARTS_FALLBACK_REF)
    return SchemaRef(f"Helm values of {helm_chart_name(chart)} {version}",
                     entry["url"].format(**fields), entry["mirror"].format(**fields), entry["draft"])


def kubernetes_schema(api_version: str, kind: str) -> SchemaRef | None:
    """The schema of a CRD-backed or core kind, or None when it is not catalogued."""
    if (api_version, kind) in CRD_KINDS:
        group, _, version = api_version.partition("/")
        fields = {"group": group, "version": version, "kind_lower": kind.lower()}
        return SchemaRef(f"{kind} ({api_version})", CRDS_CATALOG["url"].format(**fields),
                         CRDS_CATALOG["mirror"].format(**fields))
    if api_version == "v1" and kind in CORE_KINDS:
        fields = {"kind_lower": kind.lower()}
        return SchemaRef(f"{kind} (v1)", CORE_CATALOG["url"].format(**fields),
                         CORE_CATALOG["mirror"].format(**fields), CORE_CATALOG["draft"])
    return None
