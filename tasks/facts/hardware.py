"""A node in maintenance mode, as Talos reports it over the insecure maintenance API: its disks and
its links (`talosctl get disks --insecure`, `get links --insecure`; both resource types are
non-sensitive, so the maintenance API's Reader role may read them: internal/app/resources/access.go).
Disks.block.talos.dev carry `dev_path` and `symlinks` (pkg/machinery/resources/block/disk.go),
LinkStatuses.net.talos.dev are named after the link, with `alias` and `altNames`
(pkg/machinery/resources/network/link_status.go). Query and parse only."""
from __future__ import annotations

from dataclasses import dataclass

from .. import tools
from ..tools.outcomes import classify_text
from .talos import json_stream


@dataclass(frozen=True)
class Hardware:
    """What a maintenance-mode node reports, or why it reported nothing."""

    address: str
    disks: frozenset[str] = frozenset()     # every path a disk answers to: dev_path and its symlinks
    links: frozenset[str] = frozenset()     # every name a link answers to: id, alias, altNames
    error: str = ""

    @property
    def configured(self) -> bool:
        """The node answered, but with a TLS failure: over --insecure (no server verification) that
        means it asks for a client certificate, so it runs a config (apid, not the maintenance API:
        "remote error: tls: certificate required")."""
        return classify_text(self.error) == "tls"


def _get(address: str, kind: str) -> tuple[list[dict], str]:
    """One `talosctl get <kind> --insecure` on one node: its resources' specs and ids, or its error."""
    result = tools.talosctl_insecure(["get", kind, "--insecure", "-n", address, "-o", "json"], timeout=30)
    if not result.ok:
        return [], result.message()
    return [item for item in json_stream(result.stdout) if isinstance(item, dict)], ""


def _disk_names(items: list[dict]) -> frozenset[str]:
    names = set()
    for item in items:
        spec = item.get("spec") or {}
        names.add(spec.get("dev_path") or "")
        names.update(spec.get("symlinks") or [])
    return frozenset(n for n in names if n)


def _link_names(items: list[dict]) -> frozenset[str]:
    names = set()
    for item in items:
        spec = item.get("spec") or {}
        names.add((item.get("metadata") or {}).get("id") or "")
        names.add(spec.get("alias") or "")
        names.update(spec.get("altNames") or [])
    return frozenset(n for n in names if n)


def query_hardware(address: str) -> Hardware:
    """The disks and links of a node in maintenance mode (two insecure calls)."""
    disks, error = _get(address, "disks")
    if error:
        return Hardware(address, error=error)
    links, error = _get(address, "links")
    if error:
        return Hardware(address, error=error)
    return Hardware(address, _disk_names(disks), _link_names(links))
