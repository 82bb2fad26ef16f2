"""Guards: the requirements' invariants as named rules (id, the requirement it enforces, how to
fix a violation), checked over the settings, every rendered artifact (in memory, before anything
is written), bootstrap/resources.yaml and the GitOps tree. Apply-time rules (the CRD stream, the
External Secrets Operator deployment) use the same table from the apply stages."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable

from .. import paths
from ..problems import Problem, describe
from ..tools.op import REFERENCE, vault_of
from ..yamlio import load_all
from .gitops import SourcedObject, mapping, tree_root
from .model import Cluster

OP_REF = REFERENCE
ENVOY_GROUPS = ("gateway.envoyproxy.io",)
SECRET_KEYS = re.compile(r"(password|passwd|token|secret|private[-_]?key|credentials)$", re.I)
# Keys that name a Secret object by Kubernetes convention (pullSecret, existingSecret, imagePullSecret):
# their value is an object name, not secret material.
SECRET_NAME_KEYS = re.compile(r"[a-z]Secret(Name)?$")
OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
# Talos machine-config fields that hold key material or tokens.
TALOS_SECRET_PATHS = ("machine.token", "machine.ca.key", "cluster.secret", "cluster.token", "cluster.id",
                      "cluster.ca.key", "cluster.secretboxEncryptionSecret", "cluster.aggregatorCA.key",
                      "cluster.serviceAccount.key", "cluster.etcd.ca.key")


@dataclass
class Context:
    """Everything the guards look at."""

    cluster: Cluster
    rendered: dict[str, str]                      # build/-relative path -> content
    resources: list[SourcedObject]                # bootstrap/resources.yaml
    gitops: list[SourcedObject]                   # the GitOps tree
    _parsed: dict = field(default_factory=dict)

    def objects(self) -> list[SourcedObject]:
        """Every Kubernetes object the bootstrap applies or the GitOps tree holds."""
        if "objects" not in self._parsed:
            rendered = [SourcedObject(f"build/{target}", i, doc)
                        for target, text in sorted(self.rendered.items())
                        if target.startswith(("manifests/", "flux/"))
                        for i, doc in enumerate(load_all(text)) if isinstance(doc, dict)]
            self._parsed["objects"] = rendered + self.resources + self.gitops
        return self._parsed["objects"]

    def values(self, release: str) -> dict:
        """The rendered Helm values of one release."""
        docs = load_all(self.rendered.get(f"values/{release}.yaml", "{}"))
        return docs[0] if docs else {}


@dataclass(frozen=True)
class Guard:
    """One invariant."""

    id: str
    requirement: str
    fix: str
    check: Callable[[Context], list[tuple[str, str, str, str]]]   # -> (file, path, expected, found)


def _settings(name: str) -> str:
    return paths.rel(paths.settings_file(name))


def onepassword_secret_namespace(ctx: Context) -> list:
    """onepassword-secret exists only in external-secrets."""
    return [(o.file, f"documents[{o.index}].metadata.namespace", "external-secrets", repr(o.namespace or "(none)"))
            for o in ctx.objects() if o.kind == "Secret" and o.name == "onepassword-secret"
            and o.namespace != "external-secrets"]


def externalsecret_store(ctx: Context) -> list:
    """Every ExternalSecret reads from the ClusterSecretStore named onepassword."""
    found = []
    store = ctx.cluster.settings["onepassword-store"]["store"]["name"]
    if store != "onepassword":
        found.append((_settings("onepassword-store"), "store.name", "'onepassword'", repr(store)))
    for o in ctx.objects():
        if o.kind != "ExternalSecret":
            continue
        raw = mapping(o.obj.get("spec")).get("secretStoreRef")
        ref = mapping(raw)
        if ref.get("kind") != "ClusterSecretStore" or ref.get("name") != "onepassword":
            found.append((o.file, f"documents[{o.index}].spec.secretStoreRef",
                          "kind ClusterSecretStore, name onepassword",
                          f"kind {ref.get('kind', '(none)')}, name {ref.get('name', '(none)')}"
                          if raw is None or ref else describe(raw)))
    return found


def _inline_values(mapping: dict, prefix: str) -> list:
    """(path, value) of every string in a Secret's data that is not an op:// reference."""
    return [(f"{prefix}.{k}", v) for k, v in sorted((mapping or {}).items())
            if not (isinstance(v, str) and OP_REF.match(v.strip()))]


def _dig(doc: dict, dotted: str):
    """The value at a dotted path, or None."""
    for key in dotted.split("."):
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _values_origin(ctx: Context, release: str, path: str) -> tuple[str, str]:
    """Where a rendered Helm value comes from: the settings file whose `values:` override sets that
    key path (what the user edits), else the rendered values file."""
    for name in ctx.cluster.release(release).own_settings:
        if _dig(ctx.cluster.settings[name].get("values") or {}, path) is not None:
            return _settings(name), f"values.{path}"
    return f"build/values/{release}.yaml", path


