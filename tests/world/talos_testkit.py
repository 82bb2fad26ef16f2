"""Pytest fixtures shared by the fake talosctl's tests: three maintenance-mode machines (two
control planes, one worker) with shims on PATH, their machine configs, and helpers."""
from __future__ import annotations

import pytest

from tests.world.fake_testkit import machine_config, make_world

CP1, CP2, WK1 = "10.0.48.11", "10.0.48.12", "10.0.48.21"
NODES = [CP1, CP2, WK1]


@pytest.fixture
def world(tmp_path):
    """Three maintenance-mode machines, shims on PATH, a talosconfig for CP1; reboots take 0.3s."""
    made = make_world(tmp_path / "world", nodes=NODES)
    made.env["TALOS_WORLD_REBOOT_SECONDS"] = "0.3"
    return made


@pytest.fixture
def configs(world):
    """Machine config files for the three machines."""
    files = {}
    for addr, kind, host in ((CP1, "controlplane", "cp-1"), (CP2, "controlplane", "cp-2"), (WK1, "worker", "wk-1")):
        path = world.dir / f"{host}.yaml"
        path.write_text(machine_config(kind, host))
        files[addr] = path
    return files


def insecure_apply(world, addr, path, *extra):
    """apply-config --insecure to one node."""
    return world.run("talosctl", "apply-config", "--insecure", "-n", addr, "-f", str(path), *extra)


def configure_all(world, configs):
    """Apply every machine's config in maintenance mode."""
    for addr, path in configs.items():
        assert insecure_apply(world, addr, path).returncode == 0


@pytest.fixture
def bootstrapped(world, configs):
    """All three configured and CP1 bootstrapped (CP2 joins etcd)."""
    configure_all(world, configs)
    result = world.talosctl("bootstrap", "-n", CP1, "-e", CP1)
    assert result.returncode == 0, result.stderr
    return world
