"""First run in a fresh simulated cluster whose 1Password lacks the Talos item: `doit secrets`
stores generated secrets (never on disk, in a log or in argv), `doit doctor` names each problem with
its fix and changes nothing, `doit bootstrap` stops at the preflight before its first change, and
a bootstrap with the generated secrets succeeds."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.project import Project
from tests.world import op as fake_op
from tests.world import talos_state
from tests.world.world import World, admin

CP2, WORKER = "10.0.48.12", "10.0.48.21"


class Fresh:
    """A project copy and a world whose nodes are in maintenance and whose op lacks the Talos item."""

    def __init__(self, base: Path, schema_env: dict):
        self.project = Project.copy(base / "repo")
        self.world = World(base / "world", self.project.root).start()
        state = json.loads((self.world.dir / "op.json").read_text())
        del state["vaults"]["homelab"]["talos"]
        (self.world.dir / "op.json").write_text(json.dumps(state))
        self.env = {**schema_env, **self.world.env(), "BOOTSTRAP_TIMEOUT_FLUX": "60", "BOOTSTRAP_TIMEOUT_NODES": "60"}

    def doit(self, *args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        self.mark = len(self.world.calls())
        return self.project.doit(*args, env={**self.env, **(env or {})}, timeout=timeout)

    def new_mutating(self) -> list[dict]:
        return [c for c in self.world.calls()[self.mark:] if c["mutating"]]

    def op_state(self) -> dict:
        return json.loads((self.world.dir / "op.json").read_text())

    def talos_item(self) -> dict:
        return self.op_state()["vaults"]["homelab"].get("talos") or {}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, schema_env):
    f = Fresh(tmp_path_factory.mktemp("first-run"), schema_env)
    yield f
    f.world.stop()


def doctor_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(("ok ", "note ", "problem "))]


def one_problem(fresh: Fresh, env: dict | None = None) -> str:
    """Run doctor: it fails, changes nothing, and reports exactly one problem line (returned)."""
    result = fresh.doit("doctor", env=env, timeout=180)
    assert result.returncode != 0, result.stdout[-2000:]
    assert fresh.new_mutating() == []
    problems = [line for line in doctor_lines(result) if line.startswith("problem ")]
    assert len(problems) == 1, result.stdout[-3000:]
    return problems[0]


def referenced_fields(project: Project) -> set[str]:
    """Every field of op://homelab/talos the rendered artifacts read (doctor rendered them)."""
    text = "".join(p.read_text() for p in project.path("build/talos").glob("*.yaml"))
    words = (word.strip("\"'") for word in text.split())
    return {word.split("/")[-1] for word in words if word.startswith("op://homelab/talos/")}


