"""The simulated cluster the end-to-end tests share: one cluster is bootstrapped per session; the
scenarios (tests/commands/test_bootstrap_*.py) then run in file order, each leaving the cluster
converged for the next."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.project import Project
from tests.world import op as fake_op
from tests.world.world import World


RELEASES = ["cilium", "coredns", "spegel", "cert-manager", "external-secrets", "onepassword-connect",
            "kube-vip", "flux-operator", "flux-instance"]


class Cluster:
    """A bootstrapped project and its world, with helpers to rerun and read the call log."""

    def __init__(self, project: Project, world: World, env: dict):
        self.project, self.world, self.env = project, world, env
        self.first = None

    def bootstrap(self, *extra: str, timeout: float = 600) -> subprocess.CompletedProcess:
        self.mark = len(self.world.calls())
        return self.project.doit("bootstrap", *extra, env=self.env, timeout=timeout)

    def world_uid(self) -> str:
        """The kube-system uid the world's API server holds now."""
        from tests.world.world import admin
        namespaces = admin(self.world, "GET", "objects?apiVersion=v1&kind=Namespace&name=kube-system")["items"]
        return namespaces[0]["metadata"]["uid"]

    def new_calls(self) -> list[dict]:
        return self.world.calls()[self.mark:]

    def new_mutating(self) -> list[dict]:
        return [c for c in self.new_calls() if c["mutating"]]

    def converge(self) -> None:
        result = self.bootstrap()
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def bootstrap_with_op(self, change) -> subprocess.CompletedProcess:
        """Run `doit bootstrap` with 1Password changed by change(vaults) -> (signed_in, vaults),
        then put 1Password back."""
        vaults = json.loads((self.world.dir / "op.json").read_text())["vaults"]
        signed_in, changed = change(json.loads(json.dumps(vaults)))
        fake_op.write_state(self.world.dir, signed_in=signed_in, vaults=changed)
        try:
            return self.bootstrap()
        finally:
            fake_op.write_state(self.world.dir, signed_in=True, vaults=vaults)

    def uninstall(self, release: str, namespace: str = "kube-system") -> None:
        """Remove a Helm release with the real helm, as an operator would."""
        subprocess.run([str(self.world.dir / "bin" / "helm"), "uninstall", release, "-n", namespace,
                        "--kubeconfig", str(self.project.path("build/kubeconfig"))], env=self.env, check=True,
                       capture_output=True)

    def bootstrap_in_background(self, until_call: str) -> subprocess.Popen:
        """Start `doit bootstrap` and return once a call matching until_call has been made."""
        self.mark = len(self.world.calls())
        process = subprocess.Popen([sys.executable, "-m", "doit", "bootstrap"], cwd=self.project.root,
                                   env={**os.environ, **self.env}, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not any(until_call in " ".join(c["argv"]) for c in self.new_calls()):
            assert time.monotonic() < deadline, f"no call with {until_call!r} within 60s"
            time.sleep(0.2)
        return process


def synced(calls: list[dict]) -> list[str]:
    """Release names of the `helmfile ... --selector name=X sync` calls, in order."""
    return [a.split("=", 1)[1] for c in calls if c["tool"] == "helmfile" and "sync" in c["argv"]
            for a in c["argv"] if a.startswith("name=")]


def failure_report(stdout: str) -> list[str]:
    """The reporter's failure block: the `failed` line and the lines after it, up to the summary."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("failed  "))
    end = next(i for i, line in enumerate(lines) if re.match(r"\d+ stages?: ", line))
    return lines[start:end]


def summary(calls: list[dict]) -> list[str]:
    return [f"{c['tool']} {' '.join(c['argv'])[:120]}" for c in calls]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, schema_env):
    base = tmp_path_factory.mktemp("e2e")
    project = Project.copy(base / "repo")
    # Stand-in charts until the product's helmfiles pass --skip-deps: with the real charts helmfile runs
    # `helm dependency build` for the local external-secrets chart, which downloads its
    # bitwarden-sdk-server dependency from ghcr.io (see the world-real-charts report).
    world = World(base / "world", project.root).start()
    env = {**schema_env, **world.env(), "BOOTSTRAP_TIMEOUT_FLUX": "60", "BOOTSTRAP_TIMEOUT_NODES": "60"}
    c = Cluster(project, world, env)
    c.first = c.bootstrap()
    c.first_calls = world.calls()
    yield c
    world.stop()
