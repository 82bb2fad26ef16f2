"""The one gateway to external commands (talosctl, kubectl, helm, helmfile, op).

Binaries come from PATH or an environment override (TALOSCTL, KUBECTL, HELM, HELMFILE, OP).
kubectl, helm and helmfile only ever see the tool's own build/kubeconfig; talosctl gets its
client config as an in-memory file (it holds key material resolved by `op inject`). Every call has a
deadline; failures come back as values, never as exceptions."""
from __future__ import annotations

import contextlib
import contextvars
import ctypes
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

from .. import paths, report
from .advice import advise
from .outcomes import classify

OVERRIDES = {"talosctl": "TALOSCTL", "kubectl": "KUBECTL", "helm": "HELM", "helmfile": "HELMFILE", "op": "OP",
             "dot": "DOT"}
# The tools get an explicit environment. Variables of these families could point a tool at another
# cluster or account, store Helm releases where the tool never looks (HELM_DRIVER), or change how
# TLS is checked (HELM_KUBEINSECURE_SKIP_TLS_VERIFY, TALOSCONFIG): they are dropped, except the ones
# HONOURED (where helm and kubectl keep caches, plugins and registry logins; helmfile's own switches).
FAMILIES = ("KUBE", "HELM_", "TALOS")
HONOURED = frozenset({"KUBECACHEDIR", "HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_PLUGINS",
                      "HELM_REGISTRY_CONFIG", "HELM_REPOSITORY_CONFIG", "HELM_REPOSITORY_CACHE", "HELM_DEBUG"})
DROPPED = frozenset({"HELMFILE_ENVIRONMENT"})      # our helmfiles define no environments
# 1Password credentials (OP_SERVICE_ACCOUNT_TOKEN, OP_CONNECT_*, OP_SESSION_*) reach `op` only.
OP_PREFIX = "OP_"
# How long a tool gets to stop after SIGTERM before its whole process group is killed.
GRACE_SECONDS = 5
# A long call says it still runs this often.
HEARTBEAT = 30
# Ends the message of a call stopped at its deadline (a wait's own, say): it tells nothing about the cluster.
CUT_SHORT = "(deadline)"
# Every process a run starts, and whatever those start, carries this mark in its environment: the
# next run finds a tool a killed run left behind by it (see survivors).
RUN_MARK = "BOOTSTRAP_RUN"
PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl
_DEADLINE: contextvars.ContextVar[float] = contextvars.ContextVar("deadline", default=float("inf"))


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

    @property
    def outcome(self) -> str:
        """What happened, typed: ok, timeout, missing, already-exists, failed-precondition, tls,
        unreachable or error (tools/outcomes.py holds the table and its sources)."""
        return classify(self.tool, self.returncode, self.stderr)

    def message(self) -> str:
        """A known failure's cause and fix (tools/advice.py), else the command's own error text
        (stderr only: stdout may carry resolved secrets), trimmed."""
        advice = advise(self.tool, self.stderr)
        if advice is not None:
            return str(advice)
        text = self.stderr.strip()
        return text[-2000:] if text else f"exit code {self.returncode} and no error text"


def binary(tool: str) -> str:
    """The executable for tool: its environment override, else PATH."""
    return os.environ.get(OVERRIDES[tool]) or shutil.which(tool) or tool


def kept(name: str, tool: str) -> bool:
    """Whether one environment variable reaches a tool."""
    if name.startswith(FAMILIES) and name not in HONOURED or name in DROPPED:
        return False
    return tool == "op" or not name.startswith(OP_PREFIX)


def environment(tool: str) -> dict[str, str]:
    """The environment a tool runs in: no ambient cluster or Helm storage, this cluster's kubeconfig,
    no upgrade notices, and 1Password credentials for `op` alone."""
    env = {k: v for k, v in os.environ.items() if kept(k, tool)}
    env[RUN_MARK] = str(paths.ROOT)
    env["KUBECONFIG"] = str(paths.KUBECONFIG)
    env["HELMFILE_UPGRADE_NOTICE_DISABLED"] = "1"
    return env


