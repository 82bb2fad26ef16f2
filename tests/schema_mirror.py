"""A loopback HTTP mirror of `../shared/schemas` for the conformance tests.

Use the `schema_mirror` fixture (import it into a conftest or a test module): it serves the shared
schemas folder on 127.0.0.1 (port 0) from a thread, points BOOTSTRAP_SCHEMA_MIRROR at it and
BOOTSTRAP_SCHEMA_CACHE at a fresh tmp folder, and skips the test when the folder is absent.
"""

from __future__ import annotations

import collections
import functools
import socket
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tasks.render import schema_store
from tasks.render.conformance import STRICT_ENV
from tests.project import require_shared

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"


@dataclass
class Mirror:
    """A running mirror: its base URL, the folder it serves, the cache folder, hits per path."""

    url: str
    root: Path
    cache_dir: Path
    hits: collections.Counter = field(default_factory=collections.Counter)

    @property
    def total_hits(self) -> int:
        """All GET requests served so far."""
        return sum(self.hits.values())


class _CountingHandler(SimpleHTTPRequestHandler):
    """Serves files, counts each GET by path, logs nothing."""

    def __init__(self, *args, hits: collections.Counter, **kwargs):
        """Keep the shared hit counter."""
        self.hits = hits
        super().__init__(*args, **kwargs)

    def do_GET(self):
        """Count, then serve."""
        self.hits[self.path.lstrip("/")] += 1
        super().do_GET()

    def log_message(self, *args):
        """Stay quiet."""


def closed_port_url() -> str:
    """A 127.0.0.1 URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def schema_mirror(tmp_path, monkeypatch):
    """Serve the shared schemas on loopback, with a fresh cache and no strict mode."""
    require_shared("schemas")
    mirror = Mirror("", SHARED_SCHEMAS, tmp_path / "schema-cache")
    handler = functools.partial(_CountingHandler, hits=mirror.hits, directory=str(SHARED_SCHEMAS))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}/"
    monkeypatch.setenv(schema_store.MIRROR_ENV, mirror.url)
    monkeypatch.setenv(schema_store.CACHE_ENV, str(mirror.cache_dir))
    monkeypatch.delenv(STRICT_ENV, raising=False)
    schema_store.forget_loaded_schemas()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        schema_store.forget_loaded_schemas()