def no_inline_secrets(ctx: Context) -> list:
    """Secrets the bootstrap applies and Talos key material are op:// references, never values."""
    found = []
    applied = [o for o in ctx.objects() if o not in ctx.gitops]
    for o in (o for o in applied if o.kind == "Secret"):
        for key in ("data", "stringData"):
            value = o.obj.get(key)
            if value is not None and not isinstance(value, dict):
                found.append((o.file, f"documents[{o.index}].{key}", "a mapping of keys to op:// references",
                              describe(value) if isinstance(value, list) else "a scalar (not shown)"))
                continue
            for path, _ in _inline_values(value, f"documents[{o.index}].{key}"):
                found.append((o.file, path, "an op:// reference", "an inline value (not shown)"))
    for o in (o for o in ctx.gitops if o.kind == "Secret"):
        found.append((o.file, f"documents[{o.index}]", "an ExternalSecret (no Secret objects in Git)",
                      f"Secret {o.name!r}"))
    for target, text in sorted(ctx.rendered.items()):
        if target.startswith("talos/") and target != "talos/talosconfig.yaml":
            config = next((d for d in load_all(text) if d.get("version") == "v1alpha1"), {})
            for dotted in TALOS_SECRET_PATHS:
                value = _dig(config, dotted)
                if value is not None and not OP_REF.match(str(value)):
                    found.append((f"build/{target}", dotted, "an op:// reference", "an inline value (not shown)"))
    for release in ctx.cluster.releases:
        for path in _secret_like(ctx.values(release.name), ""):
            found.append((*_values_origin(ctx, release.name, path), "an op:// reference or a Secret name",
                          "an inline value (not shown)"))
    return found


def _secret_like(values: object, prefix: str) -> list[str]:
    """Paths of Helm values whose key names a secret and whose value is a literal string."""
    out = []
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, str) and SECRET_KEYS.search(str(key)) and value and not OP_REF.match(value) \
                    and not (SECRET_NAME_KEYS.search(str(key)) and OBJECT_NAME.match(value)):
                out.append(path)
            out += _secret_like(value, path)
    elif isinstance(values, list):
        for i, item in enumerate(values):
            out += _secret_like(item, f"{prefix}[{i}]")
    return out


def kube_vip_control_plane_only(ctx: Context) -> list:
    """kube-vip runs the control-plane VIP only: Services and BGP off, in settings and values."""
    settings = ctx.cluster.settings["kube-vip"]
    found = [(_settings("kube-vip"), f"{key}.enabled", "false", "true")
             for key in ("services", "bgp") if (settings.get(key) or {}).get("enabled")]   # both optional
    if "values/kube-vip.yaml" not in ctx.rendered:
        return found
    env = mapping(ctx.values("kube-vip").get("env"))
    wanted = {"svc_enable": "false", "bgp_enable": "false", "cp_enable": "true", "svc_election": "false"}
    for key, value in wanted.items():
        if key in env and str(env[key]).lower() != value or key == "cp_enable" and key not in env:
            found.append((*_values_origin(ctx, "kube-vip", f"env.{key}"), repr(value), repr(env.get(key))))
    return found


def no_envoy_gateway_crds(ctx: Context) -> list:
    """No envoy-gateway CRDs are applied: not a bootstrap release, no CRD of its groups."""
    found = [(paths.rel(paths.CHARTS_FILE), f"releases[{i}].name", "a release other than envoy-gateway",
              "'envoy-gateway'") for i, r in enumerate(ctx.cluster.releases) if r.name == "envoy-gateway"]
    return found + envoy_crds([o for o in ctx.objects() if o not in ctx.gitops])


def envoy_crds(objects: list[SourcedObject]) -> list:
    """Envoy Gateway CRDs among objects (also used on the seeded CRD stream at apply time)."""
    return [(o.file, f"documents[{o.index}]", "no envoy-gateway CRDs in the bootstrap",
             f"CustomResourceDefinition {o.name}") for o in objects
            if o.kind == "CustomResourceDefinition" and o.name.endswith(ENVOY_GROUPS)]


def hubble_off(ctx: Context) -> list:
    """Hubble stays disabled (ADR-0016), in settings and in the rendered values."""
    found = []
    if ctx.cluster.settings["cilium"]["hubble"]["enabled"]:
        found.append((_settings("cilium"), "hubble.enabled", "false", "true"))
    hubble = ctx.values("cilium").get("hubble") or {}
    for key in ("enabled", "relay.enabled", "ui.enabled"):
        if _dig(hubble, key):
            found.append((*_values_origin(ctx, "cilium", f"hubble.{key}"), "false", "true"))
    return found


def private_addresses(ctx: Context) -> list:
    """The VLAN subnet, the LB pool, the VIP and node addresses are private (never WAN-exposed)."""
    s = ctx.cluster.settings
    places = [("common", "network.subnet", s["common"]["network"]["subnet"]),
              ("cilium", "loadBalancer.pool.start", s["cilium"]["loadBalancer"]["pool"]["start"]),
              ("cilium", "loadBalancer.pool.stop", s["cilium"]["loadBalancer"]["pool"]["stop"]),
              ("kube-vip", "vip", s["kube-vip"]["vip"]), ("talos", "endpoint", s["talos"]["endpoint"])]
    places += [("talos", f"nodes[{i}].address", n["address"]) for i, n in enumerate(s["talos"]["nodes"])]
    return [(_settings(f), path, "a private address (10/8, 172.16/12, 192.168/16)", value)
            for f, path, value in places if not _private(value)]


