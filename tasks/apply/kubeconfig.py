"""The kubeconfig stages: fetch build/kubeconfig from the first control plane (learning the new
cluster's identity), wait for the nodes to register, and switch to the VIP once kube-vip serves it."""
from __future__ import annotations

import yaml

from .. import paths, report, tools
from ..facts import Facts
from ..facts.kube import KubeFacts
from ..files import write_if_changed
from ..tools.reach import reach
from .api import PENDING, api, learn_identity, needs_api, recorded_identity, stranger, trust
from .waits import deadline, wait_until


def kubeconfig_done(facts: Facts) -> tuple[bool, str]:
    """build/kubeconfig exists, the API server it names answers, and it is this cluster's (whose
    identity is learned right after this tool's `talosctl bootstrap`)."""
    if recorded_identity() == PENDING:
        return False, "the cluster was just bootstrapped: its kubeconfig and identity are fetched now"
    kube, why = api(facts)
    return kube is not None, why or "the API server answers and is this cluster's"


def fetch_kubeconfig(facts: Facts) -> str | None:
    """Fetch the admin kubeconfig from the first control plane; point it at that node for now."""
    if kubeconfig_done(facts)[0]:
        report.say("kubeconfig: build/kubeconfig already reaches this cluster; kept")
        return None
    first = facts.cluster.first_controlplane.address
    error = download_kubeconfig(facts) or await_api(facts, f"the Kubernetes API server on {first} to answer",
                                                    deadline("api", 600))
    if error is None:     # first contact after this tool's `talosctl bootstrap`
        learn_identity(facts.kube())
    return error


def download_kubeconfig(facts: Facts) -> str | None:
    """`talosctl kubeconfig -` (printed, not merged: kubeconfig.go stdoutOutput) from the first control
    plane, straight into build/kubeconfig (0600, written atomically): the admin key never sits in any
    other file, not even for a moment."""
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    first = facts.cluster.first_controlplane.address
    result = tools.talosctl(["kubeconfig", "-", "--merge=false", "-n", first], talosconfig, timeout=60)
    if not result.ok:
        return f"talosctl kubeconfig from {first}: {result.message()}"
    return write_kubeconfig(facts, first, source=result.stdout)


def await_answer(facts: Facts, what: str, seconds: float) -> str | None:
    """Wait until an API server answers through build/kubeconfig (whoever it is)."""
    def answers() -> tuple[bool, str]:
        kube = facts.kube()
        return kube.reachable, kube.reason or "the API server answers"
    return wait_until(what, seconds, answers, facts)


def await_api(facts: Facts, what: str, seconds: float) -> str | None:
    """Wait until an API server answers; an error at once if it is not this cluster's."""
    return await_answer(facts, what, seconds) or stranger(facts.kube())


def trust_cluster(facts: Facts) -> str | None:
    """`doit trust-cluster`: the user confirms that the API server build/kubeconfig reaches (fetched
    from the first control plane if need be) is the cluster this tool manages; record its identity."""
    if not facts.kube().reachable:
        first = facts.cluster.first_controlplane.address
        error = download_kubeconfig(facts) or await_answer(
            facts, f"the Kubernetes API server on {first} to answer", deadline("api", 600))
        if error:
            return error
    kube = facts.kube()
    if not kube.uid:
        return "the API server answers but shows no kube-system namespace: not a cluster to trust"
    trust(kube)
    report.answer(f"recorded kube-system uid {kube.uid} of the API server at {_server()} in "
                  f"{paths.rel(paths.IDENTITY)}")
    return None


def _server() -> str:
    """The server build/kubeconfig names."""
    try:
        return yaml.safe_load(paths.KUBECONFIG.read_text())["clusters"][0]["cluster"]["server"]
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return "(unknown)"


def write_kubeconfig(facts: Facts, host: str, source: str | None = None) -> str | None:
    """build/kubeconfig from source text (default: the file itself) with its server at host:6443, mapped by
    BOOTSTRAP_ADDRESS_MAP (TLS still verified against the cluster CA under the real address).
    Written atomically, owner-only; the Kubernetes facts describe the old file, so they are
    forgotten. An error message if it cannot be written."""
    try:
        config = yaml.safe_load(source if source is not None else paths.KUBECONFIG.read_text())
        mapped_host, mapped_port = reach(host, 6443)
    except yaml.YAMLError as err:      # its text would quote the file, admin key included
        return f"cannot write build/kubeconfig: the kubeconfig is not YAML ({type(err).__name__})"
    except (OSError, ValueError) as err:
        return f"cannot write build/kubeconfig: {err}"
    for entry in config.get("clusters") or []:
        entry["cluster"]["server"] = f"https://{mapped_host}:{mapped_port}"
        if (mapped_host, mapped_port) != (host, 6443):
            entry["cluster"]["tls-server-name"] = host
        else:
            entry["cluster"].pop("tls-server-name", None)
    write_if_changed(paths.KUBECONFIG, yaml.safe_dump(config, sort_keys=True), mode=0o600)
    facts.invalidate()
    return None


@needs_api
def nodes_registered(facts: Facts, kube: KubeFacts) -> tuple[bool, str]:
    """Every node of the inventory is a Kubernetes Node."""
    missing = sorted({n.name for n in facts.cluster.nodes} - kube.names("Node"))
    return (not missing), ("all nodes registered" if not missing else "not registered yet: " + ", ".join(missing))


def wait_nodes(facts: Facts) -> str | None:
    """Wait (with a deadline) for the API and every node to register."""
    return wait_until("every node to register with the API server", deadline("nodes", 900),
                      lambda: nodes_registered(facts), facts, interval=2.0)


def vip_done(facts: Facts) -> tuple[bool, str]:
    """build/kubeconfig already names the VIP and the API answers there."""
    vip = facts.cluster.settings["kube-vip"]["vip"]
    host, port = reach(vip, 6443)
    try:
        config = yaml.safe_load(paths.KUBECONFIG.read_text())
        server = config["clusters"][0]["cluster"]["server"]
        server_name = config["clusters"][0]["cluster"].get("tls-server-name", host)
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return False, "build/kubeconfig is missing"
    if server != f"https://{host}:{port}" or server_name != vip:
        return False, f"build/kubeconfig points at {server}, not the VIP {vip}"
    kube, why = api(facts)
    return kube is not None, ("the API answers on the VIP" if kube is not None else why)


def switch_to_vip(facts: Facts) -> str | None:
    """Once kube-vip runs, point build/kubeconfig at the VIP (falls back if the VIP does not answer)."""
    vip = facts.cluster.settings["kube-vip"]["vip"]
    error = write_kubeconfig(facts, vip) or await_api(facts, f"the API server to answer on the VIP {vip}",
                                               deadline("vip", 300))
    if error:
        write_kubeconfig(facts, facts.cluster.first_controlplane.address)
    return error
