"""Fetch upstream JSON Schemas once, cache them on disk, keep them parsed in memory.

Environment:
  BOOTSTRAP_SCHEMA_MIRROR  base URL (or local folder) laid out like `../shared/schemas`; when set,
                           `<mirror>/<relative path>` is fetched instead of the upstream URL.
  BOOTSTRAP_SCHEMA_CACHE   cache folder (default `.cache/schemas`, git-ignored).

A schema found in the cache is never fetched again. A schema that cannot be had (offline, 404,
not JSON) is remembered as a failure for the rest of the process, so it is tried and reported once.
Network errors never raise: `load` returns None and `failure` says why.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import requests

from .. import paths
from .schema_catalog import SchemaRef

MIRROR_ENV = "BOOTSTRAP_SCHEMA_MIRROR"
CACHE_ENV = "BOOTSTRAP_SCHEMA_CACHE"
TIMEOUT = (5, 20)  # connect, read (seconds): the largest file is ~340 KB


class SchemaStore:
    """Parsed schemas and fetch failures for one (mirror, cache folder) pair."""

    def __init__(self, mirror: str | None, cache_dir: Path):
        """Remember where to fetch from and where to cache."""
        self.mirror = mirror
        self.cache_dir = Path(cache_dir)
        self.fetches = 0
        self._schemas: dict[str, dict] = {}
        self._failures: dict[str, str] = {}
        self._reported: set[str] = set()
        self.derived: dict = {}  # per-schema products of callers (validators, indexes), same lifetime
        self._lock = threading.RLock()

    def location(self, ref: SchemaRef) -> str:
        """The URL (or mirror path) this store fetches `ref` from."""
        if not self.mirror:
            return ref.url
        return self.mirror.rstrip("/") + "/" + ref.rel

    def load(self, ref: SchemaRef) -> dict | None:
        """The parsed schema, from memory, the cache or the network; None if unavailable."""
        with self._lock:
            if ref.rel in self._schemas:
                return self._schemas[ref.rel]
            if ref.rel in self._failures:
                return None
            schema = self._read_cache(ref) or self._fetch(ref)
            if schema is not None:
                self._schemas[ref.rel] = schema
            return schema

    def failure(self, ref: SchemaRef) -> str | None:
        """Why `ref` could not be loaded, or None if it was."""
        return self._failures.get(ref.rel)

    def first_report(self, ref: SchemaRef) -> bool:
        """True the first time a failure of `ref` is reported in this process, False after."""
        with self._lock:
            fresh = ref.rel not in self._reported
            self._reported.add(ref.rel)
            return fresh

    def _cache_path(self, ref: SchemaRef) -> Path:
        """Where `ref` is cached: the mirror-relative path under the cache folder."""
        return self.cache_dir / ref.rel

    def _read_cache(self, ref: SchemaRef) -> dict | None:
        """The cached schema, or None when absent or unreadable (then it is fetched again)."""
        try:
            return _as_schema(self._cache_path(ref).read_bytes())
        except (OSError, ValueError):
            return None

    def _fetch(self, ref: SchemaRef) -> dict | None:
        """Download `ref`, cache it, or record why not."""
        where = self.location(ref)
        self.fetches += 1
        try:
            body = _get(where)
            schema = _as_schema(body)
        except (requests.RequestException, OSError, ValueError) as exc:
            self._failures[ref.rel] = f"{where}: {_reason(exc)}"
            return None
        self._write_cache(ref, body)
        return schema

    def _write_cache(self, ref: SchemaRef, body: bytes) -> None:
        """Write the cache file atomically (parallel doit workers may race); ignore a read-only disk."""
        path = self._cache_path(ref)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(body)
            os.replace(tmp, path)
        except OSError:
            pass


def _get(where: str) -> bytes:
    """The bytes at an http(s) URL, a file:// URL or a local path."""
    parsed = urlparse(where)
    if parsed.scheme in ("http", "https"):
        response = requests.get(where, timeout=TIMEOUT)
        if response.status_code != 200:
            raise requests.HTTPError(f"HTTP {response.status_code} {response.reason}".strip())
        return response.content
    return Path(parsed.path if parsed.scheme == "file" else where).read_bytes()


def _as_schema(body: bytes) -> dict:
    """Parse a schema document; ValueError unless it is a JSON object."""
    schema = json.loads(body)
    if not isinstance(schema, dict):
        raise ValueError("not a JSON Schema object")
    return schema


def _reason(exc: Exception) -> str:
    """A one-line reason for a fetch failure."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed (offline or unreachable)"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, ValueError) and not isinstance(exc, requests.RequestException):
        return f"not a JSON Schema ({exc})"
    return str(exc) or type(exc).__name__


@functools.lru_cache(maxsize=None)
def _store_for(mirror: str | None, cache_dir: str) -> SchemaStore:
    """One store per configuration, kept for the whole process."""
    return SchemaStore(mirror, Path(cache_dir))


def current_store() -> SchemaStore:
    """The store for the current environment (mirror and cache folder)."""
    mirror = os.environ.get(MIRROR_ENV, "").strip() or None
    cache_dir = os.environ.get(CACHE_ENV, "").strip() or str(paths.SCHEMA_CACHE)
    return _store_for(mirror, cache_dir)


def forget_loaded_schemas() -> None:
    """Drop every in-memory schema and remembered failure (the disk cache stays)."""
    _store_for.cache_clear()
