"""The kill -9 matrix (the shared simulated cluster): doit killed with SIGKILL, its pid alone or its whole
process group, while a stage's call is in flight (held there by a `hang` fault), then rerun at once.
Exactly one `talosctl bootstrap` takes effect, no release is uninstalled while a tool a killed run left
behind still changes it, no configured node gets a config with --insecure, and the cluster converges
within two reruns. Stages that only run on a new cluster are reached after a repave (tests/world)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.world.shims import add_fault, clear_faults
from tests.world.world import repave

WORKER = "10.0.48.21"
# stage: (tool, regex over its argv, which matching call to hold (1 = first), whether a repave comes first).
# The held call is a direct child of doit (talosctl, kubectl, helmfile) or, for Helm, helmfile's helm:
# a grandchild that outlives a killed run and then goes on to change the release.
STAGES = {
    "apply-config": ("talosctl", rf"(^| )apply-config -n {WORKER} -f /dev/stdin$", 1, False),
    "etcd-bootstrap": ("talosctl", r"(^| )bootstrap -n", 1, True),
    "resources": ("kubectl", r"(^| )apply --server-side", 1, True),
    "crds": ("kubectl", r"(^| )apply --server-side", 2, True),
    "helm-install": ("helm", r"(^| )upgrade .*\bcilium\b", 1, True),
    "helm-upgrade": ("helm", r"(^| )upgrade .*\bcilium\b", 1, False),
    "flux-instance": ("helm", r"(^| )upgrade .*\bflux-instance\b", 1, True),
}
HOLD_SECONDS = 6


def _joined(call: dict) -> str:
    return " ".join(call["argv"])


def _start(cluster) -> subprocess.Popen:
    """`doit bootstrap` in its own process group (so killpg reaches doit, never pytest)."""
    cluster.mark = len(cluster.world.calls())
    logs = cluster.world.dir / "killed-run.log"
    return subprocess.Popen([sys.executable, "-m", "doit", "bootstrap"], cwd=cluster.project.root,
                            env={**os.environ, **cluster.env}, stdout=open(logs, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _held_call(cluster, tool: str, match: str, nth: int, process: subprocess.Popen) -> dict:
    """Wait (300 s deadline: after a repave the run installs every earlier release first) until the nth
    call matching (tool, match) of this run is logged."""
    import re
    deadline = time.monotonic() + 300
    while True:
        found = [c for c in cluster.new_calls() if c["tool"] == tool and re.search(match, _joined(c))]
        if len(found) >= nth:
            return found[nth - 1]
        assert process.poll() is None, (cluster.world.dir / "killed-run.log").read_text()[-3000:]
        assert time.monotonic() < deadline, f"no call {nth} of {tool} {match!r} within 300 s"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _rerun_watching(cluster, pids: list[int]) -> tuple[subprocess.CompletedProcess, float]:
    """A rerun, and the moment (time.time()) the last of pids was gone (a deadline of the run's own)."""
    mark = len(cluster.world.calls())
    process = subprocess.Popen([sys.executable, "-m", "doit", "bootstrap"], cwd=cluster.project.root,
                               env={**os.environ, **cluster.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    gone_at = time.time() if not any(map(_alive, pids)) else None
    deadline = time.monotonic() + 600
    while process.poll() is None and gone_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
        gone_at = None if any(map(_alive, pids)) else time.time()
    out, err = process.communicate(timeout=600)
    cluster.mark = mark
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), gone_at or time.time()


def _prepare(cluster, stage: str) -> None:
    """Make the stage run: a repave, a changed worker install disk, or new Cilium values."""
    if STAGES[stage][3]:
        repave(cluster.world)
    elif stage == "apply-config":
        talos = cluster.project.read_yaml("bootstrap/values/talos.yaml")
        # Between two disks the worker reports (tests/world), so the preflight after a later repave,
        # which checks installDisk against the node's disks, still passes.
        talos["nodes"][3]["installDisk"] = "/dev/nvme0n1" if talos["nodes"][3]["installDisk"] != "/dev/nvme0n1" else "/dev/sda"
        cluster.project.write_yaml("bootstrap/values/talos.yaml", talos)
    else:
        cilium = cluster.project.read_yaml("bootstrap/values/cilium.yaml")
        cilium["values"] = {"podAnnotations": {"kill-matrix": f"{time.time():.3f}"}}   # new values every time
        cluster.project.write_yaml("bootstrap/values/cilium.yaml", cilium)


def _executed(calls: list[dict], killed: set[int]) -> list[dict]:
    """The calls that went on to act: a held call whose process was killed never did."""
    return [c for c in calls if not (c.get("fault") == "hang" and c["pid"] in killed)]


def _configured_before(calls: list[dict], address: str, index: int) -> bool:
    """Whether a config was applied to address by an executed call before calls[index]."""
    return any("apply-config" in c["argv"] and address in c["argv"] for c in calls[:index]
               if c["tool"] == "talosctl")


@pytest.mark.parametrize("how", ["pid", "group"])
@pytest.mark.parametrize("stage", list(STAGES))
def test_kill_9_then_rerun(cluster, stage, how):
    tool, match, nth, repaved = STAGES[stage]
    _prepare(cluster, stage)
    start = len(cluster.world.calls())
    if nth > 1:
        add_fault(cluster.world.dir, tool=tool, match=match, action="hang", seconds=0, times=nth - 1)
    add_fault(cluster.world.dir, tool=tool, match=match, action="hang", seconds=HOLD_SECONDS, times=1)
    try:
        process = _start(cluster)
        held = _held_call(cluster, tool, match, nth, process)
        (os.killpg if how == "group" else os.kill)(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        clear_faults(cluster.world.dir)
    time.sleep(0.5)                                  # PR_SET_PDEATHSIG is delivered at once; let it land
    survivor = [held["pid"]] if _alive(held["pid"]) else []
    # doit's children die with it (PR_SET_PDEATHSIG); helmfile's helm is a grandchild and lives on.
    assert survivor == ([held["pid"]] if tool == "helm" else []), f"{tool}: survivors {survivor}"
    reruns = []
    for _ in range(2):
        result, gone_at = _rerun_watching(cluster, survivor)
        reruns.append((result, gone_at))
        if result.returncode == 0:
            break
    assert reruns[-1][0].returncode == 0, reruns[-1][0].stdout[-3000:] + reruns[-1][0].stderr[-3000:]
    if survivor:                # the rerun waited for it, naming it, before it acted
        said = reruns[0][0].stdout + reruns[0][0].stderr
        assert "for tools a killed run left behind to finish (" in said and f"pid {held['pid']}: " in said, said
    calls = _executed(cluster.world.calls()[start:], set() if survivor else {held["pid"]})
    mutating = [c for c in calls if c["mutating"]]
    bootstraps = [c for c in mutating if c["tool"] == "talosctl" and "bootstrap" in c["argv"]]
    assert len(bootstraps) == (1 if repaved else 0), [_joined(c) for c in bootstraps]
    uninstalls = [c for c in mutating if c["tool"] == "helm" and "uninstall" in c["argv"]]
    assert all(c["ts"] >= reruns[0][1] for c in uninstalls), "a release was uninstalled while a tool changed it"
    insecure = [(i, c) for i, c in enumerate(mutating) if "--insecure" in c["argv"] and "apply-config" in c["argv"]]
    assert not any(_configured_before(mutating, c["argv"][c["argv"].index("-n") + 1], i) for i, c in insecure)
    if not repaved:
        assert insecure == []
    assert cluster.bootstrap().returncode == 0 and cluster.new_mutating() == [], "not converged after the reruns"
