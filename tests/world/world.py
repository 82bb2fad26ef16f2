"""The simulated cluster as one object: real kubectl/helm/helmfile behind logging shims, fake
talosctl and op, a fake Kubernetes API server on 127.0.0.1, the charts (the real upstream charts in
../shared/charts when present, else stand-ins), and DIR/env to source. Every address of the example
cluster's API is mapped to 127.0.0.1 through the tool's own reachability override, so nothing ever
dials a 10.0.48.x address."""
from __future__ import annotations

import base64
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from tests.project import SHARED
from tests.world import charts as stand_ins
from tests.world import op, shims, talos_state
from tests.world.binaries import ensure_binaries

ROOT = shims.repo_root()
CANARY = "canary-9f1c2e7d-never-on-disk"
TALOS_FIELDS = ("machine-token", "machine-ca-crt", "machine-ca-key", "cluster-id", "cluster-secret",
                "bootstrap-token", "cluster-ca-crt", "cluster-ca-key", "secretbox-encryption-secret",
                "aggregator-ca-crt", "aggregator-ca-key", "service-account-key", "etcd-ca-crt", "etcd-ca-key",
                "talosconfig-crt", "talosconfig-key")


@dataclass
class World:
    """A world living in one directory; charts="real" installs ../shared/charts, "stand-in" the charts
    charts.py writes, None the real ones when ../shared/charts exists."""

    dir: Path
    project: Path = ROOT
    charts: Literal["real", "stand-in"] | None = None

    def __post_init__(self):
        self.charts = self.charts or ("real" if (SHARED / "charts").is_dir() else "stand-in")
        if self.charts not in ("real", "stand-in"):
            raise ValueError(f"charts must be 'real' or 'stand-in', not {self.charts!r}")

    @property
    def chart_source(self) -> Path:
        """The folder of <chart>-<version> charts BOOTSTRAP_CHART_SOURCE names."""
        return SHARED / "charts" if self.charts == "real" else self.dir / "charts"

    def settings(self, name: str) -> dict:
        return yaml.safe_load((self.project / "bootstrap" / "values" / f"{name}.yaml").read_text())

    def api_addresses(self) -> list[str]:
        """Every address the tool may reach the API on: control-plane nodes and the VIP."""
        talos = self.settings("talos")
        return [n["address"] for n in talos["nodes"] if n["role"] == "controlplane"] + [talos["endpoint"]]

    def start(self, timeout: float = 15) -> "World":
        """Start everything and write DIR/env."""
        self.dir.mkdir(parents=True, exist_ok=True)
        shims.install_shims(self.dir, {k: str(v) for k, v in ensure_binaries().items()})
        if self.charts == "stand-in":
            stand_ins.write_charts(self.chart_source, self.project / "bootstrap" / "charts.yaml")
        talos_state.seed_nodes(self.dir, [n["address"] for n in self.settings("talos")["nodes"]])
        op.write_state(self.dir, signed_in=True, vaults=self.vaults())
        self.start_apiserver(timeout)
        self.write_env()
        return self

    def vaults(self) -> dict:
        """1Password content for every reference the project renders, with a canary secret."""
        vault = self.settings("common")["onepassword"]["vault"]
        item = self.settings("talos")["secretsItem"]
        fake = {f: base64.b64encode(f"world {f}".encode()).decode() for f in TALOS_FIELDS}
        b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
        return {vault: {item: fake,
                        "onepassword-connect": {"credentials-json-base64": b64('{\n  "world": true\n}\n'),
                                                "token": CANARY},
                        "flux-deploy-key": {
                            "private-key-base64": b64("-----BEGIN OPENSSH PRIVATE KEY-----\nworld\n-----END OPENSSH PRIVATE KEY-----\n"),
                            "public-key-base64": b64("ssh-ed25519 AAAAworld world\n"),
                            "known-hosts-base64": b64("github.com ssh-ed25519 AAAAgithub\n")}}}

    def start_apiserver(self, timeout: float, port: int = 0) -> None:
        """Launch the fake API server and wait (with a deadline) until it says where it listens."""
        info = self.dir / "apiserver.json"
        info.unlink(missing_ok=True)
        sans = [arg for address in self.api_addresses() for arg in ("--san", address)] + ["--port", str(port)]
        sans += ["--kube-version", self.settings("talos")["kubernetesVersion"]]   # what the kubelets report
        sans += ["--service-cidr", self.settings("common")["network"]["serviceSubnet"]]  # Talos serviceSubnets
        log = open(self.dir / "apiserver.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "tests.world.apiserver", "--dir", str(self.dir), *sans],
                                   cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
        self._process = process
        end = time.monotonic() + timeout
        while not info.exists():
            if process.poll() is not None or time.monotonic() > end:
                process.kill()
                raise RuntimeError(f"fake API server did not start within {timeout}s; see {self.dir}/apiserver.log")
            time.sleep(0.05)

    def api(self) -> dict:
        return json.loads((self.dir / "apiserver.json").read_text())

    def env(self) -> dict[str, str]:
        """The variables a shell (or a test) needs to use the world."""
        port = self.api()["port"]
        home = self.dir / "home"
        return {
            "PATH": f"{self.dir / 'bin'}:{os.environ.get('PATH', '')}",
            "TALOS_WORLD_DIR": str(self.dir),
            "OP_WORLD_DIR": str(self.dir),
            "BOOTSTRAP_CHART_SOURCE": str(self.chart_source),
            "BOOTSTRAP_ADDRESS_MAP": ",".join(f"{a}:6443=127.0.0.1:{port}" for a in self.api_addresses()),
            "HOME": str(home),
            "KUBECACHEDIR": str(home / ".kube" / "cache"),
            "HELM_CACHE_HOME": str(home / ".cache" / "helm"),
            "HELM_CONFIG_HOME": str(home / ".config" / "helm"),
            "HELM_DATA_HOME": str(home / ".local" / "share" / "helm"),
            "HELMFILE_UPGRADE_NOTICE_DISABLED": "1",
        }

    def write_env(self) -> Path:
        """DIR/env: shell export lines."""
        path = self.dir / "env"
        path.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.env().items()))
        return path

    def stop(self, timeout: float = 10) -> None:
        """Stop the API server and wait until its process is gone."""
        try:
            pid = self.api()["pid"]
        except (OSError, ValueError, KeyError):
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        process = getattr(self, "_process", None)
        if process is not None:          # our own child: reap it, or it lingers as a zombie
            try:
                process.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                pass
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.killpg(pid, signal.SIGKILL)

    def calls(self) -> list[dict]:
        return shims.read_calls(self.dir)

    def mutating(self) -> list[dict]:
        return [c for c in self.calls() if c.get("mutating")]


