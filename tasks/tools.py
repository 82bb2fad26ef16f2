"""The single gateway to external commands (talosctl, kubectl, helm, helmfile, op).

Binaries come from PATH or an environment override (TALOSCTL, KUBECTL, HELM, HELMFILE, OP).
kubectl, helm and helmfile only ever see the tool's own build/kubeconfig; talosctl gets its
client config through a pipe (it holds key material resolved by `op inject`). Every call has a
deadline; failures come back as values, never as exceptions."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from . import paths, progress

OVERRIDES = {"talosctl": "TALOSCTL", "kubectl": "KUBECTL", "helm": "HELM", "helmfile": "HELMFILE", "op": "OP"}
KUBECONFIG = paths.BUILD / "kubeconfig"
# Ambient settings that could point a tool at another cluster or account.
SCRUBBED = ("KUBECONFIG", "HELM_KUBECONTEXT", "HELM_KUBETOKEN", "HELM_KUBEAPISERVER", "TALOSCONFIG")


@dataclass(frozen=True)
class Result:
    """What one command did."""

    tool: str
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def message(self) -> str:
        """The command's own error text, trimmed, for the user."""
        text = (self.stderr or self.stdout).strip()
        return text[-2000:] if text else f"exit code {self.returncode}"


def binary(tool: str) -> str:
    """The executable for tool: its environment override, else PATH."""
    return os.environ.get(OVERRIDES[tool]) or shutil.which(tool) or tool


def environment() -> dict[str, str]:
    """The environment every tool runs in: no ambient cluster, no upgrade notices."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env["KUBECONFIG"] = str(KUBECONFIG)
    env["HELMFILE_UPGRADE_NOTICE_DISABLED"] = "1"
    return env


def run(tool: str, args: list[str], *, stdin: str | None = None, timeout: float = 120,
        pass_fds: tuple[int, ...] = ()) -> Result:
    """Run one command with a deadline; a timeout is exit code 124 with a message saying so."""
    argv = [binary(tool), *args]
    start = time.monotonic()
    progress.event("call", tool=tool, argv=args)
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                              env=environment(), cwd=paths.ROOT, pass_fds=pass_fds)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = 124, exc.stdout if isinstance(exc.stdout, str) else ""
        err = f"{tool} {' '.join(args[:3])}: no answer within {timeout:g}s (deadline)"
    except FileNotFoundError:
        code, out, err = 127, "", f"{tool}: command not found (install it or set {OVERRIDES[tool]})"
    return Result(tool, tuple(args), code, out, err, time.monotonic() - start)


def kubectl(args: list[str], **kw) -> Result:
    """kubectl against the tool's own kubeconfig, never the ambient context."""
    return run("kubectl", ["--kubeconfig", str(KUBECONFIG), *args], **kw)


def talosctl(args: list[str], talosconfig: str, **kw) -> Result:
    """talosctl with its client config handed over through a pipe (never written to disk)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, talosconfig.encode())   # fits the pipe buffer: a few KB
    finally:
        os.close(write_end)
    try:
        return run("talosctl", ["--talosconfig", f"/dev/fd/{read_end}", *args], pass_fds=(read_end,), **kw)
    finally:
        os.close(read_end)


def talosctl_insecure(args: list[str], **kw) -> Result:
    """talosctl against a node in maintenance mode (no client config exists there)."""
    return run("talosctl", args, **kw)
