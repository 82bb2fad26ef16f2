"""The Kubernetes upgrade: when a control plane's components (the images of the config it runs) or a
kubelet (its Node's kubeletVersion) run another version than talos.yaml's kubernetesVersion, one
`talosctl upgrade-k8s --to <version>` after the Talos roll. Talos' supported path moves the control
plane components, kube-proxy and the bootstrap manifests and then the kubelets, in a safe order,
after checking for removed APIs (cmd/talosctl/cmd/talos/upgrade-k8s.go, pkg/cluster/kubernetes).
`doit plan` shows its --dry-run."""
from __future__ import annotations

from .. import report, tools
from ..facts import Facts
from . import roll
from .waits import deadline

# The lines of upgrade-k8s' log (stdout, UpgradeOptions.Log) that say what would change.
SUMMARY = ("automatically detected", "updating ", " > update ", "unsupported upgrade path")


def wanted(facts: Facts) -> str:
    """kubernetesVersion, as the settings spell it (v1.34.1)."""
    return facts.cluster.settings["talos"]["kubernetesVersion"]


def behind(facts: Facts) -> list[str]:
    """What runs another Kubernetes version than the settings want (kubelets whose Node cannot be read
    are not counted: the control plane's own config always answers)."""
    version, nodes, versions = wanted(facts), facts.talos_nodes(), roll.versions(facts)
    late = []
    for node in facts.cluster.nodes:
        found = versions[node.address]
        running = {v for _, v in found.control_plane} | ({found.kubelet} if found.kubelet else set())
        if nodes[node.address].state == "configured" and running - {version}:
            late.append(f"{node.name} runs {', '.join(sorted(running - {version}))}")
    return late


def k8s_upgraded(facts: Facts) -> tuple[bool, str]:
    """Done when every control-plane component and kubelet runs kubernetesVersion."""
    late = behind(facts)
    if not late:
        return True, f"control plane and kubelets run Kubernetes {wanted(facts)}"
    return False, f"upgrade to Kubernetes {wanted(facts)}: " + ", ".join(late)


def _upgrade_args(facts: Facts) -> list[str] | None:
    """upgrade-k8s against the first configured control plane (it takes one node only)."""
    nodes = facts.talos_nodes()
    first = next((n for n in facts.cluster.controlplanes if nodes[n.address].state == "configured"), None)
    if first is None:
        return None
    return ["upgrade-k8s", "-n", first.address, "--to", wanted(facts).lstrip("v")]


def upgrade_k8s(facts: Facts) -> str | None:
    """One `talosctl upgrade-k8s --to …`; then the facts must show every component at the version."""
    if k8s_upgraded(facts)[0]:
        return None
    talosconfig, error = facts.talosconfig()
    args = _upgrade_args(facts)
    if talosconfig is None or args is None:
        return error or "no configured control-plane node to run upgrade-k8s against"
    report.say(f"kubernetes-upgrade: {', '.join(behind(facts))} -> {wanted(facts)}")
    result = tools.talosctl(args, talosconfig, timeout=deadline("kubernetes_upgrade", 1800))
    if not result.ok:
        return f"talosctl upgrade-k8s --to {args[-1]}: {result.message()}"
    facts.invalidate()
    done, why = k8s_upgraded(facts)
    return None if done else f"talosctl upgrade-k8s --to {args[-1]} finished, but {why}"


def dry_run_summary(facts: Facts) -> list[str]:
    """What `talosctl upgrade-k8s --dry-run` says it would change (for `doit plan`)."""
    talosconfig, error = facts.talosconfig()
    args = _upgrade_args(facts)
    if talosconfig is None or args is None:
        return [error or "no configured control-plane node to ask"]
    result = tools.talosctl([*args, "--dry-run"], talosconfig, timeout=120)
    if not result.ok:
        return [f"upgrade-k8s --dry-run failed: {result.message()}"]
    return list(dict.fromkeys(line.strip() for line in result.stdout.splitlines() if line.startswith(SUMMARY)))
