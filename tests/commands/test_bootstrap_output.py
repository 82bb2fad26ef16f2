"""What `doit bootstrap` prints and logs in the simulated cluster (tests/commands/conftest.py's,
shared): one line per stage that ran, a summary, the JSON event log, and failures told in at most
three lines naming the cause and the fix."""
from __future__ import annotations

import base64
import json
import re
import time

import yaml
from cryptography.hazmat.primitives import serialization

from tasks.apply.table import stage_table
from tasks.settings import load
from tests.commands.conftest import failure_report
from tests.world.pki import _make_ca
from tests.world.shims import add_fault, clear_faults
from tests.world.world import admin, delete_object


def stage_names() -> list[str]:
    """The stages of the shipped example, in order (the copy's settings are the checkout's)."""
    return [stage.name for stage in stage_table(load.cluster())]


def events(cluster, run_of=None) -> list[dict]:
    """Every event of build/events.jsonl, or those of one run (the run of the last `run` event)."""
    lines = cluster.project.path("build/events.jsonl").read_text().splitlines()
    found = [json.loads(line) for line in lines]
    run = run_of or [e for e in found if e["event"] == "run"][-1]["run"]
    return [e for e in found if e["run"] == run]


def test_fresh_run_logs_every_stage_with_its_duration(cluster):
    """The first run's summary counts every stage as ran; its JSON log lists each with a duration,
    a decision and a reason, and every tool call with its duration."""
    result, names = cluster.first, stage_names()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{len(names)} stages: {len(names)} ran, 0 up to date, 0 failed in " in result.stdout, result.stdout
    first_run = json.loads(cluster.project.path("build/events.jsonl").read_text().splitlines()[0])["run"]
    logged = events(cluster, first_run)
    stages = [e for e in logged if e["event"] == "stage"]
    assert [e["name"] for e in stages] == names
    assert all(e["decision"] == "ran" and e["reason"] and isinstance(e["seconds"], float) for e in stages), stages
    calls = [e for e in logged if e["event"] == "call"]
    assert {"talosctl", "kubectl", "helmfile", "op"} <= {c["tool"] for c in calls}
    assert all(isinstance(c["seconds"], float) and c["outcome"] and c.get("stage") for c in calls)


def test_noop_rerun_prints_at_most_five_lines(cluster):
    """Nothing to do: a summary line (and little else); BOOTSTRAP_VERBOSE=1 shows every stage and why."""
    result = cluster.bootstrap()
    assert result.returncode == 0, result.stderr[-3000:]
    shown = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(shown) <= 5, shown
    count = len(stage_names())
    assert f"{count} stages: 0 ran, {count} up to date, 0 failed in " in result.stdout
    verbose = cluster.project.doit("bootstrap", env={**cluster.env, "BOOTSTRAP_VERBOSE": "1"})
    lines = [line for line in verbose.stdout.splitlines() if line.startswith("up to date  ")]
    assert [line.split()[3] for line in lines if line.split()[3] in stage_names()] == stage_names()
    assert any("release cilium 1" in line and "deployed with the rendered values" in line for line in lines), lines
    assert [e["decision"] for e in events(cluster) if e["event"] == "stage"] == ["up to date"] * count


def test_helm_ownership_conflict_names_object_owner_and_fix(cluster):
    """An object of the spegel chart owned by another release: three lines, the object, its owner,
    how to adopt or delete it; no helmfile dump."""
    accounts = admin(cluster.world, "GET", "objects?apiVersion=v1&kind=ServiceAccount")["items"]
    account = next(a for a in accounts if (a["metadata"].get("annotations") or {}).get(
        "meta.helm.sh/release-name") == "spegel")
    cluster.uninstall("spegel")
    name = account["metadata"]["name"]
    admin(cluster.world, "POST", "objects", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "name": name, "namespace": "kube-system", "labels": {"app.kubernetes.io/managed-by": "Helm"},
        "annotations": {"meta.helm.sh/release-name": "other-release", "meta.helm.sh/release-namespace": "kube-system"}}})
    try:
        result = cluster.bootstrap()
    finally:
        delete_object(cluster.world, "v1", "ServiceAccount", name, "kube-system")
    assert result.returncode != 0
    block = failure_report(result.stdout)
    assert len(block) <= 3, block
    text = "\n".join(block)
    assert f"ServiceAccount kube-system/{name} already exists and belongs to Helm release other-release" in text
    assert "fix: adopt it into spegel: `kubectl -n kube-system label ServiceAccount" in text
    assert f"`kubectl -n kube-system delete ServiceAccount {name}`" in text
    assert "COMMAND:" not in result.stdout + result.stderr          # helmfile's dump stays out
    cluster.converge()


def test_signed_out_op_says_op_signin_or_a_service_account(cluster):
    """op signed out: not "node cannot be reached" but op's cause and the two ways to sign in."""
    result = cluster.bootstrap_with_op(lambda vaults: (False, vaults))
    assert result.returncode != 0
    block = failure_report(result.stdout)
    assert len(block) <= 3, block
    text = "\n".join(block)
    assert "1Password CLI is not signed in" in text and "cannot be reached" not in text
    assert "eval $(op signin)" in text and "OP_SERVICE_ACCOUNT_TOKEN" in text
    assert cluster.new_mutating() == []
    count = len(stage_names())
    summary = re.search(r"^(\d+) stages: 0 ran, (\d+) up to date, 1 failed, (\d+) not run in ", result.stdout, re.M)
    assert summary and int(summary[1]) == count and int(summary[2]) + int(summary[3]) == count - 1, result.stdout


def test_plan_colours_the_graph(cluster):
    """`doit plan` keeps its decisions in build/plan.json; `doit graph` colours every stage by them."""
    assert cluster.project.doit("plan", env=cluster.env).returncode == 0
    plan = json.loads(cluster.project.path("build/plan.json").read_text())
    assert list(plan) == stage_names() and not any(d["run"] for d in plan.values())
    assert cluster.project.doit("graph", env=cluster.env).returncode == 0
    dot = cluster.project.path("build/graph/stages.dot").read_text()
    assert dot.count('fillcolor="#7ed321"') == len(stage_names())


def _wrong_ca_kubeconfig(text: str) -> str:
    """The kubeconfig with another cluster CA (a fresh one this API server's certificate does not chain to)."""
    config = yaml.safe_load(text)
    pem = _make_ca()[0].public_bytes(serialization.Encoding.PEM)
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(pem).decode()
    return yaml.safe_dump(config)


def test_wrong_ca_fails_at_once_naming_the_ca_source(cluster):
    """build/kubeconfig's CA does not sign the API server's certificate (and talosctl hands out the same):
    the run fails within 10 s, not after the API deadline, naming where the CA comes from."""
    path = cluster.project.path("build/kubeconfig")
    original = path.read_text()
    wrong = _wrong_ca_kubeconfig(original)
    path.write_text(wrong)
    add_fault(cluster.world.dir, tool="talosctl", match=r"kubeconfig -", action="fail", exit=0, stdout=wrong, times=3)
    started = time.monotonic()
    try:
        result = cluster.bootstrap()
    finally:
        clear_faults(cluster.world.dir)
        path.write_text(original)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    block = failure_report(result.stdout)
    assert len(block) <= 3, block
    text = "\n".join(block)
    assert "not signed by the cluster CA in build/kubeconfig" in text and "talosctl kubeconfig" in text, text
    assert "fix: " in text
    failed = [e for e in events(cluster) if e["event"] == "stage" and e["decision"] == "failed"]
    assert failed and failed[0]["seconds"] < 10, failed
    assert elapsed < 60, elapsed
    cluster.converge()
