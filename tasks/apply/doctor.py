"""The read-only preflight: each check answers with Lines (ok / note / problem with its fix).
`doit doctor` runs all of them; `doit bootstrap` runs those its pending stages need (preflight.py).
Nothing here changes anything, and no 1Password value is ever read into a line."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .. import paths
from ..facts import Facts
from ..facts.hardware import Hardware, query_hardware
from ..problems import Line
from ..render.references import references
from ..settings import gitops
from ..settings.model import Cluster, Node
from ..tools import op_items
from ..tools.versions import tool_versions
from .api import stranger

TALOS_FILE = "bootstrap/values/talos.yaml"


def first_line(text: str) -> str:
    """A tool's message, shortened to its first line."""
    return (text.strip().splitlines() or [""])[0][:300]


def tool_lines(names: tuple[str, ...] | None = None) -> list[Line]:
    """Each tool on PATH at or above its minimum version."""
    lines = []
    for found in tool_versions(names):
        name, minimum = found.tool.name, found.tool.minimum
        if found.error:
            lines.append(Line("problem", name, f"not usable: {first_line(found.error)}", found.fix()))
        elif found.too_old:
            lines.append(Line("problem", name, f"{found.version} is older than the minimum {minimum} "
                              f"({found.tool.why})", found.fix()))
        else:
            lines.append(Line("ok", name, f"{found.version} (minimum {minimum})"))
    return lines


def _item_line(refs, item: op_items.Item, talos_item: tuple[str, str]) -> Line:
    """One referenced item: present with every field, or what is missing and how to add it."""
    subject = f"op://{refs.vault}/{refs.item}"
    secrets = (refs.vault, refs.item) == talos_item
    if item.missing or item.error:
        why = first_line(item.error) if item.error else f"the {item.missing} does not exist"
        fix = ("run `doit secrets` to generate and store the Talos secrets" if secrets and item.missing == "item"
               else f"create it in 1Password with the fields {', '.join(sorted(refs.fields))}")
        return Line("problem", subject, f"{why} (read by {refs.files[0]})", fix)
    lacking = sorted(refs.fields - item.labels)
    if lacking:
        return Line("problem", subject, f"lacks field(s) {', '.join(lacking)} (read by {refs.files[0]})",
                    f"add the field(s) {', '.join(lacking)} to the item in 1Password"
                    + (", or replace the item with `doit secrets --overwrite`" if secrets else ""))
    return Line("ok", subject, f"all {len(refs.fields)} field(s) the templates read exist (values not read)")


def op_lines(cluster: Cluster) -> list[Line]:
    """op signed in; every item and field the artifacts reference exists."""
    ok, why = op_items.signed_in()
    if not ok:
        return [Line("problem", "op", f"not signed in: {first_line(why)}",
                     "`eval $(op signin)`, or set OP_SERVICE_ACCOUNT_TOKEN for a service account")]
    lines = [Line("ok", "op", "signed in")]
    refs = references(cluster)
    talos_item = (cluster.settings["common"]["onepassword"]["vault"], cluster.settings["talos"]["secretsItem"])
    with ThreadPoolExecutor(max_workers=min(8, len(refs) or 1)) as pool:
        items = list(pool.map(lambda r: op_items.get_item(r.vault, r.item), refs))
    return lines + [_item_line(r, item, talos_item) for r, item in zip(refs, items)]


def _hardware_lines(index: int, node: Node, hardware: Hardware) -> list[Line]:
    """installDisk and the bond links against what the maintenance-mode node reports."""
    subject, lines = f"{node.name} ({node.address})", []
    if node.install_disk in hardware.disks:
        lines.append(Line("ok", subject, f"maintenance mode; installDisk {node.install_disk} present"))
    else:
        lines.append(Line("problem", subject, f"installDisk {node.install_disk} is not among the disks the node "
                          f"reports ({', '.join(sorted(hardware.disks)) or 'none'})",
                          f"set nodes[{index}].installDisk in {TALOS_FILE} to one of them"))
    lacking = [link for link in node.bond_links if link not in hardware.links]
    if lacking:
        lines.append(Line("problem", subject, f"bond link(s) {', '.join(lacking)} not among the links the node "
                          f"reports ({', '.join(sorted(hardware.links)) or 'none'})",
                          f"set nodes[{index}].bondLinks (or bond.links) in {TALOS_FILE} to its link names"))
    else:
        lines.append(Line("ok", subject, f"bond links {', '.join(node.bond_links)} present"))
    return lines


def secrets_ref(cluster: Cluster) -> str:
    """vault/item of the Talos secrets."""
    return f"{cluster.settings['common']['onepassword']['vault']}/{cluster.settings['talos']['secretsItem']}"


def node_lines(cluster: Cluster, facts: Facts) -> list[Line]:
    """Each node reachable: configured (authenticated API) or in maintenance mode with its hardware."""
    states = facts.talos_nodes()
    waiting = [n for n in cluster.nodes if states[n.address].state != "configured"]
    with ThreadPoolExecutor(max_workers=min(8, len(waiting) or 1)) as pool:
        hardware = dict(zip([n.address for n in waiting], pool.map(query_hardware, [n.address for n in waiting])))
    lines = []
    for index, node in enumerate(cluster.nodes):
        subject = f"{node.name} ({node.address})"
        if node.address not in hardware:
            lines.append(Line("ok", subject, "configured (answers with build/talosconfig's credentials)"))
        elif hardware[node.address].configured:
            # Not a problem by itself: a talosctl call proxied through an endpoint node that is in
            # maintenance fails the same way; the node stage confirms before it sends anything.
            lines.append(Line("note", subject, "configured (it asks for a client certificate), but not reached "
                              f"with build/talosconfig ({first_line(states[node.address].reason)}); if that "
                              f"persists, the secrets in op://{secrets_ref(cluster)} may not be the ones it "
                              "was configured with (1Password keeps replaced items in its Archive)"))
        elif hardware[node.address].error:
            lines.append(Line("problem", subject, "cannot be reached in maintenance mode "
                              f"({first_line(hardware[node.address].error)}) nor with build/talosconfig "
                              f"({first_line(states[node.address].reason)})",
                              f"power the node on and check the network path to {node.address}:50000"))
        else:
            lines += _hardware_lines(index, node, hardware[node.address])
    return lines


def api_lines(facts: Facts) -> list[Line]:
    """The API server build/kubeconfig reaches is this cluster's (once there is a kubeconfig)."""
    if not paths.KUBECONFIG.exists():
        return [Line("ok", "API server", "not bootstrapped yet (no build/kubeconfig)")]
    kube = facts.kube()
    if not kube.reachable:
        return [Line("note", "API server", f"not reachable through build/kubeconfig: {first_line(kube.reason)}")]
    why = stranger(kube)
    if why:
        return [Line("problem", "API server", why.split("; ")[0],
                     "check BOOTSTRAP_ADDRESS_MAP and build/kubeconfig; if it is this cluster (after a lost "
                     "build/ or a deliberate repave), record the new cluster with `doit trust-cluster`")]
    return [Line("ok", "API server", f"this cluster's (kube-system uid {kube.uid})")]


def gitops_lines(cluster: Cluster) -> list[Line]:
    """The GitOps tree the drift check and the hand-off read exists."""
    where = cluster.settings["common"]["gitops"]["path"]
    if gitops.tree_root(where).is_dir():
        return [Line("ok", "GitOps tree", f"{where} exists")]
    return [Line("problem", "GitOps tree", f"{where} is not a folder",
                 "point bootstrap/values/common.yaml gitops.path at your GitOps checkout")]
