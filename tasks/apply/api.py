"""This cluster's API: the Kubernetes facts are only used when the API server answers and is the
cluster this tool built (the kube-system uid recorded in build/cluster-identity)."""
from __future__ import annotations

import functools

from .. import paths
from ..facts import Facts
from ..facts.kube import KubeFacts
from ..files import write_if_changed


def recorded_identity() -> str | None:
    """The kube-system uid recorded for this cluster, if any."""
    try:
        return paths.IDENTITY.read_text().strip() or None
    except OSError:
        return None


def stranger(kube: KubeFacts) -> str | None:
    """Why the API server reached is not the cluster this tool built, if it is not."""
    expected = recorded_identity()
    if expected is None or kube.uid == expected:
        return None
    return (f"the API server reached through build/kubeconfig is not the cluster this tool built "
            f"(kube-system uid {kube.uid or 'missing'}, expected {expected} from {paths.rel(paths.IDENTITY)}); "
            "refusing to use it — check BOOTSTRAP_ADDRESS_MAP, or remove build/kubeconfig after a repave")


def learn_identity(kube: KubeFacts) -> None:
    """Record the identity of a freshly bootstrapped cluster on first contact."""
    if recorded_identity() is None:
        write_if_changed(paths.IDENTITY, kube.uid + "\n")


def forget_identity() -> None:
    """A new cluster was bootstrapped: its identity is learned on first contact."""
    paths.IDENTITY.unlink(missing_ok=True)


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
