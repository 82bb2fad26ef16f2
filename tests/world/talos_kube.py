"""What the fake `talosctl kubeconfig` produces: the admin kubeconfig, its merge into an existing
file, and the Node objects it registers in the world's fake Kubernetes API server.

Shapes follow siderolabs/talos internal/pkg/kubeconfig/admin.go (admin kubeconfig template) and
internal/pkg/kubeconfig/merge.go (Merger.Merge, rename, "renamed cluster %q -> %q").
"""
from __future__ import annotations

import base64
import copy
import json
import os
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from tests.world import talos_resources as res
from tests.world import talos_state as st

APISERVER_FILE = "apiserver.json"
# Without a CNI a kubelet reports NotReady with this message (kubelet's runtime network check).
NOT_READY_MESSAGE = ("container runtime network not ready: NetworkReady=false "
                     "reason:NetworkPluginNotReady message:Network plugin returns error: "
                     "cni plugin not initialized")
_PLACEHOLDER = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nworld-without-apiserver\n"
                                b"-----END CERTIFICATE-----\n").decode()


def apiserver_info(world: Path) -> dict | None:
    """DIR/apiserver.json written by the fake API server, or None when it is not running."""
    try:
        return json.loads((Path(world) / APISERVER_FILE).read_text())
    except FileNotFoundError:
        return None


def credentials(world: Path) -> dict:
    """The cluster CA and admin client certificate, whether or not the API server runs right now
    (a real Talos control plane always has them)."""
    pki = Path(world) / "pki"
    found = {key: str(pki / name) for key, name in
             (("ca_file", "ca.crt"), ("client_cert", "admin.crt"), ("client_key", "admin.key"))
             if (pki / name).exists()}
    return {**found, **(apiserver_info(world) or {})}


def _b64_file(path: str | None) -> str:
    """Base64 of a PEM file's bytes (placeholder when the API server is absent)."""
    return base64.b64encode(Path(path).read_bytes()).decode() if path else _PLACEHOLDER


def admin_kubeconfig(cluster: str, server: str, api: dict | None) -> dict:
    """The kubeconfig Talos generates for `admin@<cluster>`."""
    user = f"admin@{cluster}"
    api = api or {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority-data": _b64_file(api.get("ca_file"))}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": _b64_file(api.get("client_cert")),
            "client-key-data": _b64_file(api.get("client_key"))}}],
        "contexts": [{"name": user, "context": {
            "cluster": cluster, "namespace": "default", "user": user}}],
        "current-context": user,
    }


def _as_map(config: dict, section: str, body: str) -> dict:
    """Kubeconfig list section -> {name: body}."""
    return {e["name"]: e.get(body) or {} for e in (config.get(section) or [])}


def _rename(existing: dict, name: str) -> str:
    """Merger.rename: append -1, -2, ... until unique."""
    new, i = name, 0
    while new in existing:
        i += 1
        new = f"{name}-{i}"
    return new


def _apply_renames(name: str, renames: dict) -> str:
    """merge.go: names of later components follow earlier renames (strings.ReplaceAll)."""
    for old_name, new_name in renames.items():
        name = name.replace(old_name, new_name)
    return name


def _plan(new_items: dict, existing: dict, compare_to: dict, force: bool, follow: dict,
          forced_name: str = "") -> dict:
    """Map each new component name to its merged name (rename on a conflict unless --force)."""
    mapping = {}
    for name, body in new_items.items():
        merged = forced_name or _apply_renames(name, follow)
        conflict = merged in compare_to and compare_to.get(merged) != body
        mapping[name] = _rename(existing, merged) if conflict and not force else merged
    return mapping


def merge(old: dict, new: dict, force: bool, force_context: str) -> tuple[dict, list[str]]:
    """Merge `new` into `old` like Merger.Merge; return the result and the "renamed" lines."""
    clusters, users = _as_map(old, "clusters", "cluster"), _as_map(old, "users", "user")
    contexts = _as_map(old, "contexts", "context")
    new_clusters, new_users = _as_map(new, "clusters", "cluster"), _as_map(new, "users", "user")
    new_contexts = _as_map(new, "contexts", "context")
    cmap = _plan(new_clusters, clusters, clusters, force, {})
    umap = _plan(new_users, users, users, force, cmap)
    # merge.go checks a context against merger.Clusters[name] and renames among clusters (sic).
    xmap = _plan(new_contexts, clusters, clusters, force, umap, force_context)
    msgs = []
    for kind, mapping, items, target in (("cluster", cmap, new_clusters, clusters),
                                         ("auth info", umap, new_users, users)):
        for name, body in items.items():
            msgs += [f'renamed {kind} "{name}" -> "{mapping[name]}"'] if mapping[name] != name else []
            target[mapping[name]] = body
    current = old.get("current-context", "")
    for name, body in new_contexts.items():
        msgs += [f'renamed context "{name}" -> "{xmap[name]}"'] if xmap[name] != name else []
        contexts[xmap[name]] = dict(body, user=umap.get(body.get("user"), ""), cluster=cmap.get(body.get("cluster"), ""))
        current = xmap[name]
    return _to_config(old, clusters, users, contexts, current), msgs


