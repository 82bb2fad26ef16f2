"""Talos' version support matrix (pkg/machinery/compatibility at v1.13.9).

talos1xx/talos1xx.go: MinimumHostUpgradeVersion, MaximumHostDowngradeVersion (excluded),
MinimumKubernetesVersion, MaximumKubernetesVersion (excluded). kubernetes_version.go SupportedWith
and talos_version.go UpgradeableFrom give the error texts; versions print without "v".
"""
from __future__ import annotations

MATRIX = {  # minor: (min host, max host (excl), min k8s, max k8s (excl))
    "1.9": ((1, 8, 0), (1, 11, 0), (1, 27, 0), (1, 32, 99)),
    "1.10": ((1, 8, 0), (1, 12, 0), (1, 28, 0), (1, 33, 99)),
    "1.11": ((1, 9, 0), (1, 13, 0), (1, 29, 0), (1, 34, 99)),
    "1.12": ((1, 10, 0), (1, 14, 0), (1, 30, 0), (1, 35, 99)),
    "1.13": ((1, 11, 0), (1, 15, 0), (1, 31, 0), (1, 36, 99)),
}


def core(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of "v1.13.9" / "1.36.3-rc.0"."""
    parts = version.lstrip("v").split("-", 1)[0].split(".")
    return tuple(int(p) if p.isdigit() else 0 for p in (parts + ["0", "0"])[:3])


def plain(version: str) -> str:
    """semver String(): the version without its "v"."""
    return version.lstrip("v")


def _row(version: str):
    """The compatibility matrix row of a Talos version's minor release, or None."""
    return MATRIX.get(".".join(str(p) for p in core(version)[:2]))


def k8s_supported(k8s: str, talos: str) -> str | None:
    """KubernetesVersion.SupportedWith(talos): None, or the error text."""
    row = _row(talos)
    if row is None:
        return f"compatibility with version {plain(talos)} is not supported"
    if core(k8s) < row[2]:
        return f"version of Kubernetes {plain(k8s)} is too old to be used with Talos {plain(talos)}"
    if core(k8s) >= row[3]:
        return f"version of Kubernetes {plain(k8s)} is too new to be used with Talos {plain(talos)}"
    return None


def upgradeable_from(target: str, host: str) -> str | None:
    """TalosVersion.UpgradeableFrom(host) for an installer of version `target`."""
    row = _row(target)
    if row is None:
        return f"upgrades to version {plain(target)} are not supported"
    if core(host) < row[0]:
        return f"host version {plain(host)} is too old to upgrade to Talos {plain(target)}"
    if core(host) >= row[1]:
        return f"host version {plain(host)} is too new to downgrade to Talos {plain(target)}"
    return None
