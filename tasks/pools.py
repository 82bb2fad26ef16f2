"""Address arithmetic for the LoadBalancer pool."""
from __future__ import annotations

import ipaddress


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
