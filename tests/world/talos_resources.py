"""The COSI resources a simulated node serves to `talosctl get`, built from its state.

Spec keys and order follow the Go structs' yaml tags (struct order; map-based specs such as
StaticPod/StaticPodStatus are Go maps, which yaml sorts). Sources, pkg/machinery/resources:
runtime/machine_status.go, config/machine_config.go (spec = the config bytes verbatim, annotation
talos.dev/yaml-spec, Sensitive), runtime/version.go (v1.12 has no `name`), cluster/member.go
(affiliates only with cluster.discovery.enabled), k8s/nodename.go, k8s/static_pod.go,
k8s/static_pod_status.go, block/disk.go, network/link_status.go. Owners are the controllers'
Name() (internal/app/machined/pkg/controllers/...); readiness checks from
controllers/runtime/machine_status.go getReadinessChecks().
"""
from __future__ import annotations

import hashlib
import time

from tests.world import talos_config as tc
from tests.world import talos_state as st
from tests.world.go_yaml import Raw

SENSITIVE = {"MachineConfigs.config.talos.dev"}
# constants.DefaultKubernetesVersion by Talos minor (pkg/machinery/constants/constants.go at
# v1.13.9 and v1.12.11); other patch releases of a minor are assumed to share it.
DEFAULT_K8S = {"1.13": "1.36.3", "1.12": "1.35.4", "1.11": "1.34.1"}
CP_IMAGES = (("kube-apiserver", "apiServer", "registry.k8s.io/kube-apiserver"),
             ("kube-controller-manager", "controllerManager", "registry.k8s.io/kube-controller-manager"),
             ("kube-scheduler", "scheduler", "registry.k8s.io/kube-scheduler"))
# Print columns (name, jsonpath) of the RDs the world serves; Versions has only VERSION on v1.12.
COLUMNS = {
    "MachineStatuses.runtime.talos.dev": [("Stage", "{.stage}"), ("Ready", "{.status.ready}")],
    "Versions.runtime.talos.dev": [("Name", "{.name}"), ("Version", "{.version}")],
    "Members.cluster.talos.dev": [("Hostname", "{.hostname}"), ("Machine Type", "{.machineType}"),
                                  ("OS", "{.operatingSystem}"), ("Addresses", "{.addresses}")],
    "Nodenames.kubernetes.talos.dev": [("Nodename", "{.nodename}")],
    "StaticPodStatuses.kubernetes.talos.dev": [("Ready", '{.conditions[?(@.type=="Ready")].status}')],
    "Disks.block.talos.dev": [("Size", "{.pretty_size}"), ("Read Only", "{.readonly}"), ("Transport", "{.transport}"),
                              ("Rotational", "{.rotational}"), ("WWID", "{.wwid}"), ("Model", "{.model}"),
                              ("Serial", "{.serial}")],
    "LinkStatuses.net.talos.dev": [("Alias", "{.alias}"), ("Type", "{.type}"), ("Kind", "{.kind}"),
                                   ("Hw Addr", "{.hardwareAddr}"), ("Oper State", "{.operationalState}"),
                                   ("Link State", "{.linkState}")],
    "MachineConfigs.config.talos.dev": [], "StaticPods.kubernetes.talos.dev": [],
}


def minor(version: str) -> str:
    """"v1.13.9" -> "1.13"."""
    return ".".join(version.lstrip("v").split(".")[:2])


def columns(rtype: str, talos_version: str) -> list:
    """The RD's print columns as the answering node registers them."""
    if rtype == "Versions.runtime.talos.dev" and minor(talos_version) == "1.12":
        return [("Version", "{.version}")]
    return COLUMNS[rtype]


def _stamp(ts: float | None) -> Raw:
    """time.RFC3339 in UTC."""
    return Raw(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts or time.time())))


def _resource(rtype: str, ns: str, rid: str, version: int, owner: str, spec, ts: float | None,
              annotations: dict | None = None) -> dict:
    """cosi Metadata.MarshalYAML + spec."""
    md = {"namespace": ns, "type": rtype, "id": rid, "version": Raw(str(version)), "owner": Raw(owner),
          "phase": "running", "created": _stamp(ts), "updated": _stamp(ts)}
    if annotations:
        md["annotations"] = {k: Raw(v) for k, v in annotations.items()}
    return {"metadata": md, "spec": spec}


def humanize_bytes(size: int) -> str:
    """dustin/go-humanize Bytes (SI units)."""
    if size < 10:
        return f"{size} B"
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    exp = 0
    while size >= 1000 ** (exp + 1) and exp < len(units) - 1:
        exp += 1
    val = int(size / 1000 ** exp * 10 + 0.5) / 10
    return f"{val:.1f} {units[exp]}" if val < 10 else f"{val:.0f} {units[exp]}"


def default_k8s_version(node: dict) -> str:
    """constants.DefaultKubernetesVersion of the node's Talos minor."""
    return DEFAULT_K8S.get(minor(node["talos_version"]), DEFAULT_K8S["1.13"])