def admin(world: World, method: str, path: str, body: dict | None = None) -> dict:
    """Call the fake API server's /_world/ admin endpoints (seed, delete, conditions, faults)."""
    import requests

    api = world.api()
    response = requests.request(method, f"{api['url']}/_world/{path.lstrip('/')}", json=body, timeout=10,
                                verify=api["ca_file"], cert=(api["client_cert"], api["client_key"]))
    response.raise_for_status()
    return response.json()


def delete_object(world: World, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
    """Remove one object from the fake cluster at once (as if someone deleted it)."""
    spec = {"apiVersion": api_version, "kind": kind, "name": name, **({"namespace": namespace} if namespace else {})}
    return admin(world, "DELETE", "objects", spec)["deleted"]


def repave(world: World) -> None:
    """Every node back to maintenance mode and an empty API server on the same port (a repaved cluster)."""
    port = world.api()["port"]
    with talos_state.locked(world.dir) as state:
        for address in list(state):
            state[address] = talos_state.reset_node(state[address])
    world.stop()
    (world.dir / "apiserver-state.json").unlink(missing_ok=True)
    world.start_apiserver(15, port=port)


def mark_release(world: World, name: str, namespace: str, status: str) -> int:
    """Leave the newest revision of a Helm release in `status` (e.g. pending-upgrade), as an
    interrupted helm would; returns that revision."""
    import gzip

    secrets = admin(world, "GET", f"objects?apiVersion=v1&kind=Secret&namespace={namespace}")["items"]
    revisions = [s for s in secrets if (s["metadata"].get("labels") or {}).get("name") == name
                 and (s["metadata"].get("labels") or {}).get("owner") == "helm"]
    newest = max(revisions, key=lambda s: int(s["metadata"]["labels"]["version"]))
    release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(newest["data"]["release"]))))
    release["info"]["status"] = status
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    newest["data"]["release"] = base64.b64encode(packed.encode()).decode()
    newest["metadata"]["labels"]["status"] = status
    admin(world, "POST", "objects", newest)
    return int(newest["metadata"]["labels"]["version"])
