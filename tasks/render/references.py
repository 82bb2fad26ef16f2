"""Every 1Password item and field the project reads: the op:// references of every rendered
artifact (rendered in memory, nothing written) and of bootstrap/resources.yaml, grouped by item."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import paths
from ..settings.model import Cluster
from .check import render_in_memory

# A reference anywhere in a text: op://vault/item[/section]/field (the templates and
# bootstrap/resources.yaml write whole-value references without spaces).
REFERENCE = re.compile(r"op://([^/\s\"'{}]+)/([^/\s\"'{}]+)/([^\s\"'{}]+)")


@dataclass(frozen=True)
class ItemRefs:
    """One item the project reads, with the fields it reads and a file that reads them."""

    vault: str
    item: str
    fields: frozenset[str]
    files: tuple[str, ...]


def _scan(text: str, where: str, found: dict) -> None:
    for vault, item, rest in REFERENCE.findall(text):
        entry = found.setdefault((vault, item), (set(), []))
        entry[0].add(rest.rsplit("/", 1)[-1])
        if where not in entry[1]:
            entry[1].append(where)


def references(cluster: Cluster) -> list[ItemRefs]:
    """The items and fields every artifact and bootstrap/resources.yaml reference, in first-seen order."""
    found: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    rendered, _ = render_in_memory(cluster)
    for target, text in sorted(rendered.items()):
        _scan(text, f"build/{target}", found)
    try:
        _scan(paths.RESOURCES_FILE.read_text(encoding="utf-8"), paths.rel(paths.RESOURCES_FILE), found)
    except (OSError, UnicodeDecodeError):
        pass
    return [ItemRefs(vault, item, frozenset(fields), tuple(files))
            for (vault, item), (fields, files) in found.items()]


def secrets_item(cluster: Cluster) -> tuple[str, str]:
    """(vault, item) of the Talos cluster secrets: common.yaml onepassword.vault, talos.yaml secretsItem."""
    return cluster.settings["common"]["onepassword"]["vault"], cluster.settings["talos"]["secretsItem"]