def component_images(node: dict) -> dict:
    """Image of each control-plane component and the kubelet: the config's, else the default (a node
    registered without a machine config, by the chart tests, runs its `kubernetes_version`)."""
    if not node.get("config"):
        version = node.get("kubernetes_version") or "v" + default_k8s_version(node)
        return {name: f"{repo}:{version}" for name, _, repo in CP_IMAGES} | {
            "kubelet": f"ghcr.io/siderolabs/kubelet:{version}"}
    cfg = tc.parse(node["config"].encode())
    default = default_k8s_version(node)
    images = {name: (cfg.cluster.get(key) or {}).get("image") or f"{repo}:v{default}" for name, key, repo in CP_IMAGES}
    images["kubelet"] = (cfg.machine.get("kubelet") or {}).get("image") or f"ghcr.io/siderolabs/kubelet:v{default}"
    return images


def schedules_on_control_planes(node: dict) -> bool:
    """cluster.allowSchedulingOnControlPlanes of the config the node runs (false without one)."""
    if not node.get("config"):
        return False
    return (tc.parse(node["config"].encode()).cluster or {}).get("allowSchedulingOnControlPlanes") is True


def _unmet(node: dict) -> list[dict]:
    """MachineStatus readiness checks (services, nodeReady) for a booted, configured node."""
    if not st.is_ready(node):
        return [{"name": "services", "reason": "kubelet not running, kubelet not running"}]
    unmet = []
    if node["machine_type"] == "controlplane" and node["etcd"] != "Running":
        unmet.append({"name": "services", "reason": "etcd not running, etcd not running"})
    name = node["hostname"]
    if not node.get("k8s_registered"):
        unmet.append({"name": "nodeReady", "reason": f'node "{name}" status is not available yet'})
    elif not node.get("k8s_ready"):
        unmet.append({"name": "nodeReady", "reason": f'node "{name}" is not ready'})
    return unmet


def machine_status(node: dict) -> list[dict]:
    """MachineStatuses.runtime.talos.dev runtime/machine."""
    if node["stage"] == "maintenance":
        stage, unmet = "maintenance", []
    else:
        stage, unmet = ("running" if st.is_ready(node) else "booting"), _unmet(node)
    spec = {"stage": stage, "status": {"ready": not unmet, "unmetConditions": unmet}}
    return [_resource("MachineStatuses.runtime.talos.dev", "runtime", "machine", 2 + node["apply_count"],
                      "runtime.MachineStatusController", spec, node["configured_at"])]


def machine_configs(node: dict) -> list[dict]:
    """MachineConfigs.config.talos.dev config/v1alpha1 (active) and config/persistent."""
    out = []
    for rid, text in (("persistent", node.get("persistent_config")), ("v1alpha1", node.get("config"))):
        if text:
            out.append(_resource("MachineConfigs.config.talos.dev", "config", rid, 1 + node["apply_count"], "",
                                 text, node["configured_at"], {"talos.dev/yaml-spec": "1"}))
    return out


def version(node: dict) -> list[dict]:
    """Versions.runtime.talos.dev runtime/version (VersionController: version.Name, version.Tag)."""
    spec = {"version": node["talos_version"]} if minor(node["talos_version"]) == "1.12" else \
        {"name": "Talos", "version": node["talos_version"]}
    return [_resource("Versions.runtime.talos.dev", "runtime", "version", 1, "runtime.VersionController", spec, None)]


def _discovery(node: dict) -> bool:
    """cluster.discovery.enabled (pointer.SafeDeref: off unless set)."""
    cfg = tc.parse(node["config"].encode())
    return bool((cfg.cluster.get("discovery") or {}).get("enabled"))


def members(state: dict, node: dict) -> list[dict]:
    """Members.cluster.talos.dev: one per affiliate (discovery-enabled nodes of the cluster)."""
    if node["stage"] == "maintenance" or not _discovery(node):
        return []
    out = []
    for peer in st.cluster_nodes(state, node["cluster_name"]):
        if not _discovery(peer):
            continue
        node_id = hashlib.sha256(peer["address"].encode()).hexdigest()[:43]
        spec = {"nodeId": node_id, "addresses": [peer["address"]], "hostname": peer["hostname"],
                "machineType": peer["machine_type"], "operatingSystem": f"Talos ({peer['talos_version']})"}
        out.append(_resource("Members.cluster.talos.dev", "cluster", peer["hostname"], 1, "cluster.MemberController",
                             spec, peer["configured_at"]))
    return out


def nodename(node: dict) -> list[dict]:
    """Nodenames.kubernetes.talos.dev k8s/nodename."""
    if node["stage"] == "maintenance":
        return []
    spec = {"nodename": node["hostname"].lower(), "hostnameVersion": "2", "skipNodeRegistration": False}
    return [_resource("Nodenames.kubernetes.talos.dev", "k8s", "nodename", 1, "k8s.NodenameController", spec,
                      node["configured_at"])]


