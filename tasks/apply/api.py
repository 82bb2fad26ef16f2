"""This cluster's API: the Kubernetes facts are only used when the API server answers and is the
cluster this tool built, the kube-system uid recorded in build/cluster-identity.

The record is written on first contact after this tool's own `talosctl bootstrap` (which leaves a
"pending" marker), and otherwise only by `doit trust-cluster`, the user's explicit confirmation:
a lost or different record is never re-learned silently."""
from __future__ import annotations

import functools

from .. import paths
from ..facts import Facts
from ..facts.kube import KubeFacts
from ..files import write_if_changed

PENDING = "pending: learned on first contact after this tool's talosctl bootstrap"
TRUST_TASK = "doit trust-cluster"


def recorded_identity() -> str | None:
    """The recorded kube-system uid, PENDING right after a bootstrap, or None when there is no record."""
    try:
        return paths.IDENTITY.read_text().strip() or None
    except OSError:
        return None


def stranger(kube: KubeFacts) -> str | None:
    """Why the API server reached may not be used as this cluster's, if it may not."""
    expected = recorded_identity()
    where = paths.rel(paths.IDENTITY)
    if expected is None:
        return (f"{where} is missing, so the tool cannot tell whether the API server reached through "
                f"build/kubeconfig (kube-system uid {kube.uid or 'missing'}) is the cluster it built; "
                f"if it is, record it with `{TRUST_TASK}`, then rerun")
    if expected == PENDING or kube.uid == expected:
        return None
    return (f"the API server reached through build/kubeconfig is not the cluster this tool built "
            f"(kube-system uid {kube.uid or 'missing'}, expected {expected} from {where}); refusing to use it — "
            f"check BOOTSTRAP_ADDRESS_MAP; after a deliberate repave, record the new cluster with `{TRUST_TASK}`")


def learn_identity(kube: KubeFacts) -> None:
    """First contact after this tool bootstrapped the cluster: record its identity."""
    if recorded_identity() == PENDING and kube.uid:
        write_if_changed(paths.IDENTITY, kube.uid + "\n")


def trust(kube: KubeFacts) -> None:
    """The user confirmed this API server is the cluster: record its identity (`doit trust-cluster`)."""
    write_if_changed(paths.IDENTITY, kube.uid + "\n")


def expect_new_cluster() -> None:
    """This tool just bootstrapped etcd: the next API server it reaches is the new cluster."""
    write_if_changed(paths.IDENTITY, PENDING + "\n")


def api(facts: Facts) -> tuple[KubeFacts | None, str]:
    """The Kubernetes facts when the API server answers and is this cluster's; else None and why."""
    kube = facts.kube()
    if not kube.reachable:
        return None, kube.reason
    why = stranger(kube)
    return (None, why) if why else (kube, "")


def needs_api(check):
    """A done check that reads this cluster's API: it answers (False, why) when it cannot ask."""
    @functools.wraps(check)
    def wrapped(facts: Facts, *args, **kwargs):
        kube, why = api(facts)
        if kube is None:
            return False, why
        return check(facts, kube, *args, **kwargs)
    return wrapped
