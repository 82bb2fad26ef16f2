"""The one gateway to external commands: run one with a deadline, get a typed Result back.

    gateway   run(), kubectl(), talosctl() and the explicit environment every tool gets
    outcomes  failures classified once (already-exists, failed-precondition, tls, timeout, ...)
    op        `op inject` in memory
    reach     the address map (BOOTSTRAP_ADDRESS_MAP)
"""
from .gateway import Result, binary, helmfile, kubectl, run, talosctl, talosctl_insecure  # noqa: F401