@contextlib.contextmanager
def calls_until(end: float):
    """Within this block no call outlives `end` (time.monotonic()): a wait's own deadline caps the
    timeout of every command it runs."""
    token = _DEADLINE.set(min(end, _DEADLINE.get()))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _die_with_the_run() -> None:
    """In the child, before exec: SIGKILL when the run that started it dies (prctl(2)
    PR_SET_PDEATHSIG), so a killed run leaves no tool changing the cluster behind."""
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def run(tool: str, args: list[str], *, stdin: str | None = None, timeout: float = 120,
        pass_fds: tuple[int, ...] = (), logged: bool = True) -> Result:
    """Run one command with a deadline; a timeout is exit code 124 with a message saying so.
    The command gets its own process group, so a timeout or an interrupt (Ctrl-C, SIGTERM) stops
    what it started too (helmfile's helm), not only the command itself; it dies with the run, and
    what it starts carries the run's mark (see survivors). `logged=False` for the offline check,
    which writes nothing under build/ (not even the event log)."""
    argv = [binary(tool), *args]
    start = time.monotonic()
    timeout = max(0.0, min(timeout, _DEADLINE.get() - start))
    if logged:
        report.event("call-start", tool=tool, argv=args)
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=environment(tool), cwd=paths.ROOT, pass_fds=pass_fds,
                                   start_new_session=True, preexec_fn=_die_with_the_run)
    except FileNotFoundError:
        return Result(tool, tuple(args), 127, "", f"{tool}: command not found (install it or set "
                      f"{OVERRIDES[tool]})", time.monotonic() - start)
    except OSError as err:       # not executable, a directory, no interpreter line, ...
        return Result(tool, tuple(args), 126, "", f"{tool}: cannot run {argv[0]}: {err.strerror or err}",
                      time.monotonic() - start)
    try:
        out, err = _communicate(process, stdin, start + timeout, f"{tool} {' '.join(_shown(args))}")
        code = process.returncode
    except subprocess.TimeoutExpired:
        _stop_group(process)
        code, out, err = 124, "", f"{tool} {' '.join(args[:3])}: no answer within {timeout:g}s {CUT_SHORT}"
    except BaseException:
        _stop_group(process)
        raise
    result = Result(tool, tuple(args), code, out, err, time.monotonic() - start)
    if logged:
        report.event("call", tool=tool, argv=args, seconds=round(result.seconds, 3), outcome=result.outcome)
    return result


def _shown(args: list[str]) -> list[str]:
    """The words of a command line worth naming in progress lines (no config paths)."""
    return [a for a in args if not a.startswith(("/dev/fd/", "--talosconfig", "--kubeconfig", "--helm-binary"))
            and not a.startswith(str(paths.ROOT))][:6]


def _communicate(process: subprocess.Popen, stdin: str | None, end: float, what: str) -> tuple[str, str]:
    """communicate() until `end`, saying every HEARTBEAT seconds what still runs and for how long it may."""
    started = time.monotonic()
    while True:
        try:
            return process.communicate(stdin, timeout=max(0.0, min(HEARTBEAT, end - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= end:
                raise
            stdin = None        # sent with the first call; communicate() refuses it again
            report.say(f"still running after {time.monotonic() - started:.0f}s: {what} "
                       f"({end - time.monotonic():.0f}s left)")


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the command's process group, then SIGKILL what is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.communicate(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def kubectl(args: list[str], **kw) -> Result:
    """kubectl against the tool's own kubeconfig, never the ambient context."""
    return run("kubectl", ["--kubeconfig", str(paths.KUBECONFIG), *args], **kw)


def helmfile(args: list[str], **kw) -> Result:
    """helmfile, told which helm to run (HELM, else the helm on PATH): helmfile would otherwise
    look `helm` up on PATH itself and ignore the HELM override."""
    return run("helmfile", ["--helm-binary", binary("helm"), *args], **kw)


@contextlib.contextmanager
def memory_file(name: str, content: str):
    """An anonymous in-memory file (memfd: never on disk) holding content; yields its fd, which a
    command opens as /dev/fd/N (pass it in pass_fds). Every open reads the whole content again."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        os.write(fd, content.encode())
        yield fd
    finally:
        os.close(fd)


def talosctl(args: list[str], talosconfig: str, **kw) -> Result:
    """talosctl with its client config in a memory_file, passed as /dev/fd/N: `upgrade` and
    `reboot --drain` open --talosconfig more than once (a pipe would give them EOF)."""
    with memory_file("talosconfig", talosconfig) as fd:
        return run("talosctl", ["--talosconfig", f"/dev/fd/{fd}", *args], pass_fds=(fd,), **kw)


def talosctl_insecure(args: list[str], **kw) -> Result:
    """talosctl against a node in maintenance mode (no client config exists there)."""
    return run("talosctl", args, **kw)