def _private(text: str) -> bool:
    """True for RFC 1918 addresses and networks."""
    net = ipaddress.ip_network(text, strict=False)
    return any(net.subnet_of(ipaddress.ip_network(r)) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


SYNC_KINDS = ("GitRepository", "OCIRepository")


def flux_sync_target(ctx: Context) -> list:
    """The FluxInstance syncs a Git (or OCI) source and a Kustomization at the cluster root: its
    rendered instance.sync carries the settings' source, and the path exists in the GitOps tree."""
    wanted = ctx.cluster.settings["flux-instance"]["sync"]
    if "values/flux-instance.yaml" not in ctx.rendered:
        return []
    sync = mapping(mapping(ctx.values("flux-instance").get("instance")).get("sync"))
    found = []
    for key in ("kind", "url", "ref", "path"):
        if sync.get(key) != wanted[key]:
            found.append((*_values_origin(ctx, "flux-instance", f"instance.sync.{key}"),
                          f"{wanted[key]!r} (flux-instance.yaml sync.{key})", describe(sync.get(key))))
    if sync.get("kind") not in SYNC_KINDS:
        found.append((*_values_origin(ctx, "flux-instance", "instance.sync.kind"), " or ".join(SYNC_KINDS),
                      describe(sync.get("kind"))))
    root = _cluster_root(ctx, wanted["path"])
    if root is not None:
        found.append((_settings("flux-instance"), "sync.path", f"a folder of the GitOps tree ({root})",
                      f"{wanted['path']!r}, which does not exist there"))
    return found


def _cluster_root(ctx: Context, path: str) -> str | None:
    """The GitOps tree's folder when it lacks the cluster root; None when the root exists or the
    tree is not checked out (nothing to compare)."""
    root = tree_root(ctx.cluster.settings["common"]["gitops"]["path"])
    if not root.is_dir() or (root / path).is_dir():
        return None
    return paths.rel(root)


def op_references_in_vault(ctx: Context) -> list:
    """Every op:// reference in bootstrap/resources.yaml points into the configured vault."""
    vault = ctx.cluster.settings["common"]["onepassword"]["vault"]
    found = []
    for o in ctx.resources:
        for key in ("data", "stringData"):
            for name, value in sorted(mapping(o.obj.get(key)).items()):
                if isinstance(value, str) and OP_REF.match(value.strip()) and vault_of(value) != vault:
                    found.append((o.file, f"documents[{o.index}].{key}.{name}", f"a reference into vault {vault!r}",
                                  value))
    return found


GUARDS: tuple[Guard, ...] = (
    Guard("onepassword-secret-namespace", "onepassword-secret MUST exist only in the external-secrets namespace",
          "create onepassword-secret in namespace external-secrets only", onepassword_secret_namespace),
    Guard("externalsecret-store", "ExternalSecrets MUST use ClusterSecretStore onepassword",
          "set spec.secretStoreRef to {kind: ClusterSecretStore, name: onepassword}", externalsecret_store),
    Guard("no-inline-secrets", "No inline Secrets; use ExternalSecret + 1Password (ADR-0004)",
          "replace the value with an op://vault/item/field reference (or an ExternalSecret in Git)",
          no_inline_secrets),
    Guard("kube-vip-control-plane-only", "Do not enable kube-vip Service/BGP modes; control-plane VIP only (ADR-0016)",
          "leave kube-vip services.enabled and bgp.enabled false; Cilium owns LoadBalancer Services",
          kube_vip_control_plane_only),
    Guard("no-envoy-gateway-crds", "Do not include envoy-gateway CRDs in bootstrap",
          "leave envoy-gateway to the Flux-managed stack", no_envoy_gateway_crds),
    Guard("hubble-off", "Hubble disabled (ADR-0016)", "set hubble.enabled: false in cilium.yaml and its values",
          hubble_off),
    Guard("private-addresses", "Nothing is exposed to the WAN: LB pools and VIPs stay in the private VLAN range",
          "use addresses of the private VLAN subnet", private_addresses),
    Guard("flux-sync-target", "Flux must reconcile a GitRepository and Kustomization pointing at the cluster root",
          "point flux-instance.yaml sync.url/sync.path at the home-ops repository's cluster root", flux_sync_target),
    Guard("op-references-in-vault", "Secret values come from the configured 1Password vault",
          "use op://<common.yaml onepassword.vault>/... references", op_references_in_vault),
)


def guard_problems(ctx: Context, guards: tuple[Guard, ...] = GUARDS) -> list[Problem]:
    """Every violation of every guard, as Problems naming the rule and the fix."""
    return [Problem(file, path, expected, found, rule=g.id, hint=f"{g.fix} ({g.requirement})")
            for g in guards for file, path, expected, found in g.check(ctx)]
