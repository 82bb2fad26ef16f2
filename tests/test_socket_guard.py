"""The loopback-only guard: pytest-socket (switched on in pyproject's addopts) fails any test
that connects anywhere but 127.0.0.1 — here, the example cluster's VIP."""
from __future__ import annotations

import os
import socket

import pytest
import requests
from pytest_socket import SocketConnectBlockedError


def test_connecting_to_the_cluster_vip_fails_loudly():
    """A raw connection to 10.0.48.55 is blocked before any packet leaves."""
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("10.0.48.55", 6443), timeout=1)


def test_http_client_to_the_cluster_vip_fails_loudly():
    """The same through requests (what the schema fetcher uses), with or without the proxy guard."""
    session = requests.Session()
    session.trust_env = False            # no proxy: pytest-socket itself must refuse
    with pytest.raises(SocketConnectBlockedError):
        session.get("https://10.0.48.55:6443/version", timeout=1)
    with pytest.raises(requests.exceptions.ProxyError):      # the guard's dead proxy answers nothing
        requests.get("https://10.0.48.55:6443/version", timeout=1)


def test_loopback_is_allowed():
    """127.0.0.1 stays usable: the simulated cluster lives there."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with socket.create_connection(server.getsockname(), timeout=1):
        pass
    server.close()


def test_a_subprocess_cannot_reach_the_network_either(world_binaries, tmp_path):
    """helm pulling from a registry goes to the dead loopback proxy, not to the internet."""
    import subprocess
    env = {**os.environ, "HOME": str(tmp_path), "HELM_CACHE_HOME": str(tmp_path / "cache"),
           "HELM_CONFIG_HOME": str(tmp_path / "config"), "HELM_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run([str(world_binaries["helm"]), "pull", "oci://quay.io/cilium/charts/cilium",
                             "--version", "1.19.4", "-d", str(tmp_path)], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "127.0.0.1:9" in result.stderr, result.stderr
