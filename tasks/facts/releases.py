"""Helm release storage, parsed: the newest revision of each release from its Secret (base64 of
base64 of gzip of JSON, helm pkg/storage/driver/util.go), with the objects of its stored manifest."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..files import write_if_changed


@dataclass
class ReleaseFact:
    """The newest revision of a Helm release, from its storage Secret."""

    name: str
    namespace: str
    status: str
    chart_version: str
    values: dict
    revision: int = 0
    objects: tuple[tuple[str, str, str], ...] = field(default=())    # (kind, namespace or "", name) of the manifest

    @property
    def kinds(self) -> set[str]:
        return {kind for kind, _, _ in self.objects}


def decode(secret: dict, memo: "ObjectsMemo | None" = None) -> ReleaseFact | None:
    """The release a storage Secret holds, or None when it cannot be read."""
    try:
        raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
        release = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (KeyError, ValueError, OSError, TypeError):
        return None
    if not isinstance(release, dict):
        return None
    chart = (release.get("chart") or {}).get("metadata") or {}
    return ReleaseFact(str(release.get("name", "")), str(release.get("namespace", "")),
                       str((release.get("info") or {}).get("status", "")), str(chart.get("version", "")),
                       release.get("config") or {}, int(release.get("version", 0) or 0),
                       (memo or ObjectsMemo()).objects(str(release.get("manifest") or "")))


def manifest_objects(manifest: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, namespace, name) of every object of a rendered manifest (hooks are stored apart)."""
    try:
        documents = list(yaml.load_all(manifest, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return ()
    found = []
    for doc in documents:
        if isinstance(doc, dict) and doc.get("kind") and isinstance(doc.get("metadata"), dict):
            meta = doc["metadata"]
            found.append((str(doc["kind"]), str(meta.get("namespace") or ""), str(meta.get("name", ""))))
    return tuple(found)


class ObjectsMemo:
    """The objects of each stored manifest by the manifest's sha256, kept between runs: parsing the
    real charts' manifests was a no-op run's slowest step, and a manifest's objects never change.
    Holds kinds and names only (never values)."""

    def __init__(self, path: Path | None = None):
        self.path, self.known, self.used = path, {}, {}
        try:
            loaded = json.loads(path.read_text()) if path else {}
        except (OSError, ValueError):
            loaded = {}
        if isinstance(loaded, dict):
            self.known = {k: v for k, v in loaded.items() if _is_objects(v)}

    def objects(self, manifest: str) -> tuple[tuple[str, str, str], ...]:
        """The manifest's objects: remembered, or parsed (and remembered)."""
        key = hashlib.sha256(manifest.encode()).hexdigest()
        found = self.known.get(key)
        if found is None:
            found = [list(row) for row in manifest_objects(manifest)]
        self.used[key] = found
        return tuple(tuple(row) for row in found)

    def save(self) -> None:
        """Keep what this run used (so the file never grows with history); a failure is harmless."""
        if self.path is not None:
            try:
                write_if_changed(self.path, json.dumps(self.used, sort_keys=True) + "\n")
            except OSError:
                pass


def _is_objects(rows) -> bool:
    """Whether a remembered entry has the shape of a manifest's objects: [[kind, namespace, name], ...]."""
    return isinstance(rows, list) and all(
        isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row) for row in rows)


def keep_newest(releases: dict[str, ReleaseFact], found: ReleaseFact) -> None:
    """Keep the newest revision of each release."""
    current = releases.get(found.name)
    if current is None or current.revision < found.revision:
        releases[found.name] = found
