"""Helpers for tests that drive the fake talosctl/op through their shims: a world with PATH set,
machine configs and talosconfigs that fit together, and a loopback HTTPS stand-in for the fake
Kubernetes API server (the real one is another module; this stub only honours apiserver.json).
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from tests.world import shims
from tests.world import talos_state as st

MACHINE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nworld-machine-ca\n-----END CERTIFICATE-----\n").decode()
OTHER_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nsome-other-ca\n-----END CERTIFICATE-----\n").decode()
SECRET_TOKEN = "wrld8x.k3y5ecr3tt0ken0001"


@dataclass
class World:
    """A world directory with shims installed and the environment to run them."""

    dir: Path
    env: dict
    bin: Path
    files: dict = field(default_factory=dict)

    def run(self, *args: str, input: str | None = None, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        """Run a shimmed tool (args[0] is the tool name) and capture text output."""
        return subprocess.run(list(args), env=kwargs.pop("env", self.env), input=input, capture_output=True,
                              text=True, timeout=timeout, cwd=kwargs.pop("cwd", self.dir), **kwargs)

    def talosctl(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """Run the fake talosctl with the world's talosconfig."""
        return self.run("talosctl", "--talosconfig", str(self.files["talosconfig"]), *args, **kwargs)

    def node(self, address: str) -> dict:
        """One node's state."""
        return st.get_node(self.dir, address)


def make_world(root: Path, real_bins: dict | None = None, nodes: list[str] | None = None) -> World:
    """Create DIR, install shims, seed nodes, write a talosconfig; PATH puts DIR/bin first."""
    root.mkdir(parents=True, exist_ok=True)
    bin_dir = shims.install_shims(root, real_bins or {})
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               TALOS_WORLD_DIR=str(root), HOME=str(root / "home"), TALOS_WORLD_POLL_SECONDS="0.05")
    env.pop("OP_SERVICE_ACCOUNT_TOKEN", None)
    env.pop("TALOSCONFIG", None)
    env.pop("KUBECONFIG", None)
    world = World(dir=root, env=env, bin=bin_dir)
    if nodes:
        st.seed_nodes(root, nodes)
        world.files["talosconfig"] = write_talosconfig(root / "talosconfig", endpoints=nodes[:1], nodes=nodes[:1])
    return world


def machine_config(machine_type: str = "controlplane", hostname: str = "cp-1", cluster: str = "demo",
                   endpoint: str = "https://10.0.48.55:6443", ca: str = MACHINE_CA, extra_docs: list | None = None,
                   **overrides) -> str:
    """A realistic v1alpha1 machine config (multi-document with a HostnameConfig)."""
    v1 = {
        "version": "v1alpha1", "debug": False, "persist": True,
        "machine": {"type": machine_type, "token": SECRET_TOKEN,
                    "ca": {"crt": ca, "key": base64.b64encode(b"machine-ca-key").decode()},
                    "certSANs": [], "kubelet": {"image": "ghcr.io/siderolabs/kubelet:v1.34.1"},
                    "install": {"disk": "/dev/sda", "image": "ghcr.io/siderolabs/installer:v1.13.9"}},
        "cluster": {"id": "d29ybGQtY2x1c3Rlci1pZA==", "secret": "c2VjcmV0LXZhbHVlLW5vdC1zdG9yZWQ=",
                    "clusterName": cluster, "controlPlane": {"endpoint": endpoint},
                    "network": {"dnsDomain": "cluster.local", "podSubnets": ["10.244.0.0/16"],
                                "serviceSubnets": ["10.96.0.0/12"], "cni": {"name": "none"}},
                    "token": "abcdef.0123456789abcdef"},
    }
    for path, value in overrides.items():
        _set_path(v1, path.split("__"), value)
    docs = [v1, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "off", "hostname": hostname}]
    return yaml.safe_dump_all(docs + list(extra_docs or []), sort_keys=False)


def _set_path(tree: dict, keys: list[str], value) -> None:
    """Set (or delete, with value None) a nested key."""
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    if value is None:
        tree.pop(keys[-1], None)
    else:
        tree[keys[-1]] = value


