"""Helm release storage, parsed: the newest revision of each release from its Secret (base64 of
base64 of gzip of JSON, helm pkg/storage/driver/util.go), with the objects of its stored manifest."""
from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field

import yaml


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


def decode(secret: dict) -> ReleaseFact | None:
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
                       manifest_objects(str(release.get("manifest") or "")))


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


def keep_newest(releases: dict[str, ReleaseFact], found: ReleaseFact) -> None:
    """Keep the newest revision of each release."""
    current = releases.get(found.name)
    if current is None or current.revision < found.revision:
        releases[found.name] = found
