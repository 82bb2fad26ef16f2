"""What `doit render` wrote: the sha256 of every artifact, kept in build/rendered.json. A render task
is up to date only while its file still holds those bytes (so `doit render` restores a truncated or
edited artifact), a stage refuses an input that differs from them, and stale-file cleanup removes
only files this record says the tool rendered."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import paths
from ..files import read_json, write_if_changed


def file_digest(path: Path) -> str | None:
    """sha256 of a file's bytes, None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def rendered() -> dict[str, str]:
    """build/-relative target -> sha256 of what `doit render` last wrote there."""
    found = read_json(paths.RENDERED_RECORD)
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(found, dict) else {}


def remember(target: str, content: str) -> None:
    """Record the bytes one artifact was written with."""
    record = rendered()
    record[target] = hashlib.sha256(content.encode("utf-8")).hexdigest()
    write_if_changed(paths.RENDERED_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")


def forget(targets: list[str]) -> None:
    """Drop targets the tool no longer renders."""
    record = {k: v for k, v in rendered().items() if k not in targets}
    write_if_changed(paths.RENDERED_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")


def intact(target: str) -> bool:
    """Whether build/<target> still holds what `doit render` wrote."""
    wanted = rendered().get(target)
    return wanted is not None and file_digest(paths.BUILD / target) == wanted


def tampered(files) -> list[str]:
    """The rendered files among `files` that differ from what `doit render` wrote, as the user sees them."""
    record = rendered()
    out = []
    for path in files:
        target = paths.rel(path).removeprefix("build/")
        if target in record and file_digest(Path(path)) != record[target]:
            out.append(paths.rel(path))
    return out