def command_lines_while(process: subprocess.Popen) -> list[str]:
    """Every /proc/*/cmdline seen while the process runs (polled), as text."""
    seen = set()
    while process.poll() is None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    seen.add((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        time.sleep(0.005)
    return sorted(seen)


def test_doctor_names_the_missing_talos_item_and_doit_secrets(fresh):
    line = one_problem(fresh)
    assert line.startswith("problem  op://homelab/talos: the item does not exist") and "fix: run `doit secrets`" in line


def test_secrets_stores_every_field_and_no_value_leaks(fresh):
    process = subprocess.Popen([sys.executable, "-m", "doit", "secrets"], cwd=fresh.project.root,
                               env={**os.environ, **fresh.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fresh.mark = len(fresh.world.calls())
    command_lines = command_lines_while(process)
    out, err = (stream.read().decode() for stream in (process.stdout, process.stderr))
    assert process.returncode == 0, out[-2000:] + err[-2000:]
    assert any("gen secrets -o -" in line for line in command_lines)      # the scan saw the run's commands
    item = fresh.talos_item()
    assert set(item) == referenced_fields(fresh.project) and len(item) == 16
    values = [v for v in item.values() if len(v) >= 16]
    assert len(values) == 16
    leaks = [line for line in command_lines + [out, err] if any(v in line for v in values)]
    assert leaks == []
    files = [p for root in (fresh.project.root, fresh.world.dir) for p in root.rglob("*")
             if p.is_file() and p.name != "op.json" and p.stat().st_size < 20_000_000]
    assert [p for p in files if any(v.encode() in p.read_bytes() for v in values)] == []


def test_a_second_secrets_refuses_to_overwrite(fresh):
    before = fresh.talos_item()
    result = fresh.doit("secrets", timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "already exists" in output and "doit secrets --overwrite" in output
    assert fresh.talos_item() == before and fresh.new_mutating() == []


def test_overwrite_replaces_the_item_and_archives_the_old_one(fresh):
    before = fresh.talos_item()
    result = fresh.doit("secrets", "--overwrite", timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    after = fresh.talos_item()
    assert set(after) == set(before) and after["cluster-secret"] != before["cluster-secret"]
    assert fresh.op_state()["archive"]["homelab"]["talos"] == before
    assert [c["argv"][1] for c in fresh.new_mutating()] == ["delete", "create"]


@contextlib.contextmanager
def changed(world: World, address: str, **knobs):
    """Change one simulated node's knobs (disks, links, unreachable) for the block."""
    with talos_state.locked(world.dir) as state:
        saved = {key: state[address][key] for key in knobs}
        state[address].update(knobs)
    try:
        yield
    finally:
        with talos_state.locked(world.dir) as state:
            state[address].update(saved)


def test_doctor_missing_tool(fresh):
    line = one_problem(fresh, env={"HELMFILE": str(fresh.world.dir / "no-such-helmfile")})
    assert line.startswith("problem  helmfile: not usable") and "fix: install helmfile 0.166.0 or newer" in line


def test_doctor_old_tool(fresh, tmp_path):
    old = tmp_path / "helm"
    old.write_text("#!/bin/sh\necho v3.10.0+gce66412\n")
    old.chmod(0o755)
    line = one_problem(fresh, env={"HELM": str(old)})
    assert line.startswith("problem  helm: 3.10.0 is older than the minimum 3.17.0") and "fix: install helm" in line


def test_doctor_op_signed_out(fresh):
    vaults = fresh.op_state()["vaults"]
    fake_op.write_state(fresh.world.dir, signed_in=False, vaults=vaults)
    try:
        line = one_problem(fresh)
    finally:
        fake_op.write_state(fresh.world.dir, signed_in=True, vaults=vaults)
    assert line.startswith("problem  op: not signed in") and "fix: `eval $(op signin)`" in line
    assert "OP_SERVICE_ACCOUNT_TOKEN" in line


def test_doctor_missing_field(fresh):
    vaults = fresh.op_state()["vaults"]
    fewer = json.loads(json.dumps(vaults))
    del fewer["homelab"]["talos"]["etcd-ca-key"]
    fake_op.write_state(fresh.world.dir, signed_in=True, vaults=fewer)
    try:
        line = one_problem(fresh)
    finally:
        fake_op.write_state(fresh.world.dir, signed_in=True, vaults=vaults)
    assert line.startswith("problem  op://homelab/talos: lacks field(s) etcd-ca-key")
    assert "fix: add the field(s) etcd-ca-key" in line and "etcd-ca-key" not in str(vaults["homelab"]["talos"].values())


def test_doctor_unreachable_node(fresh):
    with changed(fresh.world, CP2, unreachable=True):
        line = one_problem(fresh)
    assert line.startswith(f"problem  cp-2 ({CP2}): cannot be reached") and f"fix: power the node on" in line


def test_doctor_missing_disk(fresh):
    disks = talos_state.get_node(fresh.world.dir, WORKER)["disks"]
    with changed(fresh.world, WORKER, disks=[d for d in disks if d["dev_path"] != "/dev/sda"]):
        line = one_problem(fresh)
    assert line.startswith(f"problem  worker-1 ({WORKER}): installDisk /dev/sda is not among the disks")
    assert "/dev/nvme0n1" in line and "fix: set nodes[3].installDisk in bootstrap/values/talos.yaml" in line


def test_doctor_missing_link(fresh):
    links = talos_state.get_node(fresh.world.dir, CP2)["links"]
    with changed(fresh.world, CP2, links=[link for link in links if link["id"] != "enp1s0f1"]):
        line = one_problem(fresh)
    assert line.startswith(f"problem  cp-2 ({CP2}): bond link(s) enp1s0f1 not among the links")
    assert "fix: set nodes[1].bondLinks (or bond.links) in bootstrap/values/talos.yaml" in line


def test_bootstrap_stops_at_the_preflight_before_any_change(fresh):
    disks = talos_state.get_node(fresh.world.dir, WORKER)["disks"]
    with changed(fresh.world, WORKER, disks=[d for d in disks if d["dev_path"] != "/dev/sda"]):
        result = fresh.doit("bootstrap", timeout=300)
    assert result.returncode != 0
    assert "preflight found 1 problem(s) before any change" in result.stdout + result.stderr
    assert "installDisk /dev/sda" in result.stdout + result.stderr
    assert fresh.new_mutating() == []
    assert all(n["stage"] == "maintenance" for n in talos_state.load(fresh.world.dir).values())


def test_a_fresh_bootstrap_with_the_generated_secrets_succeeds(fresh):
    result = fresh.doit("bootstrap", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "preflight: " in result.stderr and "checks ok" in result.stderr
    again = fresh.doit("bootstrap", timeout=300)          # nothing to do: no preflight, no check's calls
    assert again.returncode == 0 and "preflight" not in again.stdout + again.stderr
    calls = fresh.world.calls()[fresh.mark:]
    assert not any(c["argv"][:1] == ["whoami"] or "disks" in c["argv"] for c in calls), calls
    doctor = fresh.doit("doctor", timeout=180)
    assert doctor.returncode == 0, doctor.stdout[-3000:]
    assert f"ok       cp-1 (10.0.48.11): configured" in doctor.stdout


def test_doctor_foreign_api_server(fresh):
    identity = fresh.project.path("build/cluster-identity")
    ours = identity.read_text()
    namespaces = admin(fresh.world, "GET", "objects?apiVersion=v1&kind=Namespace&name=kube-system")["items"]
    assert ours.strip() == namespaces[0]["metadata"]["uid"]
    identity.write_text("00000000-0000-0000-0000-000000000000\n")
    try:
        line = one_problem(fresh)
    finally:
        identity.write_text(ours)
    assert line.startswith("problem  API server: the API server reached through build/kubeconfig is not the cluster")
    assert "fix: check BOOTSTRAP_ADDRESS_MAP" in line and "`doit trust-cluster`" in line
