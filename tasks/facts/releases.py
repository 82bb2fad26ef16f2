"""Helm release storage, parsed: the newest revision of each release from its Secret (base64 of
base64 of gzip of JSON, helm pkg/storage/driver/util.go), with the objects of its stored manifest."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import asdict, dataclass, field
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
    values_digest: str                # values_digest() of the release's user-supplied values
    revision: int = 0
    objects: tuple[tuple[str, str, str], ...] = field(default=())    # (kind, namespace or "", name) of the manifest

    @property
    def kinds(self) -> set[str]:
        return {kind for kind, _, _ in self.objects}


def values_digest(values) -> str:
    """sha256 of values as Helm compares them (JSON: keys are strings, 2.0 is 2), so the values a
    release was installed with are known by digest only (they may hold secrets)."""
    text = json.dumps(_as_json(values or {}), sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _as_json(value):
    """A value as Helm stores it after its YAML-to-JSON conversion (sigs.k8s.io/yaml)."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def decode(secret: dict, memo: "ReleaseMemo | None" = None) -> ReleaseFact | None:
    """The release a storage Secret holds (remembered by the memo, or decoded), or None when it
    cannot be read."""
    data = (secret.get("data") or {}).get("release")
    memo = memo or ReleaseMemo()
    known = memo.recall(data)
    if known is not None:
        return known
    try:
        raw = base64.b64decode(base64.b64decode(data))
        release = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (ValueError, OSError, TypeError):
        return None
    if not isinstance(release, dict):
        return None
    chart = (release.get("chart") or {}).get("metadata") or {}
    return memo.keep(data, ReleaseFact(
        str(release.get("name", "")), str(release.get("namespace", "")), str((release.get("info") or {}).get("status", "")),
        str(chart.get("version", "")), values_digest(release.get("config")), int(release.get("version", 0) or 0),
        manifest_objects(str(release.get("manifest") or ""))))


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


class ReleaseMemo:
    """Each release Secret's reading, by the sha256 of its stored release, kept between runs
    (build/release-facts.json): decoding the real charts' releases and parsing their manifests was
    most of a no-op run's own work, and a stored revision's content never changes. Holds names,
    versions, status, digests and object names; never values."""

    def __init__(self, path: Path | None = None):
        self.path, self.known, self.used = path, {}, {}
        try:
            loaded = json.loads(path.read_text()) if path else {}
        except (OSError, ValueError):
            loaded = {}
        for key, row in (loaded.items() if isinstance(loaded, dict) else ()):
            fact = _fact(row)
            if fact is not None:
                self.known[key] = fact

    @staticmethod
    def key(data) -> str:
        return hashlib.sha256(str(data).encode()).hexdigest()

    def recall(self, data) -> ReleaseFact | None:
        """The remembered reading of this stored release, if any."""
        key = self.key(data)
        if key in self.known:
            self.used[key] = self.known[key]
        return self.known.get(key)

    def keep(self, data, fact: ReleaseFact) -> ReleaseFact:
        """Remember a fresh reading."""
        self.used[self.key(data)] = fact
        return fact

    def save(self) -> None:
        """Keep what this run read (so the file never grows with history); a failure is harmless."""
        if self.path is not None:
            rows = {k: {**asdict(f), "objects": [list(o) for o in f.objects]} for k, f in self.used.items()}
            try:
                write_if_changed(self.path, json.dumps(rows, sort_keys=True) + "\n")
            except OSError:
                pass


def _fact(row) -> ReleaseFact | None:
    """A remembered reading, or None when it does not have the shape of one."""
    rows = row.get("objects") if isinstance(row, dict) else None
    if not (isinstance(rows, list) and all(isinstance(o, list) for o in rows)):
        return None
    try:
        fact = ReleaseFact(**{**row, "objects": tuple(tuple(o) for o in row["objects"])})
    except (TypeError, KeyError):
        return None
    texts = (fact.name, fact.namespace, fact.status, fact.chart_version, fact.values_digest)
    ok = all(isinstance(t, str) for t in texts) and isinstance(fact.revision, int) and all(
        len(o) == 3 and all(isinstance(x, str) for x in o) for o in fact.objects)
    return fact if ok else None


def keep_newest(releases: dict[str, ReleaseFact], found: ReleaseFact) -> None:
    """Keep the newest revision of each release."""
    current = releases.get(found.name)
    if current is None or current.revision < found.revision:
        releases[found.name] = found
