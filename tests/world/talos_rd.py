"""Talos resource definitions (RDs): every type a v1.13.9 node registers, their aliases, and
`ResolveResourceKind`.

- Types: every `resource.Type("...")` in siderolabs/talos v1.13.9 pkg/machinery/resources.
- Aliases: cosi-project/runtime v1.14.1 pkg/resource/meta/spec/resource_definition.go Fill():
  the lowercase singular (DisplayType), the lowercase plural and plural.<suffix parts> (AllAliases),
  the upper-case letters (+"s" unless they end in S) when there are more than one; plus the
  explicit Aliases of the few types that declare some.
- Resolution: pkg/machinery/client/resources.go ResolveResourceKind (case-insensitive match on the
  ID or any alias; NotFound "resource %q is not registered", InvalidArgument "resource type %q is
  ambiguous: %v" listing the RD IDs).
"""
from __future__ import annotations

from tests.world.talos_client import RpcError

TYPES = {
    "block.talos.dev": ("BlockDevices BlockSymlinks DiscoveredVolumes DiscoveryRefreshRequests "
        "DiscoveryRefreshStatuses Disks MountRequests MountStatuses SwapStatuses SystemDisks "
        "UserDiskConfigStatuses VolumeConfigs VolumeLifecycles VolumeMountRequests "
        "VolumeMountStatuses VolumeStatuses ZswapStatuses"),
    "cluster.talos.dev": "Affiliates DiscoveryConfigs Identities Infos KubernetesAccessConfigs Members",
    "config.talos.dev": "MachineConfigs MachineTypes",
    "cri.talos.dev": "ImageCacheConfigs RegistryConfigs SeccompProfiles",
    "etcd.talos.dev": "EtcdConfigs EtcdMembers EtcdSpecs PKIStatuses",
    "files.talos.dev": "EtcFileSpecs EtcFileStatuses",
    "hardware.talos.dev": "MemoryModules PCIDevices PCRStatuses Processors SystemInformations",
    "k8s.talos.dev": "NodeAnnotationSpecs NodeCordonedSpecs NodeLabelSpecs NodeTaintSpecs",
    "kubernetes.talos.dev": ("APIServerConfigs AdmissionControlConfigs AuditPolicyConfigs AuthorizationConfigs "
        "BootstrapManifestsConfigs ConfigStatuses ControllerManagerConfigs Endpoints "
        "ExtraManifestsConfigs KubePrismConfigs KubePrismEndpoints KubePrismStatuses "
        "KubeletConfigs KubeletKubeconfigs KubeletLifecycles KubeletSpecs ManifestStatuses "
        "Manifests NodeIPConfigs NodeIPs NodeStatuses Nodenames SchedulerConfigs SecretStatuses "
        "StaticPodServerStatuses StaticPodStatuses StaticPods"),
    "kubespan.talos.dev": ("KubeSpanConfigs KubeSpanEndpoints KubeSpanIdentities KubeSpanPeerSpecs "
        "KubeSpanPeerStatuses"),
    "net.talos.dev": ("AddressSpecs AddressStatuses DNSResolveCaches DNSUpstreams DeviceConfigSpecs "
        "EthernetSpecs EthernetStatuses HardwareAddresses HostDNSConfigs HostnameSpecs "
        "HostnameStatuses LinkAliasSpecs LinkRefreshes LinkSpecs LinkStatuses NetworkStatuses "
        "NfTablesChains NodeAddressFilters NodeAddressSortAlgorithms NodeAddresses OperatorSpecs "
        "PlatformConfigs ProbeSpecs ProbeStatuses ResolverSpecs ResolverStatuses RouteSpecs "
        "RouteStatuses RoutingRuleSpecs RoutingRuleStatuses TimeServerSpecs TimeServerStatuses"),
    "perf.talos.dev": "CPUStats MemoryStats",
    "runtime.talos.dev": ("APIServiceConfigs DevicesStatuses Diagnostics Environments EventSinkConfigs "
        "ExtensionServiceConfigStatuses ExtensionServiceConfigs ExtensionStatuses KernelCmdlines "
        "KernelModuleSpecs KernelParamDefaultSpecs KernelParamSpecs KernelParamStatuses "
        "KmsgLogConfigs LoadedKernelModules MachineResetSignals MachineStatuses "
        "MaintenanceServiceConfigs MaintenanceServiceRequests MetaKeys MetaLoads MountStatuses "
        "PCIDriverRebindConfigs PCIDriverRebindStatuses ServicePIDs UniqueMachineTokens Versions "
        "WatchdogTimerConfigs WatchdogTimerStatuses"),
    "secrets.talos.dev": ("ApiCertificates CertSANs EncryptionSalts EtcdRootSecrets EtcdSecrets KubeletSecrets "
        "KubernetesDynamicCerts KubernetesRootSecrets KubernetesSecrets MaintenanceRootSecrets "
        "OSRootSecrets TrustdCertificates"),
    "security.talos.dev": "ImageVerificationRules TUFTrustedRoots",
    "siderolink.talos.dev": "SiderolinkConfigs SiderolinkStatuses SiderolinkTunnels",
    "talos.dev": "BootedEntries OOMActions PlatformMetadatas SBOMItems SecurityStates",
    "v1alpha1.talos.dev": "AcquireConfigSpecs AcquireConfigStatuses AdjtimeStatuses Services TimeStatuses",
}
EXPLICIT_ALIASES = {"LinkStatuses.net.talos.dev": ("link", "links"),
                    "StaticPodStatuses.kubernetes.talos.dev": ("podstatus",)}


def singular(name: str) -> str:
    """gertd/go-pluralize Singular() for the names above."""
    for plural, single in (("Statuses", "Status"), ("sses", "ss"), ("ies", "y"), ("xes", "x"),
                           ("Aliases", "Alias"), ("Caches", "Cache"), ("s", "")):
        if name.endswith(plural):
            return name[: -len(plural)] + single
    return name


def all_types() -> list[str]:
    """Every registered type, sorted by RD ID (the order COSI lists them in)."""
    return sorted((f"{name}.{suffix}" for suffix, names in TYPES.items() for name in names.split()),
                  key=str.lower)


def aliases(rtype: str) -> list[str]:
    """AllAliases of one type (Fill())."""
    name, suffix = rtype.split(".", 1)
    out = list(EXPLICIT_ALIASES.get(rtype, ())) + [singular(name).lower(), name.lower()]
    parts = suffix.split(".")
    out += [".".join([name.lower()] + parts[:i]) for i in range(1, len(parts))]
    upper = "".join(ch for ch in name if ch.isupper())
    if len(upper) > 1:
        out.append(upper.lower())
        if not upper.endswith("S"):
            out.append(upper.lower() + "s")
    return out


def display_type(rtype: str) -> str:
    """DisplayType: the singular CamelCase name."""
    return singular(rtype.split(".", 1)[0])


def resolve(kind: str) -> str:
    """The type `kind` names, or the RpcError ResolveResourceKind returns."""
    matched = [t for t in all_types()
               if t.lower() == kind.lower() or any(a == kind.lower() for a in aliases(t))]
    if len(matched) > 1:
        raise RpcError("InvalidArgument", f'resource type "{kind}" is ambiguous: '
                                          f'[{" ".join(t.lower() for t in matched)}]')
    if not matched:
        raise RpcError("NotFound", f'resource "{kind}" is not registered')
    return matched[0]
