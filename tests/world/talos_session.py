"""One `WithClient*` of talosctl: the talosconfig opened once, endpoints and nodes resolved, and
calls routed the way apid routes them.

- pkg/machinery/client/config/config.go Open(): an explicit --talosconfig that does not exist is
  created as an empty config (ensure() -> Save, 0600); then fromFile: one os.Open and one YAML
  decode. Every Open re-opens the path: a pipe (/dev/fd/N) is empty the second time (decode
  error EOF), a memfd or a file starts at offset 0 again.
- global/client.go WithClientNoNodes: "failed to open config file %q: %w" (the flag's value),
  "error constructing client: %w"; client.go New()/resolveConfigContext(), connection.go getConn().
- Routing (apid director.go): with `nodes` metadata every MachineService call is One2Many, even for
  one node, so a node's failure comes back as "<node>: <status>" in a multierror, while a failure
  of the endpoint itself is the plain status. COSI calls carry `node` (One2One): plain status.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tests.world import go_yaml
from tests.world import talos_client as tcl
from tests.world import talos_config as tc
from tests.world.talos_client import CliError, RpcError, multierror

EMPTY_CONFIG = 'context: ""\ncontexts: {}\n'   # yaml.Marshal(&Config{Context: "", Contexts: {}})
SERVICE_ACCOUNT_CONFIG = "/var/run/secrets/talos.dev/config"  # constants.ServiceAccountMountPath


@dataclass
class Session:
    """A constructed client: its context, endpoints and the nodes it targets."""

    flag_path: str
    context: dict
    endpoints: list
    nodes: list = field(default_factory=list)


def _default_path() -> str:
    """config/path.go firstValidPath(): $TALOSCONFIG, $TALOS_HOME|~/.talos/config, the service account path."""
    talos_home = os.environ.get("TALOS_HOME", "")
    home = talos_home if os.path.isabs(talos_home) else str(Path.home() / ".talos")
    paths = ([os.environ["TALOSCONFIG"]] if "TALOSCONFIG" in os.environ else []) + [str(Path(home) / "config")]
    for path in paths + [SERVICE_ACCOUNT_CONFIG]:
        if os.path.exists(path):
            return path
    _ensure(paths[0])
    return paths[0]


def _ensure(path: str) -> None:
    """config.go ensure(): create a missing config file as an empty config (Save: dir 0700, file 0600)."""
    if not os.path.exists(path):
        Path(path).parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(EMPTY_CONFIG)


def open_config(flag_path: str) -> dict:
    """config.Open(): ensure, then one open + one decode of the whole file."""
    try:
        path = flag_path or _default_path()
        if flag_path:
            _ensure(flag_path)
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise CliError(f'failed to open config file "{flag_path}": {tc.go_path_error("open", exc)}') from None
    try:
        doc = go_yaml.load(raw.decode("utf-8", "replace"))
    except Exception as exc:  # noqa: BLE001 - any YAML error is the decoder's error
        raise CliError(f'failed to open config file "{flag_path}": yaml: {exc}') from None
    if doc is None:
        # yaml.NewDecoder(r).Decode on an empty stream returns io.EOF.
        raise CliError(f'failed to open config file "{flag_path}": EOF')
    return doc if isinstance(doc, dict) else {}


def _resolve_context(config: dict, override: str | None) -> dict:
    """client.go resolveConfigContext()."""
    contexts = config.get("contexts") or {}
    if override:
        if override not in contexts:
            raise ValueError(f'context "{override}" not found in config')
        return contexts[override] or {}
    name = config.get("context") or ""
    if name not in contexts:
        if name == "" and not contexts:
            raise ValueError("talos config file is empty")
        raise ValueError(f'default context "{name}" not found in config')
    return contexts[name] or {}


def connect(flags, need_nodes: bool = True) -> Session:
    """WithClientNoNodes (+ getNodes when `need_nodes`): one Open of the talosconfig."""
    config = open_config(flags["talosconfig"] or "")
    try:
        context = _resolve_context(config, flags["context"])
    except ValueError as exc:
        if not flags["endpoints"]:
            raise CliError("error constructing client: failed to determine endpoints") from None  # client.go New()
        raise CliError("error constructing client: failed to create client connection: "     # connection.go getConn()
                       f"failed to resolve configuration context: {exc}") from None
    endpoints = list(flags["endpoints"] or context.get("endpoints") or [])
    if not endpoints:
        raise CliError("error constructing client: failed to determine endpoints")  # client.go New()
    nodes = list(flags["nodes"] or context.get("nodes") or [])
    if need_nodes and not nodes:
        raise CliError(tcl.NO_NODES)
    return Session(flags["talosconfig"] or "", context, endpoints, nodes)


def _credentials_error(session: Session, endpoint: dict) -> RpcError | None:
    """TLS between talosctl and the endpoint's apid: CA and client certificate."""
    if endpoint["stage"] == "maintenance":
        return RpcError("Unavailable", tcl.UNKNOWN_CA.split("desc = ", 1)[1])
    ca = session.context.get("ca")
    if not ca or tc.sha_of_b64(str(ca)) != endpoint["machine_ca_sha256"]:
        return RpcError("Unavailable", tcl.UNKNOWN_CA.split("desc = ", 1)[1])
    if not session.context.get("crt") or not session.context.get("key"):
        return RpcError("Unavailable", tcl.CERT_REQUIRED.split("desc = ", 1)[1])
    return None


def endpoint(state: dict, session: Session) -> dict:
    """The endpoint's apid (the first one that answers): its failure is the whole call's."""
    first_error = None
    for address in session.endpoints:
        try:
            node = tcl.dial(state, address)
        except RpcError as exc:
            first_error = first_error or exc
            continue
        error = _credentials_error(session, node)
        if error:
            raise error
        return node
    raise first_error


def proxied(state: dict, session: Session, target: str) -> dict:
    """apid on the endpoint forwarding to `target` with its own client certificate."""
    via = endpoint(state, session)
    node = tcl.dial(state, target)
    if node["stage"] == "maintenance" or node["machine_ca_sha256"] != via["machine_ca_sha256"]:
        raise RpcError("Unavailable", tcl.UNKNOWN_CA.split("desc = ", 1)[1])
    return node


def one2many(session: Session, call, at_once: bool = False) -> tuple[list, list[str]]:
    """call(state, node, target) per node -> ([(target, result)], ["<target>: <status>"]); endpoint errors raise.
    A read (`at_once`) sees one state for all nodes, as apid's concurrent fan-out does; an action
    sees the state each earlier node's action left."""
    results, errors = [], []
    shared = tcl.snapshot(tcl.world_dir()) if at_once else None
    for target in session.nodes:
        state = shared or tcl.snapshot(tcl.world_dir())
        endpoint(state, session)
        try:
            results.append((target, call(state, proxied(state, session, target), target)))
        except RpcError as exc:
            errors.append(f"{target}: {exc}")
    return results, errors


def executing(verb: str, session: Session, action) -> list:
    """one2many for a command whose every failure reads "error executing <verb>: ..." (talosctl's
    WithClient wrappers, e.g. cmd/talosctl/cmd/talos/{bootstrap,reboot,reset}.go): the results."""
    try:
        results, errors = one2many(session, lambda state, node, target: action(node["address"]))
    except RpcError as exc:
        raise CliError(f"error executing {verb}: {exc}") from None
    if errors:
        raise CliError(f"error executing {verb}: {multierror(errors)}")
    return results