def static_pods(node: dict) -> list[dict]:
    """StaticPods.kubernetes.talos.dev k8s/<component> on a ready control plane (the Pod manifest)."""
    if node["machine_type"] != "controlplane" or not st.is_ready(node):
        return []
    images = component_images(node)
    out = []
    for name, _, _ in CP_IMAGES:
        image = images[name]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "annotations": {"talos.dev/config-version": "1", "talos.dev/secrets-version": "1"},
            "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/version": image.rsplit(":v", 1)[-1],
                       "k8s-app": name, "tier": "control-plane"},
            "name": name, "namespace": "kube-system"},
            "spec": {"containers": [{"command": [f"/usr/local/bin/{name}"], "image": image, "name": name}],
                     "hostNetwork": True, "priorityClassName": "system-cluster-critical"}, "status": {}}
        out.append(_resource("StaticPods.kubernetes.talos.dev", "k8s", name, 1, "k8s.ControlPlaneStaticPodController",
                             pod, node["configured_at"]))
    return out


def static_pod_statuses(state: dict, node: dict) -> list[dict]:
    """StaticPodStatuses.kubernetes.talos.dev k8s/kube-system/<pod>-<nodename> (kubelet's PodStatus)."""
    out = []
    ready = "True" if st.etcd_exists(state, node["cluster_name"]) else "False"
    for pod in static_pods(node):
        container = pod["spec"]["spec"]["containers"][0]
        status = {"conditions": [{"status": ready, "type": t} for t in ("Initialized", "Ready", "ContainersReady",
                                                                          "PodScheduled")],
                  "containerStatuses": [{"image": container["image"], "name": container["name"],
                                         "ready": ready == "True", "restartCount": 0}],
                  "hostIP": node["address"], "phase": "Running", "podIP": node["address"]}
        rid = f"kube-system/{container['name']}-{node['hostname'].lower()}"
        out.append(_resource("StaticPodStatuses.kubernetes.talos.dev", "k8s", rid, 1, "k8s.KubeletStaticPodController",
                             status, node["configured_at"]))
    return out


def disks(node: dict) -> list[dict]:
    """Disks.block.talos.dev runtime/<dev> (block/disk.go DiskSpec, omitempty fields left out)."""
    out = []
    for disk in node.get("disks") or []:
        spec = {"dev_path": disk["dev_path"], "size": disk["size"], "pretty_size": humanize_bytes(disk["size"]),
                "io_size": disk["io_size"], "sector_size": disk["sector_size"], "readonly": False, "cdrom": False}
        spec.update({k: disk[k] for k in ("model", "serial", "wwid", "bus_path", "sub_system", "transport") if disk.get(k)})
        out.append(_resource("Disks.block.talos.dev", "runtime", disk["id"], 1, "block.DisksController", spec, None))
    return out


def links(node: dict) -> list[dict]:
    """LinkStatuses.net.talos.dev network/<link> (network/link_status.go LinkStatusSpec)."""
    out = []
    for link in node.get("links") or []:
        loopback = link["type"] == "loopback"
        spec = {"index": link["index"], "type": link["type"], "linkIndex": 0,
                "flags": "UP,LOOPBACK,RUNNING" if loopback else "UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP",
                "hardwareAddr": link["hardwareAddr"], "permanentAddr": link["hardwareAddr"],
                "broadcastAddr": "00:00:00:00:00:00" if loopback else "ff:ff:ff:ff:ff:ff",
                "mtu": 65536 if loopback else 1500, "queueDisc": "noqueue" if loopback else "mq",
                "operationalState": "unknown" if loopback else "up", "kind": "", "slaveKind": ""}
        if not loopback:
            spec.update(driver=link["driver"], linkState=True, speedMbit=10000 if link["driver"] == "ixgbe" else 1000,
                        port="Twisted Pair", duplex="Full")
        else:
            spec.update(linkState=False, port="Other", duplex="Unknown")
        out.append(_resource("LinkStatuses.net.talos.dev", "network", link["id"], 2, "network.LinkStatusController",
                             spec, None))
    return out


def resources(rtype: str, state: dict, node: dict) -> list[dict] | None:
    """Every resource of `rtype` on the node; None when the world does not model the type."""
    builders = {
        "MachineStatuses.runtime.talos.dev": lambda: machine_status(node),
        "MachineConfigs.config.talos.dev": lambda: machine_configs(node),
        "Versions.runtime.talos.dev": lambda: version(node),
        "Members.cluster.talos.dev": lambda: members(state, node),
        "Nodenames.kubernetes.talos.dev": lambda: nodename(node),
        "StaticPods.kubernetes.talos.dev": lambda: static_pods(node),
        "StaticPodStatuses.kubernetes.talos.dev": lambda: static_pod_statuses(state, node),
        "Disks.block.talos.dev": lambda: disks(node),
        "LinkStatuses.net.talos.dev": lambda: links(node),
    }
    builder = builders.get(rtype)
    return builder() if builder else None