def _to_config(old: dict, clusters: dict, users: dict, contexts: dict, current: str) -> dict:
    """Rebuild a kubeconfig document (clientcmd writes lists sorted by name)."""
    out = {k: v for k, v in old.items() if k not in ("clusters", "users", "contexts", "current-context")}
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Config")
    out["clusters"] = [{"name": n, "cluster": clusters[n]} for n in sorted(clusters)]
    out["contexts"] = [{"name": n, "context": contexts[n]} for n in sorted(contexts)]
    out["current-context"] = current
    out["users"] = [{"name": n, "user": users[n]} for n in sorted(users)]
    out.setdefault("preferences", {})
    return out


def dump(config: dict) -> str:
    """Serialize a kubeconfig."""
    return yaml.safe_dump(copy.deepcopy(config), sort_keys=False, default_flow_style=False)


def write_file(path: Path, text: str, mode: int) -> None:
    """Write a file with a mode (kubeconfig.go os.WriteFile 0o600; clientcmd.WriteToFile 0o600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def kubelet_version(node: dict) -> str:
    """The kubelet's version: the tag of its image (machine.kubelet.image or Talos' default)."""
    return "v" + res.component_images(node)["kubelet"].rsplit(":v", 1)[-1].split("@")[0]


def node_object(node: dict) -> dict:
    """The Node a kubelet registers for this machine (NotReady until a CNI runs)."""
    name, now = node["hostname"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
    taints = []
    if node["machine_type"] == "controlplane":
        labels["node-role.kubernetes.io/control-plane"] = ""
        # Talos taints control planes unless cluster.allowSchedulingOnControlPlanes (v1.13.9
        # internal/app/machined/pkg/controllers/k8s/node_taint_spec.go, NodeTaintSpecController).
        if not res.schedules_on_control_planes(node):
            taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    ready = bool(node.get("k8s_ready"))
    condition = {"type": "Ready", "status": "True" if ready else "False",
                 "reason": "KubeletReady" if ready else "KubeletNotReady",
                 "message": "kubelet is posting ready status" if ready else NOT_READY_MESSAGE,
                 "lastHeartbeatTime": now, "lastTransitionTime": now}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints} if taints else {}, "status": {
                "addresses": [{"type": "InternalIP", "address": node["address"]},
                              {"type": "Hostname", "address": name}],
                "conditions": [condition],
                "nodeInfo": {"kubeletVersion": kubelet_version(node), "architecture": "amd64",
                             "operatingSystem": "linux",
                             "osImage": f"Talos ({node.get('talos_version', 'v1.13.9')})",
                             "containerRuntimeVersion": "containerd://2.1.5",
                             "kernelVersion": "6.12.57-talos"}}}


def api_request(api: dict, method: str, path: str, body: dict | None = None, timeout: float = 10.0,
                content_type: str = "application/json"):
    """The world's one HTTP call to the fake API server: return (status, parsed JSON body)."""
    ctx = None
    if api["url"].startswith("https://"):
        ctx = ssl.create_default_context(cafile=api.get("ca_file"))
        if api.get("client_cert"):
            ctx.load_cert_chain(api["client_cert"], api.get("client_key"))
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api["url"].rstrip("/") + path, data=data, method=method,
                                 headers={"Content-Type": content_type, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload or b"{}")
        except ValueError:
            return exc.code, {"message": payload.decode(errors="replace")}


def register_nodes(api: dict, nodes: list[dict]) -> None:
    """POST each Node (409 is fine, else RuntimeError), then its addresses/nodeInfo to /status like a kubelet."""
    for node in nodes:
        body = node_object(node)
        status, reply = api_request(api, "POST", "/api/v1/nodes", body)
        if status not in (200, 201, 202, 409):
            raise RuntimeError(f"registering node {node['hostname']}: HTTP {status}: {reply.get('message', reply)}")
        facts = {k: body["status"][k] for k in ("addresses", "nodeInfo")}
        api_request(api, "PATCH", f"/api/v1/nodes/{node['hostname']}/status", {"status": facts},
                    content_type="application/merge-patch+json")


def list_nodes(api: dict) -> list[dict]:
    """GET /api/v1/nodes (items)."""
    status, body = api_request(api, "GET", "/api/v1/nodes")
    if status != 200:
        raise RuntimeError(f"listing nodes: HTTP {status}: {body.get('message', body)}")
    return body.get("items") or []


def kubelet_joins(world: Path, address: str) -> None:
    """World convention: a configured node of a bootstrapped cluster registers its Node (best effort)."""
    with st.locked(world) as state:
        node = dict(state[address])
        bootstrapped = st.etcd_exists(state, node["cluster_name"])
    api = apiserver_info(world)
    if api is None or not bootstrapped:
        return
    try:
        register_nodes(api, [node])
    except (OSError, RuntimeError):
        return
    with st.locked(world) as live:
        live[address]["k8s_registered"] = True


def resync_kubelets(world: Path) -> None:
    """Kubelets of machines that rebooted post their node status again (kubelet_node_status.go
    registerWithAPIServer + setNodeStatus): the Node's nodeInfo shows the Talos version it booted
    (osImage) and its kubelet's version. Best effort, like kubelet_joins."""
    with st.locked(world) as state:
        nodes = [dict(n) for n in state.values() if n.get("kubelet_resync")]
        for node in nodes:
            state[node["address"]]["kubelet_resync"] = False
    api = apiserver_info(world)
    if not nodes or api is None:
        return
    try:
        register_nodes(api, nodes)
    except (OSError, RuntimeError):
        return
