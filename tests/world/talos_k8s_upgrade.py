"""`talosctl upgrade-k8s` (cmd/talosctl/cmd/talos/upgrade-k8s.go, pkg/cluster/kubernetes/*.go,
siderolabs/go-kubernetes v0.2.38 kubernetes/upgrade/path.go and checks.go). Every line goes to
stdout (UpgradeOptions.Log -> fmt.Printf(line + "\\n")).

World approximations: the lowest version is detected from the control planes' static pod images
(what their mirror pods in kube-system would show), pods are not watched (an updated static pod
is ready at once), patched configs are re-encoded without the docs/examples comments, and the
bootstrap-manifest sync prints only its first line.
"""
from __future__ import annotations

import sys

from tests.world import talos_apply
from tests.world import talos_client as tcl
from tests.world import talos_compat as compat
from tests.world import talos_config as tc
from tests.world import talos_get
from tests.world import talos_kube as tk
from tests.world import talos_resources as res
from tests.world import talos_session as ts
from tests.world.talos_client import CliError, RpcError

CHECKED_PATHS = {f"1.{m}->1.{m + 1}" for m in range(24, 36)}  # checks.go upgradeVersionCheck keys
COMPONENTS = (("kube-apiserver", "apiServer", "apiserver-image"),
              ("kube-controller-manager", "controllerManager", "controller-manager-image"),
              ("kube-scheduler", "scheduler", "scheduler-image"))


def log(line: str) -> None:
    """UpgradeOptions.Log."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _quoted_list(items: list[str]) -> str:
    """Go's %q of a []string."""
    return "[" + " ".join(f'"{i}"' for i in items) + "]"


def _api(state: dict, session) -> dict:
    """The cluster's Kubernetes API (K8sHelper: kubeconfig via Talos, then the cluster endpoint)."""
    api = tk.apiserver_info(tcl.world_dir())
    if api is None:
        endpoint = ts.endpoint(state, session)["endpoint"] or "https://<unknown>:6443"
        host = endpoint.split("://", 1)[-1]
        raise CliError(f'Get "{endpoint}/api/v1/nodes": dial tcp {host}: connect: connection refused')
    return api


