"""What cilium-operator does at run time that the chart does not: it registers Cilium's CRDs.

cilium-operator (pkg/k8s/apis/cilium.io/client/register.go, CreateCustomResourceDefinitions) creates
the CRDs at start unless ``skip-crd-creation`` is "true" in the cilium-config ConfigMap (chart value
``operator.skipCRDCreation``); the chart's cilium-operator ClusterRole lists exactly these 21 names
(templates/cilium-operator/clusterrole.yaml, ``update`` resourceNames). The cilium agent waits until
they are all served before it reports ready (pkg/k8s/synced/crd.go: "Waiting until all Cilium CRDs
are available"). Schemas: the upstream openAPIV3Schema where ../shared/schemas/crds/cilium.io holds
it (read at run time; those files come from Cilium 1.18.2/1.17.1 via datreeio/CRDs-catalog, whose
``additionalProperties: false`` is removed again), a permissive schema otherwise.
"""
from __future__ import annotations

import json

from tests.project import SHARED

from .objects import condition
from .store import _meta

OPERATOR, AGENT_IMAGE = "cilium-operator", "/cilium/cilium:"
# plural -> (kind, scope, served versions (storage first), short names), as Cilium 1.19 defines them.
CRDS = {
    "ciliumloadbalancerippools": ("CiliumLoadBalancerIPPool", "Cluster", ["v2", "v2alpha1"],
                                  ["ippools", "ippool", "lbippool", "lbippools"]),
    "ciliumbgpclusterconfigs": ("CiliumBGPClusterConfig", "Cluster", ["v2"], ["cbgpcluster"]),
    "ciliumbgppeerconfigs": ("CiliumBGPPeerConfig", "Cluster", ["v2"], ["cbgppeer"]),
    "ciliumbgpadvertisements": ("CiliumBGPAdvertisement", "Cluster", ["v2"], ["cbgpadvert"]),
    "ciliumbgpnodeconfigs": ("CiliumBGPNodeConfig", "Cluster", ["v2"], ["cbgpnode"]),
    "ciliumbgpnodeconfigoverrides": ("CiliumBGPNodeConfigOverride", "Cluster", ["v2"], ["cbgpnodeoverride"]),
    "ciliumclusterwideenvoyconfigs": ("CiliumClusterwideEnvoyConfig", "Cluster", ["v2"], ["ccec"]),
    "ciliumclusterwidenetworkpolicies": ("CiliumClusterwideNetworkPolicy", "Cluster", ["v2"], ["ccnp"]),
    "ciliumegressgatewaypolicies": ("CiliumEgressGatewayPolicy", "Cluster", ["v2"], ["cegp"]),
    "ciliumendpoints": ("CiliumEndpoint", "Namespaced", ["v2"], ["cep", "ciliumep"]),
    "ciliumendpointslices": ("CiliumEndpointSlice", "Cluster", ["v2alpha1"], ["ces"]),
    "ciliumenvoyconfigs": ("CiliumEnvoyConfig", "Namespaced", ["v2"], ["cec"]),
    "ciliumidentities": ("CiliumIdentity", "Cluster", ["v2"], ["ciliumid"]),
    "ciliumlocalredirectpolicies": ("CiliumLocalRedirectPolicy", "Namespaced", ["v2"], ["clrp"]),
    "ciliumnetworkpolicies": ("CiliumNetworkPolicy", "Namespaced", ["v2"], ["cnp", "ciliumnp"]),
    "ciliumnodes": ("CiliumNode", "Cluster", ["v2"], ["cn", "ciliumn"]),
    "ciliumnodeconfigs": ("CiliumNodeConfig", "Namespaced", ["v2"], []),
    "ciliumcidrgroups": ("CiliumCIDRGroup", "Cluster", ["v2"], ["ccg"]),
    "ciliuml2announcementpolicies": ("CiliumL2AnnouncementPolicy", "Cluster", ["v2alpha1"], ["l2announcement"]),
    "ciliumpodippools": ("CiliumPodIPPool", "Cluster", ["v2alpha1"], ["cpip"]),
    "ciliumgatewayclassconfigs": ("CiliumGatewayClassConfig", "Cluster", ["v2alpha1"], ["cgcc"]),
}
PERMISSIVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _structural(node):
    """A catalog JSON Schema turned back into an openAPIV3Schema (drop additionalProperties: false)."""
    if isinstance(node, dict):
        return {k: _structural(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_structural(v) for v in node]
    return node


def schema(kind: str, version: str) -> dict:
    """The openAPIV3Schema of a kind at a version: upstream when ../shared has it, else permissive."""
    path = SHARED / "schemas" / "crds" / "cilium.io" / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        return PERMISSIVE
    return {"type": "object", **_structural(json.loads(path.read_text()))}


def crd(plural: str) -> dict:
    """The CustomResourceDefinition cilium-operator creates for one plural."""
    kind, scope, versions, short = CRDS[plural]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.cilium.io"},
            "spec": {"group": "cilium.io", "scope": scope,
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
                               "shortNames": short, "categories": ["cilium"]},
                     "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": schema(kind, v)}}
                                  for i, v in enumerate(versions)]}}


def register_crds(ctl, operator: dict) -> None:
    """cilium-operator started: create the CRDs it manages (unless its config skips that)."""
    config = ctl.get("", "v1", "configmaps", _meta(operator)["namespace"], "cilium-config") or {}
    if (config.get("data") or {}).get("skip-crd-creation") == "true":
        return
    crds = ctl.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    for plural in CRDS:
        if ctl.get("apiextensions.k8s.io", "v1", "customresourcedefinitions", "", f"{plural}.cilium.io") is None:
            ctl.store.create(crds, "", crd(plural), manager="cilium-operator-generic")


def agent_waits(ctl, container: dict) -> str | None:
    """What a cilium agent container waits for before it is ready: every Cilium CRD served."""
    if AGENT_IMAGE not in container.get("image", ""):
        return None
    served = all(condition(ctl.get("apiextensions.k8s.io", "v1", "customresourcedefinitions", "",
                                   f"{p}.cilium.io") or {}, "Established") == "True" for p in CRDS)
    return None if served else "Waiting until all Cilium CRDs are available"