def write_talosconfig(path: Path, endpoints: list[str], nodes: list[str], ca: str = MACHINE_CA,
                      context: str = "demo") -> Path:
    """Write a talosconfig whose CA matches machine_config()'s machine CA."""
    doc = {"context": context, "contexts": {context: {
        "endpoints": endpoints, "nodes": nodes, "ca": ca,
        "crt": base64.b64encode(b"admin-client-crt").decode(),
        "key": base64.b64encode(b"admin-client-key").decode()}}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# ---------------------------------------------------------------- stub API server

def _cert(cn: str, key, issuer, issuer_key, ca: bool = False, sans: tuple = ()):
    """A certificate for `key` signed by `issuer_key`, valid for two days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_pem(directory: Path, name: str, obj) -> str:
    """Write a certificate or a private key as PEM; return the path."""
    from cryptography.hazmat.primitives import serialization

    if hasattr(obj, "private_bytes"):
        data = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    else:
        data = obj.public_bytes(serialization.Encoding.PEM)
    (directory / name).write_bytes(data)
    return str(directory / name)


def _pki(directory: Path) -> dict:
    """A CA, a 127.0.0.1 serving certificate and an admin client certificate (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    ca_key, srv_key, adm_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "world-ca")])
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    files = {"ca.crt": _cert("world-ca", ca_key, ca_name, ca_key, ca=True),
             "apiserver.crt": _cert("apiserver", srv_key, ca_name, ca_key, sans=loopback),
             "apiserver.key": srv_key, "admin.crt": _cert("admin", adm_key, ca_name, ca_key), "admin.key": adm_key}
    paths = {name: _write_pem(directory, name, obj) for name, obj in files.items()}
    return {"ca_file": paths["ca.crt"], "server_cert": paths["apiserver.crt"], "server_key": paths["apiserver.key"],
            "client_cert": paths["admin.crt"], "client_key": paths["admin.key"]}


class _StubHandler(BaseHTTPRequestHandler):
    """Serves GET/POST /api/v1/nodes from the owning StubApi (self.server.stub)."""

    def log_message(self, *args):
        """Silence the default access log."""

    def _reply(self, code: int, body: dict) -> None:
        """Send a JSON response."""
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        """List the registered nodes."""
        self.server.stub.requests.append(("GET", self.path, None))
        self._reply(200, {"kind": "NodeList", "apiVersion": "v1", "items": list(self.server.stub.nodes.values())})

    def do_POST(self):  # noqa: N802
        """Create a node (409 AlreadyExists when present)."""
        stub = self.server.stub
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        stub.requests.append(("POST", self.path, body))
        name = body["metadata"]["name"]
        if name in stub.nodes:
            return self._reply(409, {"kind": "Status", "reason": "AlreadyExists", "code": 409,
                                     "message": f'nodes "{name}" already exists'})
        stub.nodes[name] = body
        return self._reply(201, body)


class StubApi:
    """A loopback mTLS server answering POST/GET /api/v1/nodes; writes DIR/apiserver.json."""

    def __init__(self, world_dir: Path):
        """Generate certificates, start serving, write apiserver.json."""
        self.requests: list[tuple[str, str, dict | None]] = []
        self.nodes: dict[str, dict] = {}
        self.pki = _pki(Path(world_dir) / "pki")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
        self.server.stub = self
        self.server.socket = self._tls().wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.info = {"url": f"https://127.0.0.1:{self.port}", "port": self.port, "pid": os.getpid(),
                     "ca_file": self.pki["ca_file"], "client_cert": self.pki["client_cert"],
                     "client_key": self.pki["client_key"]}
        (Path(world_dir) / "apiserver.json").write_text(json.dumps(self.info))

    def _tls(self) -> ssl.SSLContext:
        """Server context requiring a client certificate from the stub's CA."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.pki["server_cert"], self.pki["server_key"])
        ctx.load_verify_locations(self.pki["ca_file"])
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def python_exe() -> str:
    """The interpreter the shims use."""
    return sys.executable
