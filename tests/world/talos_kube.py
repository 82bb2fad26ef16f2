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

APISERVER_FILE = "apiserver.json"
KUBELET_VERSION = "v1.34.1"
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


def _decide(exists: bool, same: bool, force: bool) -> bool:
    """True when a conflict is resolved by renaming (non-interactive, without --force)."""
    return exists and not same and not force


def merge(old: dict, new: dict, force: bool, force_context: str) -> tuple[dict, list[str]]:
    """Merge `new` into `old` like Merger.Merge; return the result and the "renamed" lines."""
    clusters, users = _as_map(old, "clusters", "cluster"), _as_map(old, "users", "user")
    contexts = _as_map(old, "contexts", "context")
    msgs, cmap, umap, xmap = [], {}, {}, {}
    for name, body in _as_map(new, "clusters", "cluster").items():
        rename = _decide(name in clusters, clusters.get(name) == body, force)
        cmap[name] = _rename(clusters, name) if rename else name
    for name, body in _as_map(new, "users", "user").items():
        merged = name
        for old_name, new_name in cmap.items():
            merged = merged.replace(old_name, new_name)
        rename = _decide(merged in users, users.get(merged) == body, force)
        umap[name] = _rename(users, merged) if rename else merged
    for name, body in _as_map(new, "contexts", "context").items():
        merged = name
        for old_name, new_name in umap.items():
            merged = merged.replace(old_name, new_name)
        merged = force_context or merged
        # merge.go compares a context against merger.Clusters[name] (sic): mimic it.
        rename = _decide(merged in clusters, clusters.get(merged) == body, force)
        xmap[name] = _rename(clusters, merged) if rename else merged
    for kind, mapping, section in (("cluster", cmap, "clusters"), ("auth info", umap, "users")):
        body_key = "cluster" if section == "clusters" else "user"
        target = clusters if section == "clusters" else users
        for name, body in _as_map(new, section, body_key).items():
            if mapping[name] != name:
                msgs.append(f'renamed {kind} "{name}" -> "{mapping[name]}"')
            target[mapping[name]] = body
    current = old.get("current-context", "")
    for name, body in _as_map(new, "contexts", "context").items():
        if xmap[name] != name:
            msgs.append(f'renamed context "{name}" -> "{xmap[name]}"')
        body = dict(body, user=umap.get(body.get("user"), ""), cluster=cmap.get(body.get("cluster"), ""))
        contexts[xmap[name]] = body
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
    """Write a file with a mode (kubeconfig.go: 0o640 fresh; clientcmd.WriteToFile 0o600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def node_object(node: dict) -> dict:
    """The Node a kubelet registers for this machine (NotReady until a CNI runs)."""
    name, now = node["hostname"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
    if node["machine_type"] == "controlplane":
        labels["node-role.kubernetes.io/control-plane"] = ""
    ready = bool(node.get("k8s_ready"))
    condition = {"type": "Ready", "status": "True" if ready else "False",
                 "reason": "KubeletReady" if ready else "KubeletNotReady",
                 "message": "kubelet is posting ready status" if ready else NOT_READY_MESSAGE,
                 "lastHeartbeatTime": now, "lastTransitionTime": now}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {}, "status": {
                "addresses": [{"type": "InternalIP", "address": node["address"]},
                              {"type": "Hostname", "address": name}],
                "conditions": [condition],
                "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "architecture": "amd64",
                             "operatingSystem": "linux",
                             "osImage": f"Talos ({node.get('talos_version', 'v1.13.9')})",
                             "containerRuntimeVersion": "containerd://2.1.5",
                             "kernelVersion": "6.12.57-talos"}}}


def api_request(api: dict, method: str, path: str, body: dict | None = None, timeout: float = 10.0):
    """The world's one HTTP call to the fake API server: return (status, parsed JSON body)."""
    ctx = None
    if api["url"].startswith("https://"):
        ctx = ssl.create_default_context(cafile=api.get("ca_file"))
        if api.get("client_cert"):
            ctx.load_cert_chain(api["client_cert"], api.get("client_key"))
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api["url"].rstrip("/") + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
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
    """POST every node; 409 AlreadyExists is fine. Raise RuntimeError on anything else."""
    for node in nodes:
        status, body = api_request(api, "POST", "/api/v1/nodes", node_object(node))
        if status not in (200, 201, 202, 409):
            raise RuntimeError(f"registering node {node['hostname']}: HTTP {status}: {body.get('message', body)}")


def list_nodes(api: dict) -> list[dict]:
    """GET /api/v1/nodes (items)."""
    status, body = api_request(api, "GET", "/api/v1/nodes")
    if status != 200:
        raise RuntimeError(f"listing nodes: HTTP {status}: {body.get('message', body)}")
    return body.get("items") or []
