"""Rendering: one Jinja environment (StrictUndefined, no autoescape) and deterministic output."""
from __future__ import annotations

import copy
import ipaddress
import json
from functools import lru_cache

from .. import paths


def nth_address(network: str, n: int) -> str:
    """The n-th address of a network (e.g. the cluster DNS at the 10th service address)."""
    return str(ipaddress.ip_network(network, strict=False)[n])


def pool_blocks(start: str, stop: str, exclude: list[str]) -> list[tuple[str, str]]:
    """The pool as contiguous (start, stop) blocks with the excluded addresses carved out."""
    lo, hi = int(ipaddress.ip_address(start)), int(ipaddress.ip_address(stop))
    holes = sorted({int(ipaddress.ip_address(a)) for a in exclude if lo <= int(ipaddress.ip_address(a)) <= hi})
    blocks, cursor = [], lo
    for hole in holes + [hi + 1]:
        if cursor <= hole - 1:
            blocks.append((str(ipaddress.ip_address(cursor)), str(ipaddress.ip_address(hole - 1))))
        cursor = hole + 1
    return blocks


def helm_chart(chart: dict, key: str, source: str) -> dict:
    """How a helmfile release names its chart: a local folder <source>/<chart>-<version> when a
    chart source is set, `<repo name>/<chart>` for an https repository, the OCI reference otherwise."""
    if source:
        return {"chart": f"{source}/{chart['chart']}-{chart['version']}", "version": None}
    if chart["repo"].startswith("https://"):
        return {"chart": f"{key}/{chart['chart']}", "version": str(chart["version"])}
    return {"chart": f"{chart['repo']}/{chart['chart']}", "version": str(chart["version"])}


def helm_repositories(charts: dict, keys, source: str) -> list[tuple[str, str]]:
    """The https chart repositories the given charts come from (OCI and local charts need none)."""
    if source:
        return []
    return [(key, charts[key]["repo"]) for key in keys if charts[key]["repo"].startswith("https://")]


def as_scalar(value: object) -> object:
    """Every {{ }} expression is written as a JSON scalar (JSON is YAML), so a setting reaches the
    YAML with its own type and bytes whatever it holds (a newline, `#`, `: `, `yes`, quotes). Output
    of the tojson filter is already JSON (markupsafe.Markup) and passes as it is."""
    from markupsafe import Markup
    return value if isinstance(value, Markup) else json.dumps(value, ensure_ascii=False)


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
        finalize=as_scalar,
    )
    env.filters["nth_address"] = nth_address
    env.filters["helm_chart"] = helm_chart
    env.filters["helm_repositories"] = helm_repositories
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
