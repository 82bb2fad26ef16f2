"""The loopback-only guard: pytest-socket (switched on in pyproject's addopts) fails any test
that connects anywhere but 127.0.0.1 — here, the example cluster's VIP."""
from __future__ import annotations

import socket

import pytest
import requests
from pytest_socket import SocketConnectBlockedError


def test_connecting_to_the_cluster_vip_fails_loudly():
    """A raw connection to 10.0.48.55 is blocked before any packet leaves."""
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("10.0.48.55", 6443), timeout=1)


def test_http_client_to_the_cluster_vip_fails_loudly():
    """The same through requests (what the schema fetcher uses)."""
    with pytest.raises(SocketConnectBlockedError):
        requests.get("https://10.0.48.55:6443/version", timeout=1)


def test_loopback_is_allowed():
    """127.0.0.1 stays usable: the simulated cluster lives there."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with socket.create_connection(server.getsockname(), timeout=1):
        pass
    server.close()