def _node_ips(api: dict, controlplane: bool) -> list[str]:
    """KubernetesClient.NodeIPs: InternalIP of the nodes with (or without) the control-plane role."""
    out = []
    for node in tk.list_nodes(api):
        if ("node-role.kubernetes.io/control-plane" in node["metadata"].get("labels", {})) == controlplane:
            out += [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
    return out


def _detect(state: dict) -> str:
    """DetectLowestVersion: the lowest tag of the control-plane components."""
    versions = [img.rsplit(":v", 1)[1] for n in state.values() if n["machine_type"] == "controlplane"
                and n["stage"] != "maintenance" and n["configured_at"]
                for name, img in res.component_images(n).items() if name != "kubelet" and ":v" in img]
    if not versions:
        raise CliError("error detecting the lowest Kubernetes version failed to detect lowest Kubernetes version")
    return min(versions, key=compat.core).lstrip("v")


def _patch(address: str, mutate) -> None:
    """patchNodeConfig: change the v1alpha1 document, re-encode, ApplyConfiguration(NO_REBOOT)."""
    node = tcl.snapshot(tcl.world_dir())[address]
    cfg = tc.parse(node["config"].encode())
    mutate(cfg.v1alpha1)
    data = tc.encode(cfg.docs).encode()
    try:
        talos_apply.apply_on_node(address, data, {"mode": "no-reboot", "dry-run": False, "timeout": 60.0})
    except RpcError as exc:
        raise CliError(f"error applying config: {exc}") from None


def _set_image(doc: dict, section: str, key: str, image: str) -> None:
    """config.<section>.<key>.image = image."""
    doc.setdefault(section, {}).setdefault(key, {})["image"] = image


def _static_pods(flags, cps: list[str], to: str) -> None:
    """upgradeStaticPod for each control-plane component."""
    for name, key, flag in COMPONENTS:
        log(f'updating "{name}" to version "{to}"')
        for address in cps:
            log(f' > "{address}": starting update')
            node = tcl.snapshot(tcl.world_dir())[address]
            current = res.component_images(node)[name]
            target = f"{flags[flag]}:v{to}"
            if current != target:
                explicit = (tc.parse(node["config"].encode()).cluster.get(key) or {}).get("image") or ""
                old = explicit.split("@", 1)[0].partition(":")[2] or flags["from"]  # logUpdate: the config's image
                log(f" > update {name}: {old} -> {to}")
                if flags["dry-run"]:
                    log(" > skipped in dry-run")
                    continue
                _patch(address, lambda doc, n=key, i=target: _set_image(doc, "cluster", n, i))
            elif flags["dry-run"]:
                continue
            log(f' > "{address}": machine configuration patched')
            log(f' > "{address}": waiting for {name} pod update')
            log(f' < "{address}": successfully updated')


def _kube_proxy(flags, cps: list[str], to: str) -> None:
    """upgradeKubeProxy: the patch is applied even in dry-run (v1.13.9: the patcher returns nil)."""
    log(f'updating kube-proxy to version "{to}"')
    for address in cps:
        log(f' > "{address}": starting update')
        if flags["dry-run"]:
            log(" > skipped in dry-run")
            _patch(address, lambda doc: None)
        else:
            _patch(address, lambda doc: _set_image(doc, "cluster", "proxy", f"{flags['proxy-image']}:v{to}"))


def _kubelets(flags, api: dict, nodes: list[str], to: str) -> None:
    """upgradeKubelet on every node."""
    if not flags["upgrade-kubelet"]:
        log("skipped updating kubelet")
        return
    log(f'updating kubelet to version "{to}"')
    for address in nodes:
        log(f' > "{address}": starting update')
        node = tcl.snapshot(tcl.world_dir())[address]
        old = res.component_images(node)["kubelet"].split("@", 1)[0]
        suffix = next((s for s in ("-fat", "-slim") if old.endswith(s)), "")
        target = f"{flags['kubelet-image']}:v{to}{suffix}"
        if old != target:
            log(f" > update kubelet: {(old.partition(':')[2] or flags['from']).lstrip('v')} -> {to}{suffix}")
            if flags["dry-run"]:
                log(" > skipped in dry-run")
                continue
            _patch(address, lambda doc: doc.setdefault("machine", {}).setdefault("kubelet", {}).update(image=target))
            log(f' > "{address}": machine configuration patched')
            log(f' > "{address}": waiting for kubelet restart')
            tk.api_request(api, "PATCH", f"/api/v1/nodes/{node['hostname']}/status",
                           {"status": {"nodeInfo": {"kubeletVersion": f"v{to}"}}},
                           content_type="application/merge-patch+json")
        elif flags["dry-run"]:
            continue
        else:
            log(f' > "{address}": machine configuration patched')
        log(f' > "{address}": waiting for node update')
        log(f' < "{address}": successfully updated')


def _compatibility(session, nodes: list[str], to: str) -> None:
    """VerifyVersionCompatibility: every node's Talos supports the target Kubernetes."""
    versions = []
    for address in nodes:
        try:
            versions.append((address, ts.proxied(tcl.snapshot(tcl.world_dir()), session, address)["talos_version"]))
        except RpcError as exc:
            raise CliError(f'node "{address}": {exc}') from None
    for address, version in versions:
        problem = compat.k8s_supported(to, version)
        if problem:
            raise CliError(f'node "{address}": {problem}')
    for address, version in versions:
        log(f'> "{address}": Talos version {compat.plain(version)} is compatible with Kubernetes version {to}')


def cmd_upgrade_k8s(flags) -> None:
    """upgrade-k8s [--from V] [--to V] [--dry-run]."""
    session = ts.connect(flags)
    tcl.fail_if_multi_nodes(session.nodes, "upgrade-k8s")
    talos_get.client_version_check(talos_get.node_versions(session))
    state = tcl.snapshot(tcl.world_dir())
    api = _api(state, session)
    if not flags["from"]:
        flags.values["from"] = _detect(state)
        log(f"automatically detected the lowest Kubernetes version {flags['from']}")
    start, to = flags["from"].lstrip("v"), flags["to"].lstrip("v")
    flags.values["from"] = start  # Path.FromVersion(): trimmed of "v"
    for label, value in (("from", start), ("to", to)):
        if compat.core(value) == (0, 0, 0):
            raise CliError(f"error creating upgrade path error parsing {label} version: "
                           f"No Major.Minor.Patch elements found")  # blang/semver ParseTolerant
    path = f"{compat.core(start)[0]}.{compat.core(start)[1]}->{compat.core(to)[0]}.{compat.core(to)[1]}"
    if path not in {f"1.{m}->1.{n}" for m in range(19, 37) for n in (m, m + 1) if n <= 36}:
        raise CliError(f'unsupported upgrade path {path} (from "{start}" to "{to}")')
    cps = _node_ips(api, True)
    if not cps:
        raise CliError("no controlplane nodes discovered")
    log(f"discovered controlplane nodes {_quoted_list(cps)}")
    workers = _node_ips(api, False) if flags["upgrade-kubelet"] else []
    if flags["upgrade-kubelet"]:
        log(f"discovered worker nodes {_quoted_list(workers)}")
    _compatibility(session, cps + workers, to)
    if path in CHECKED_PATHS:
        log("checking for removed Kubernetes component flags")
        log("checking for removed Kubernetes API resource versions")
    if flags["pre-pull-images"]:
        for _, _, flag in COMPONENTS:
            for address in cps:
                log(f' > "{address}": pre-pulling {flags[flag]}:v{to}')
        if flags["upgrade-kubelet"]:
            for address in cps + workers:
                image = res.component_images(tcl.snapshot(tcl.world_dir())[address])["kubelet"].split("@", 1)[0]
                suffix = next((s for s in ("-fat", "-slim") if image.endswith(s)), "")
                log(f' > "{address}": pre-pulling {flags["kubelet-image"]}:v{to}{suffix}')
    _static_pods(flags, cps, to)
    _kube_proxy(flags, cps, to)
    _kubelets(flags, api, cps + workers, to)
    log("updating manifests (dry run)" if flags["dry-run"] else "updating manifests")
    if not flags["dry-run"] and flags["manifests-reconcile-timeout"] == 0:
        log("skipping waiting for manifest reconciliation")

