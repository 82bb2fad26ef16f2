"""Reachability override: map any address the tool itself connects to (the Kubernetes API on the
first control-plane node, then on the VIP) to another host:port, for SSH tunnels and
port-forwards. Set BOOTSTRAP_ADDRESS_MAP="10.0.48.55:6443=127.0.0.1:16443,10.0.48.11=127.0.0.1".
Talos node addresses are handed to talosctl as they are."""
from __future__ import annotations

import os

ENV = "BOOTSTRAP_ADDRESS_MAP"


def address_map(text: str | None = None) -> dict[str, str]:
    """Parse 'from=to,...' where each side is host or host:port."""
    text = os.environ.get(ENV, "") if text is None else text
    mapping = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        source, sep, target = item.partition("=")
        if not sep or not source or not target:
            raise ValueError(f"{ENV}: expected from=to pairs such as 10.0.48.55:6443=127.0.0.1:16443, found {item!r}")
        mapping[source.strip()] = target.strip()
    return mapping


def reach(host: str, port: int) -> tuple[str, int]:
    """Where to connect for host:port: an exact host:port entry wins over a host entry."""
    mapping = address_map()
    target = mapping.get(f"{host}:{port}") or mapping.get(host)
    if target is None:
        return host, port
    mapped_host, _, mapped_port = target.partition(":")
    return mapped_host, int(mapped_port) if mapped_port else port
