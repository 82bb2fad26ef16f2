"""Pytest fixtures for the fake API server and the real kubectl/helm/helmfile that talk to it.

Import them where needed (``from tests.world.fixtures import *`` in a conftest or test module).

- ``world_binaries`` (session): ``{"kubectl"|"helm"|"helmfile": Path}`` from ``ensure_binaries()``.
- ``apiserver``: a fresh in-process fake API server in ``tmp_path/"apiserver"`` (an ``ApiHandle``).
- ``apiserver_process``: the same, run as a subprocess (``python3 -m tests.world.apiserver``).
- ``make_apiserver``: factory ``make_apiserver(mode="inprocess"|"process", sans=(), directory=None)``.
- ``kubectl`` / ``helm``: callables running the real binaries against ``apiserver`` with this test's own
  HOME, KUBECACHEDIR and helm dirs: ``kubectl("get", "ns", input=None, check=True)`` ->
  ``CompletedProcess`` (text). ``tool_env(tmp_path, kubeconfig)`` builds such an environment.

``ApiHandle``: ``.url``, ``.port``, ``.dir``, ``.kubeconfig``, ``.ca_file``, ``.mode``;
``.admin(method, path, body=None)`` for ``/_world/...`` (path relative to ``/_world/``);
``.api(method, path, body=None, content_type=...)`` -> ``(status, json)`` for raw API calls;
``.seed(*objects)``, ``.objects(**filters)``, ``.set_condition(...)``, ``.requests()``,
``.ready_nodes(*names)`` (Nodes made Ready by a stand-in CNI DaemonSet, so pods can run);
``.stop()``, ``.start()``, ``.restart()`` (same port and state directory).
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from .apiserver import ApiServer
from .binaries import REPO, ensure_binaries
from .defaults import DEFAULT_SERVICE_CIDR

__all__ = [
    "ApiHandle",
    "apiserver",
    "apiserver_process",
    "helm",
    "kubectl",
    "make_apiserver",
    "run_tool",
    "tool_env",
    "world_binaries",
]


class ApiHandle:
    """One fake API server (in-process or subprocess) and helpers to drive it."""

    def __init__(self, directory: pathlib.Path, mode: str = "inprocess", sans=(), port: int = 0,
                 service_cidr: str = DEFAULT_SERVICE_CIDR):
        """Configure; call start()."""
        self.dir, self.mode, self.sans, self.port = pathlib.Path(directory), mode, tuple(sans), port
        self.service_cidr = service_cidr
        self.server: ApiServer | None = None
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 20.0) -> ApiHandle:
        """Start the server (reusing the port after a stop)."""
        if self.mode == "inprocess":
            self.server = ApiServer(self.dir, self.port, self.sans, service_cidr=self.service_cidr).start()
            self.info = self.server.info
        else:
            self._start_process(timeout)
        self.port = self.info["port"]
        self._ctx = ssl.create_default_context(cafile=self.info["ca_file"])
        return self

    def _start_process(self, timeout: float) -> None:
        """Launch python3 -m tests.world.apiserver and wait for its apiserver.json."""
        info_file = self.dir / "apiserver.json"
        info_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "tests.world.apiserver", "--dir", str(self.dir), "--port", str(self.port),
               "--service-cidr", self.service_cidr]
        for san in self.sans:
            cmd += ["--san", san]
        self.dir.mkdir(parents=True, exist_ok=True)
        self._stderr = open(self.dir / "apiserver.stderr", "ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=self._stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"apiserver exited {self.proc.returncode}; see {self.dir / 'apiserver.stderr'}")
            try:
                info = json.loads(info_file.read_text())
                if info.get("pid") == self.proc.pid:
                    self.info = info
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"apiserver did not become ready within {timeout}s")

    def stop(self) -> None:
        """Stop the server (SIGTERM for a subprocess)."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
            self._stderr.close()

    def restart(self) -> ApiHandle:
        """Stop and start again on the same port with the same state."""
        self.stop()
        return self.start()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """https://127.0.0.1:PORT."""
        return self.info["url"]

    @property
    def kubeconfig(self) -> pathlib.Path:
        """Admin kubeconfig written by the server."""
        return pathlib.Path(self.info["kubeconfig"])

    @property
    def ca_file(self) -> pathlib.Path:
        """The cluster CA certificate."""
        return pathlib.Path(self.info["ca_file"])

    # ------------------------------------------------------------------ HTTP helpers

    def api(self, method: str, path: str, body=None, content_type: str = "application/json") -> tuple[int, dict]:
        """Raw API request; returns (status, decoded JSON body)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def admin(self, method: str, path: str, body=None):
        """Call /_world/<path>; raise on a non-200 answer."""
        status, out = self.api(method, "/_world/" + path.lstrip("/"), body)
        if status != 200:
            raise RuntimeError(f"/_world/{path} answered {status}: {out}")
        return out

    def seed(self, *objects: dict) -> list[dict]:
        """Put objects raw (status kept)."""
        return self.admin("POST", "objects", {"items": list(objects)})["items"]

    def ready_nodes(self, *names: str) -> list[dict]:
        """Register worker Nodes and a host-network CNI DaemonSet ("cilium") that turns them Ready."""
        cni = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"app": "cni"}}, "template": {
                   "metadata": {"labels": {"app": "cni"}},
                   "spec": {"hostNetwork": True, "tolerations": [{"operator": "Exists"}],
                            "containers": [{"name": "agent", "image": "registry.invalid/cni:1"}]}}}}
        nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": n, "labels": {
            "kubernetes.io/hostname": n, "kubernetes.io/os": "linux"}}} for n in names or ("node-1",)]
        self.seed(*nodes, cni)
        return self.objects(kind="Node")

    def objects(self, **filters) -> list[dict]:
        """Raw stored objects, filtered by apiVersion/kind/namespace/name."""
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.admin("GET", f"objects?{query}")["items"]

    def set_condition(self, api_version: str, kind: str, name: str, ctype: str, status: str,
                      namespace: str = "", reason: str = "WorldOverride", message: str = "",
                      sticky: bool = True) -> dict | None:
        """Set (and by default pin) a status condition on an object."""
        return self.admin("POST", "conditions", {
            "apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name, "type": ctype,
            "status": status, "reason": reason, "message": message, "sticky": sticky})["object"]

    def requests(self) -> list[dict]:
        """The request log."""
        return self.admin("GET", "requests")["requests"]


def tool_env(home: pathlib.Path, kubeconfig: pathlib.Path | str | None = None) -> dict:
    """Environment for kubectl/helm/helmfile with a private HOME, kube cache and helm dirs."""
    home = pathlib.Path(home)
    for sub in ("kubecache", "helm/cache", "helm/config", "helm/data"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "HELM"))}
    env.update(HOME=str(home), KUBECACHEDIR=str(home / "kubecache"), HELM_CACHE_HOME=str(home / "helm/cache"),
               HELM_CONFIG_HOME=str(home / "helm/config"), HELM_DATA_HOME=str(home / "helm/data"),
               HELMFILE_UPGRADE_NOTICE_DISABLED="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(proxy, None)
    if kubeconfig:
        env["KUBECONFIG"] = str(kubeconfig)
    return env


def run_tool(binary: pathlib.Path, args, env: dict, input: str | None = None, check: bool = False,
             timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a binary; with check=True raise with its output on failure."""
    proc = subprocess.run([str(binary), *map(str, args)], env=env, input=input, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{binary.name} {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def world_binaries() -> dict[str, pathlib.Path]:
    """Paths of the pinned kubectl, helm and helmfile (fetched once per cache)."""
    return ensure_binaries()


@pytest.fixture
def make_apiserver(tmp_path):
    """Factory for fake API servers; all are stopped at teardown."""
    made: list[ApiHandle] = []

    def make(mode: str = "inprocess", sans=(), directory: pathlib.Path | None = None) -> ApiHandle:
        """Start a server (in-process or as a subprocess) in its own directory."""
        handle = ApiHandle(directory or tmp_path / f"apiserver{len(made) or ''}", mode, sans)
        made.append(handle)
        return handle.start()

    yield make
    for handle in made:
        handle.stop()


@pytest.fixture
def apiserver(make_apiserver) -> ApiHandle:
    """A fresh in-process fake API server."""
    return make_apiserver()


@pytest.fixture
def apiserver_process(make_apiserver) -> ApiHandle:
    """A fresh fake API server running as a subprocess."""
    return make_apiserver("process")


@pytest.fixture
def kubectl(world_binaries, apiserver, tmp_path):
    """Run the real kubectl against the apiserver fixture with this test's own HOME/KUBECACHEDIR."""
    env = tool_env(tmp_path / "home", apiserver.kubeconfig)
    return lambda *args, input=None, check=False, timeout=60: run_tool(
        world_binaries["kubectl"], args, env, input, check, timeout)


@pytest.fixture
def helm(world_binaries, apiserver, tmp_path):
    """Run the real helm against the apiserver fixture (default Secret storage)."""
    env = tool_env(tmp_path / "home", apiserver.kubeconfig)
    return lambda *args, input=None, check=False, timeout=120: run_tool(
        world_binaries["helm"], args, env, input, check, timeout)
