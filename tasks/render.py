"""Rendering: one Jinja environment (StrictUndefined, no autoescape), deterministic output, and
write-if-changed so doit's md5 checker sees unchanged artifacts as unchanged."""
from __future__ import annotations

import copy
import ipaddress
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from . import paths
from .pools import pool_blocks


def nth_address(network: str, n: int) -> str:
    """The n-th address of a network (e.g. the cluster DNS at the 10th service address)."""
    return str(ipaddress.ip_network(network, strict=False)[n])


@lru_cache(maxsize=1)
def environment():
    """The Jinja environment every template renders in."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["nth_address"] = nth_address
    env.filters["pool_blocks"] = lambda pool: pool_blocks(pool["start"], pool["stop"], pool.get("exclude", []))
    return env


def render_template(template: str, **context) -> str:
    """Render templates/<template> with the given context; always ends with one newline."""
    text = environment().get_template(template).render(**context)
    return text.strip("\n") + "\n"


def deep_merge(base: dict, override: dict) -> dict:
    """A copy of base with override merged in (mappings recursively, anything else replaced)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def write_if_changed(target: Path, content: str, mode: int = 0o644) -> bool:
    """Write content atomically (with `mode`; 0o600 for credentials) unless the file already holds
    exactly it; True if written."""
    data = content.encode("utf-8")
    try:
        if target.read_bytes() == data:
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
