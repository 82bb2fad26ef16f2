"""Fake `talosctl` for the simulated cluster: `python3 -m tests.world.talosctl ARGS`.

State lives in $TALOS_WORLD_DIR/talos.json (see talos_state.py); nodes are created with
`seed_nodes(dir, [addresses])`. Output texts cite their source next to each string.
Errors are printed like cmd/talosctl/cmd/root.go Execute(): the error text alone on stderr and,
for flag/argument/command errors, a blank line and the command usage; exit code 1.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from tests.world import fake_cobra as cobra
from tests.world import talos_client as tcl
from tests.world import talos_config as tc
from tests.world import talos_state as st
from tests.world.fake_cobra import Flag
from tests.world.talos_client import CliError, RpcError, rpc
from tests.world.talos_state import seed_nodes, set_node  # noqa: F401 - world API re-exported

CLIENT = {"tag": st.DEFAULT_TALOS_VERSION, "sha": "6b2a1e7c", "go": "go1.25.5", "os": "linux", "arch": "amd64"}

GLOBAL_FLAGS = [  # cmd/talosctl/cmd/root.go Execute()
    Flag("talosconfig", help="The path to the Talos configuration file"),
    Flag("context", help="Context to be used in command"),
    Flag("nodes", "n", "slice", [], "target the specified nodes"),
    Flag("endpoints", "e", "slice", [], "override default endpoints in Talos configuration"),
    Flag("cluster", help="Cluster to connect to if a proxy endpoint is used."),
    Flag("help", "h", "bool", False, "help for talosctl"),
]
MODES = ("auto", "interactive", "no-reboot", "reboot", "staged", "try")  # helpers/mode.go
FLAGS = {
    "apply-config": [  # cmd/talosctl/cmd/talos/apply-config.go init()
        Flag("file", "f", help="the filename of the updated configuration"),
        Flag("insecure", "i", "bool", False, "apply the config using the insecure (encrypted with no auth) maintenance service"),
        Flag("dry-run", kind="bool", default=False, help="check how the config change will be applied in dry-run mode"),
        Flag("cert-fingerprint", kind="slice", default=[], help="list of server certificate fingeprints to accept (defaults to no check)"),
        Flag("config-patch", "p", "slice", [], "the list of config patches to apply to the local config file before sending it to the node"),
        Flag("timeout", kind="duration", default=60.0, help="the config will be rolled back after specified timeout (if try mode is selected)"),
        Flag("mode", "m", "choice", "auto", "apply config mode", MODES),
    ],
    "bootstrap": [Flag("recover-from", help="recover etcd cluster from the snapshot"),
                  Flag("recover-skip-hash-check", kind="bool", default=False, help="skip integrity check when recovering etcd")],
    "kubeconfig": [  # kubeconfig.go init()
        Flag("force", "f", "bool", False, "Force overwrite of kubeconfig if already present, force overwrite on kubeconfig merge"),
        Flag("force-context-name", help="Force context name for kubeconfig merge"),
        Flag("merge", "m", "bool", True, "Merge with existing kubeconfig"),
    ],
    "service": [],
    "etcd": [],
    "health": [  # health.go init()
        Flag("init-node", help="specify IPs of init node"),
        Flag("control-plane-nodes", kind="slice", default=[], help="specify IPs of control plane nodes"),
        Flag("worker-nodes", kind="slice", default=[], help="specify IPs of worker nodes"),
        Flag("wait-timeout", kind="duration", default=1200.0, help="timeout to wait for the cluster to be ready"),
        Flag("k8s-endpoint", help="use endpoint instead of kubeconfig default"),
        Flag("server", kind="bool", default=True, help="run server-side check"),
        Flag("run-e2e", kind="bool", default=False, help="run Kubernetes e2e test"),
    ],
    "validate": [  # mgmt/validate.go init()
        Flag("config", "c", help="the path of the config file"),
        Flag("mode", "m", help="the mode to validate the config for (valid values are metal, cloud, and container)"),
        Flag("strict", kind="bool", default=False, help="treat validation warnings as errors"),
    ],
    "version": [  # version.go init()
        Flag("short", kind="bool", default=False, help="Print the short version"),
        Flag("client", kind="bool", default=False, help="Print client version only"),
        Flag("insecure", "i", "bool", False, "use Talos maintenance mode API"),
        Flag("json", kind="bool", default=False, hidden=True),
    ],
    "reset": [  # reset.go init()
        Flag("graceful", kind="bool", default=True, help="if true, attempt to cordon/drain node and leave etcd (if applicable)"),
        Flag("reboot", kind="bool", default=False, help="if true, reboot the node after resetting instead of shutting down"),
        Flag("wait", kind="bool", default=True, help="wait for the operation to complete, tracking its progress. always set to true when --debug is set"),
        Flag("timeout", kind="duration", default=1800.0, help="time to wait for the operation is complete if --debug or --wait is set"),
        Flag("insecure", "i", "bool", False, "reset using the insecure (encrypted with no auth) maintenance service"),
        Flag("system-labels-to-wipe", kind="slice", default=[], help="if set, just wipe selected system disk partitions by label but keep other partitions intact"),
        Flag("user-disks-to-wipe", kind="slice", default=[], help="if set, wipes defined devices in the list"),
        Flag("debug", kind="bool", default=False, help="debug operation from kernel logs. --wait is set to true when this flag is set"),
    ],
    "get": [  # get.go init()
        Flag("output", "o", default="table", help="output mode (json, table, yaml, jsonpath)"),
        Flag("namespace", help="resource namespace (default is to use default namespace per resource)"),
        Flag("insecure", "i", "bool", False, "get resources using the insecure (encrypted with no auth) maintenance service"),
        Flag("watch", "w", "bool", False, "watch resource changes"),
    ],
}
ALIASES = {"apply": "apply-config", "services": "service"}
UNSIMULATED = ("upgrade", "upgrade-k8s", "reboot", "shutdown", "patch", "edit", "dashboard", "logs",
               "dmesg", "config", "gen", "cluster", "containers", "copy", "read", "list", "ls")


def _usage(command: str) -> str:
    """cobra's UsageString (condensed)."""
    flags = FLAGS.get(command, [])
    text = f"Usage:\n  talosctl {command} [flags]\n\n"
    if flags:
        text += "Flags:\n" + cobra.flag_usages(flags + [Flag("help", "h", "bool", help=f"help for {command}")]) + "\n\n"
    return text + "Global Flags:\n" + cobra.flag_usages(GLOBAL_FLAGS[:-1]) + "\n"


def _root_usage() -> str:
    """The root command usage listing the commands."""
    names = sorted(FLAGS)
    return ("Usage:\n  talosctl [command]\n\nAvailable Commands:\n"
            + "".join(f"  {n}\n" for n in names) + "\nFlags:\n" + cobra.flag_usages(GLOBAL_FLAGS) + "\n")


def _out(text: str) -> None:
    """Write to stdout."""
    sys.stdout.write(text)


# ---------------------------------------------------------------- apply-config

def _read_config(path: str | None) -> bytes:
    """apply-config.go: read -f (any path, /dev/stdin and /dev/fd/N included)."""
    if not path:
        raise CliError("no filename supplied for configuration")  # apply-config.go
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        # apply-config.go: "failed to read configuration from %q: %w" (*PathError text).
        raise CliError(f'failed to read configuration from "{path}": open {path}: '
                       f"{(exc.strerror or str(exc)).lower()}") from None
    if not data:
        raise CliError("no configuration data read")  # apply-config.go
    return data


def _record_config(node: dict, cfg: tc.MachineConfig) -> None:
    """Keep the non-secret facts of an applied config on the node."""
    node.update(stage=node["stage"] if node["stage"] != "maintenance" else "configured",
                config_sha256=cfg.sha256, config_paths=cfg.paths, machine_type=cfg.machine_type,
                cluster_name=cfg.cluster_name, endpoint=cfg.endpoint,
                hostname=cfg.hostname or f"talos-{node['address'].replace('.', '-').replace(':', '-')}",
                machine_ca_sha256=cfg.machine_ca_sha256, apply_count=node["apply_count"] + 1)
    if node["configured_at"] is None:
        node["configured_at"] = time.time()


def _maintenance_apply(node: dict, data: bytes, flags) -> str:
    """internal/app/maintenance/server.go ApplyConfiguration: returns the printed text."""
    if flags["mode"] not in ("auto", "reboot", "try"):
        raise rpc("Unimplemented", f"apply configuration --mode='{flags['mode']}' is not supported in maintenance mode")  # maintenance/server.go ApplyConfiguration
    try:
        cfg = tc.parse_machine_config(data)
    except tc.ConfigError as exc:
        raise rpc("Unknown", f"failed to parse config: {exc}") from None  # maintenance/server.go (plain error: gRPC code Unknown)
    errors = cfg.errors if cfg.has_v1alpha1 else ["machine instructions are required"]
    if errors:
        raise rpc("InvalidArgument", f"configuration validation failed: {tc.multierror(errors)}")  # maintenance/server.go
    if flags["dry-run"]:
        return "Dry run summary:\nNode is running in maintenance mode and does not have a config yet.\n"
    with st.locked(tcl.world_dir()) as state:
        if state[node["address"]]["stage"] != "maintenance":
            raise RpcError(tcl.CERT_REQUIRED)
        _record_config(state[node["address"]], cfg)
    _kubelet_joins(tcl.world_dir(), node["address"])
    return ""


def _kubelet_joins(world: Path, address: str) -> None:
    """World convention: a configured node of a bootstrapped cluster registers its Node object, as
    its kubelet would once the control plane runs (best effort: the API server may not be up)."""
    from tests.world import talos_kube as tk

    state = tcl.snapshot(world)
    node, api = state[address], tk.apiserver_info(world)
    if api is None or not st.etcd_exists(state, node["cluster_name"]):
        return
    try:
        tk.register_nodes(api, [node])
    except (OSError, RuntimeError):
        return
    with st.locked(world) as live:
        live[address]["k8s_registered"] = True


def _immediate_error(node: dict, cfg: tc.MachineConfig) -> str | None:
    """Runtime.CanApplyImmediate (approximation: role or cluster identity changes need a reboot)."""
    changed = [k for k in ("machine_type", "cluster_name") if node[k] != getattr(cfg, k)]
    if not changed:
        return None
    return "this config change can't be applied in immediate mode\ndiff: " + ", ".join(changed)


def _mode_details(mode: str, node: dict, cfg: tc.MachineConfig, try_timeout: float) -> tuple[str, str]:
    """v1alpha1_server.go ApplyConfiguration: (modeDetails, modeErr) for a mode."""
    immediate = _immediate_error(node, cfg)
    if mode in ("try", "no-reboot"):
        if immediate:
            raise rpc("InvalidArgument", immediate)
        details = "Applied configuration without a reboot"
        if mode == "try":
            details += ("\nThe config is applied in 'try' mode and will be automatically reverted back in "
                        + cobra.go_duration(try_timeout))
        return details, ""
    if mode == "staged":
        return "Staged configuration to be applied after the next reboot", ""
    if mode == "auto" and not immediate:
        return "Applied configuration without a reboot", ""
    return "Applied configuration with a reboot", (": " + immediate) if immediate and mode == "auto" else ""


def _dry_run_text(node: dict, cfg: tc.MachineConfig, details: str) -> str:
    """generateDiff(): "Config diff:\n\n" + diff or "No changes."."""
    lines = tc.diff_paths(node["config_paths"] or {}, cfg.paths)
    diff = "--- a\n+++ b\n" + "\n".join(lines) if lines else "No changes."
    return f"Dry run summary:\n{details.splitlines()[0]} (skipped in dry-run).\nConfig diff:\n\n{diff}\n"


def _secure_apply(node: dict, data: bytes, flags) -> str:
    """v1alpha1_server.go ApplyConfiguration on a configured node."""
    try:
        cfg = tc.parse_machine_config(data)
    except tc.ConfigError as exc:
        raise rpc("InvalidArgument", str(exc)) from None  # v1alpha1_server.go: status.Error(codes.InvalidArgument, err.Error())
    if not cfg.has_v1alpha1:
        raise rpc("InvalidArgument", "the applied machine configuration doesn't contain v1alpha1 config, "  # v1alpha1_server.go
                                     "did you mean to patch the machine config instead?")
    if cfg.errors:
        raise rpc("InvalidArgument", tc.multierror(cfg.errors))
    details, mode_err = _mode_details(flags["mode"], node, cfg, flags["timeout"])
    if flags["dry-run"]:
        return _dry_run_text(node, cfg, details)
    with st.locked(tcl.world_dir()) as state:
        target = state[node["address"]]
        if flags["mode"] == "staged":
            target["staged_config_sha256"] = cfg.sha256
        else:
            _record_config(target, cfg)
            if details.startswith("Applied configuration with a reboot"):
                target["configured_at"] = time.time()
    return details + mode_err + "\n"


def cmd_apply_config(flags, called_as: str) -> None:
    """apply-config: insecure (maintenance, first node only: siderolabs/talos#11773) or authenticated."""
    if flags.args:
        if flags.args[0] not in ("config",) and flags.args[0].lower() != "machineconfig":
            raise CliError(f"unknown positional argument {flags.args[0]}", usage=True)  # apply-config.go
        if called_as == "apply-config":
            raise CliError("expected no positional arguments", usage=True)  # apply-config.go
    if flags["mode"] == "interactive" or flags["config-patch"]:
        raise CliError("the simulated talosctl does not support --mode=interactive or --config-patch")
    data = _read_config(flags["file"])
    world = tcl.world_dir()
    if flags["insecure"]:
        nodes = [tcl.host_of(n) for n in flags["nodes"]]
        if not nodes:
            raise CliError(tcl.NO_ENDPOINTS)
        _apply_on(world, nodes[:1], lambda state, addr: _maintenance_apply(
            tcl.connect_insecure(state, addr), data, flags))
        return
    session = tcl.open_session(flags)
    _apply_on(world, session.nodes, lambda state, addr: _secure_apply(
        tcl.connect(state, session, addr), data, flags), multi=len(session.nodes) > 1)


def _apply_on(world: Path, nodes: list[str], action, multi: bool = False) -> None:
    """Run `action` per node; print outputs; raise the joined errors."""
    errors = []
    for addr in nodes:
        try:
            _out(action(tcl.snapshot(world), addr))
        except RpcError as exc:
            errors.append((addr, str(exc)))
    if errors:
        # apply-config.go: fmt.Errorf("error applying new configuration: %s", err)
        raise CliError("error applying new configuration: " + tcl.join_node_errors(errors, multi))


# ---------------------------------------------------------------- bootstrap

def _bootstrap_node(world: Path, state: dict, session, addr: str) -> None:
    """v1alpha1_server.go Bootstrap(): readiness, role, then the etcd data directory."""
    node = tcl.connect(state, session, addr)
    if not st.is_ready(node):
        raise rpc("FailedPrecondition", "bootstrap is not available yet")  # v1alpha1_server.go Bootstrap()
    if node["machine_type"] == "worker":
        raise rpc("FailedPrecondition", "bootstrap can only be performed on a control plane node")  # v1alpha1_server.go Bootstrap()
    with st.locked(world) as live:
        if st.etcd_exists(live, node["cluster_name"]):
            raise rpc("AlreadyExists", "etcd data directory is not empty")  # v1alpha1_server.go Bootstrap()
        live[addr].update(stage="bootstrapped", etcd_member=True, bootstrapped_at=time.time())


def cmd_bootstrap(flags, called_as: str) -> None:
    """bootstrap: silent on success; bootstrap.go wraps errors with "error executing bootstrap: %s"."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl bootstrap"', usage=True)  # cobra.NoArgs (args.go)
    if flags["recover-from"]:
        raise CliError("the simulated talosctl does not support --recover-from")
    session = tcl.open_session(flags)
    world = tcl.world_dir()
    errors = []
    for addr in session.nodes:
        try:
            _bootstrap_node(world, tcl.snapshot(world), session, addr)
        except RpcError as exc:
            errors.append((addr, str(exc)))
            continue
        for member in st.cluster_nodes(tcl.snapshot(world), tcl.snapshot(world)[addr]["cluster_name"]):
            _kubelet_joins(world, member["address"])
    if errors:
        raise CliError("error executing bootstrap: " + tcl.join_node_errors(errors, len(session.nodes) > 1))


# ---------------------------------------------------------------- kubeconfig

def _kubeconfig_path(args: list[str], merge: bool) -> tuple[Path, bool]:
    """kubeconfig.go: resolve the local path and whether merging applies."""
    if args:
        path = Path(args[0])
    elif merge:
        path = Path((os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
    else:
        path = Path.cwd()
    if path.is_dir():
        path = path / "kubeconfig"
    return path, merge and path.exists()


def _kube_source(world: Path, state: dict, session, addr: str) -> dict:
    """Fetch the admin kubeconfig from a bootstrapped control plane (and register the nodes)."""
    node = tcl.connect(state, session, addr)
    if node["machine_type"] != "controlplane":
        # v1alpha1_server.go checkControlplane(): "%s is only available on control plane nodes"
        raise rpc("Unimplemented", "kubeconfig is only available on control plane nodes")
    if not st.etcd_exists(state, node["cluster_name"]):
        # World convention: the admin kubeconfig is served once the cluster is bootstrapped.
        raise rpc("FailedPrecondition", "kubeconfig is not available yet: the cluster is not bootstrapped")
    from tests.world import talos_kube as tk

    api = tk.apiserver_info(world)
    if api is not None:
        members = [n for n in st.cluster_nodes(state, node["cluster_name"])]
        try:    # kubelets register on their own; a real talosctl kubeconfig never needs the API
            tk.register_nodes(api, members)
        except (OSError, RuntimeError):
            members = []
        with st.locked(world) as live:
            for member in members:
                live[member["address"]]["k8s_registered"] = True
    return tk.admin_kubeconfig(node["cluster_name"], node["endpoint"], tk.credentials(world))


def cmd_kubeconfig(flags, called_as: str) -> None:
    """kubeconfig [local-path]: write or merge the admin kubeconfig (kubeconfig.go RunE)."""
    if len(flags.args) > 1:
        raise CliError(f"accepts at most 1 arg(s), received {len(flags.args)}", usage=True)  # cobra.MaximumNArgs (args.go)
    session = tcl.open_session(flags)
    tcl.fail_if_multi_nodes(session, "kubeconfig")
    path, merge = _kubeconfig_path(flags.args, flags["merge"])
    if path.exists() and not (flags["force"] or flags["merge"]):
        raise CliError(f'kubeconfig file already exists, use --force to overwrite: "{path}"')  # kubeconfig.go
    world = tcl.world_dir()
    try:
        fresh = _kube_source(world, tcl.snapshot(world), session, session.nodes[0])
    except RpcError as exc:
        raise CliError(f"error copying: {exc}") from None  # kubeconfig.go: "error copying: %w"
    from tests.world import talos_kube as tk

    if not merge:
        tk.write_file(path, tk.dump(fresh), 0o640)
        return
    old = _load_kubeconfig(path)
    merged, messages = tk.merge(old, fresh, flags["force"], flags["force-context-name"] or "")
    _out("".join(m + "\n" for m in messages))
    tk.write_file(path, tk.dump(merged), 0o600)


def _load_kubeconfig(path: Path) -> dict:
    """clientcmd.LoadFromFile (empty file -> empty config)."""
    import yaml

    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise CliError(f"error loading config file \"{path}\": {exc}") from None  # clientcmd.LoadFromFile (approximate)


# ---------------------------------------------------------------- service / etcd

def _since(ts: float | None) -> str:
    """Go duration since a timestamp."""
    return cobra.go_duration(time.time() - (ts or time.time()))


def _services(node: dict) -> list[tuple[str, str, str, str, float]]:
    """(id, state, health, last event, since) for a configured node's services."""
    base = node["configured_at"] or time.time()
    ready = st.is_ready(node)
    up = ("Running", "OK", "Health check successful", base)
    rows = [("apid",) + up, ("containerd",) + up, ("cri",) + up]
    if node["machine_type"] == "controlplane":
        rows.append(("etcd",) + _etcd_service(node))
    rows += [("kubelet",) + (up if ready else ("Preparing", "?", "Running pre state", base)),
             ("machined",) + up, ("syslogd",) + up]
    if node["machine_type"] == "controlplane":
        rows.append(("trustd",) + up)
    return rows + [("udevd",) + up]


def _etcd_service(node: dict) -> tuple[str, str, str, float]:
    """The etcd service row; texts from siderolabs/talos#6205, #12214 and issue #2589."""
    state = node["etcd"]
    if state == "Running":
        return "Running", "OK", "Health check successful", node["bootstrapped_at"] or node["configured_at"]
    if state == "Preparing":
        return "Preparing", "?", "Running pre state", node["configured_at"]
    return "Waiting", "?", "Waiting for etcd spec", node["configured_at"]


def _service_info(node: dict, addr: str, service: str) -> list[list[str]]:
    """service.go serviceInfo(): NODE/ID/STATE/HEALTH/EVENTS rows."""
    row = next((r for r in _services(node) if r[0] == service), None)
    if row is None:
        return []
    rows = [["NODE", addr], ["ID", row[0]], ["STATE", row[1]], ["HEALTH", row[2]]]
    events = [(row[1], row[3], row[4])]
    if service == "etcd" and row[1] == "Running":
        events.append(("Preparing", "Running pre state", node["configured_at"]))
    label = "EVENTS"
    for state, msg, ts in events:
        rows.append([label, f"[{state}]: {msg} ({_since(ts)} ago)"])
        label = ""
    return rows


def cmd_service(flags, called_as: str) -> None:
    """service [<id> [start|stop|restart|status]] (service.go)."""
    if len(flags.args) > 2:
        raise CliError(f"accepts at most 2 arg(s), received {len(flags.args)}", usage=True)  # cobra.MaximumNArgs (args.go)
    service = flags.args[0] if flags.args else ""
    action = flags.args[1] if len(flags.args) == 2 else "status"
    if action not in ("status", "start", "stop", "restart"):
        raise CliError(f'unsupported service action: "{action}"')  # service.go
    if action != "status":
        raise CliError(f"the simulated talosctl does not support service {action}")
    session = tcl.open_session(flags)
    state, rows, errors = tcl.snapshot(tcl.world_dir()), [], []
    for addr in session.nodes:
        try:
            node = tcl.connect(state, session, addr)
        except RpcError as exc:
            errors.append((addr, str(exc)))
            continue
        rows += _service_info(node, addr, service) if service else [
            [addr, r[0], r[1], r[2], f"{_since(r[4])} ago", r[3]] for r in _services(node)]
    header = [] if service else [["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT"]]
    if rows:    # the nodes that answered are printed before the errors of the others (helpers.CheckErrors)
        _out(tcl.tabwrite(header + rows))
    if errors:
        raise CliError("error listing services: " + tcl.join_node_errors(errors, len(session.nodes) > 1))  # service.go: "error listing services: %w"
    if service and not rows:
        raise CliError(f'service "{service}" is not registered on any nodes')  # service.go


def _member_id(node: dict) -> str:
    """A stable etcd member ID (strconv.FormatUint(id, 16))."""
    return format(int(hashlib.sha256(f"{node['cluster_name']}/{node['address']}".encode()).hexdigest()[:16], 16), "x")


def _members_of(state: dict, session, addr: str) -> list[list[str]]:
    """EtcdMemberList on one node."""
    node = tcl.connect(state, session, addr)
    if node["machine_type"] != "controlplane":
        raise rpc("Unimplemented", "member list is only available on control plane nodes")  # checkControlplane()
    if not node["etcd_member"]:
        # Approximation of the local etcd client failing while etcd is not running yet.
        raise rpc("Unknown", "failed to create etcd client: etcd is not running on this node")
    members = [n for n in st.cluster_nodes(state, node["cluster_name"]) if n["etcd_member"]]
    return [[addr, _member_id(m), m["hostname"], f"https://{m['address']}:2380",
             f"https://{m['address']}:2379", "false"] for m in sorted(members, key=lambda m: m["hostname"])]


def cmd_etcd(flags, called_as: str) -> None:
    """etcd members (etcd.go etcdMemberListCmd); other etcd subcommands are not simulated."""
    sub = flags.args[0] if flags.args else ""
    if sub != "members":
        if not sub:
            _out(_usage("etcd"))
            return
        raise CliError(f"the simulated talosctl does not support etcd {sub}")
    session = tcl.open_session(flags)
    state, rows, errors = tcl.snapshot(tcl.world_dir()), [], []
    for addr in session.nodes:
        try:
            rows += _members_of(state, session, addr)
        except RpcError as exc:
            errors.append((addr, str(exc)))
    if errors:
        raise CliError("error getting members: " + tcl.join_node_errors(errors, len(session.nodes) > 1))  # etcd.go: "error getting members: %w"
    header = [["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"]] if rows else []
    _out(tcl.tabwrite(header + rows))


# ---------------------------------------------------------------- health / validate / version

def cmd_health(flags, called_as: str) -> None:
    """health: run the default cluster checks until --wait-timeout (health.go)."""
    session = tcl.open_session(flags, need_nodes=flags["server"])
    if flags["server"]:
        tcl.fail_if_multi_nodes(session, "health")
    world = tcl.world_dir()
    state = tcl.snapshot(world)
    try:
        anchor = tcl.connect(state, session, session.endpoints[0])
    except RpcError as exc:
        raise CliError(str(exc)) from None
    cps = [tcl.host_of(n) for n in flags["control-plane-nodes"]]
    cps += [tcl.host_of(flags["init-node"])] if flags["init-node"] else []
    workers = [tcl.host_of(n) for n in flags["worker-nodes"]]
    if not cps and not workers:
        members = st.cluster_nodes(state, anchor["cluster_name"])
        cps = [n["address"] for n in members if n["machine_type"] == "controlplane"]
        workers = [n["address"] for n in members if n["machine_type"] != "controlplane"]
    from tests.world import talos_health as th

    ctx = th.Context(world, cps, workers, anchor["cluster_name"], flags["k8s-endpoint"] or anchor["endpoint"])
    th.run(ctx, flags["wait-timeout"])


def _validate_metal(cfg: tc.MachineConfig) -> list[str]:
    """Metal mode needs install instructions (v1alpha1_validation.go, approximate wording)."""
    install = cfg.install or {}
    if not cfg.has_v1alpha1:
        return []
    if not install:
        return ['install instructions are required in "metal" mode']
    if not install.get("disk") and not install.get("diskSelector"):
        return ["either install disk or diskSelector should be defined"]
    return []


def cmd_validate(flags, called_as: str) -> None:
    """validate --config FILE --mode MODE [--strict] (mgmt/validate.go)."""
    if flags["mode"] is None:
        raise CliError('required flag(s) "mode" not set', usage=True)  # cobra MarkFlagRequired
    path = flags["config"] or ""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        cfg = tc.parse_machine_config(data)
    except OSError as exc:
        raise CliError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
    except tc.ConfigError as exc:
        raise CliError(str(exc)) from None
    if flags["mode"] not in tc.RUNTIME_MODES:
        raise CliError(f'unknown mode: "{flags["mode"]}"')  # runtime.ParseMode (approximate)
    errors = list(cfg.errors) + (_validate_metal(cfg) if flags["mode"] == "metal" else [])
    if errors:
        raise CliError(tc.multierror(errors).rstrip("\n"))
    _out(f"{path} is valid for {flags['mode']} mode\n")  # validate.go


def _long_version(tag: str) -> str:
    """pkg/machinery/version versionTemplate."""
    return (f"\tTag:         {tag}\n\tSHA:         {CLIENT['sha']}\n\tBuilt:       \n"
            f"\tGo version:  {CLIENT['go']}\n\tOS/Arch:     {CLIENT['os']}/{CLIENT['arch']}\n")


def cmd_version(flags, called_as: str) -> None:
    """version [--client] [--short] [--insecure] (version.go)."""
    _out("Client:\n" + (f"Talos {CLIENT['tag']}\n" if flags["short"] else _long_version(CLIENT["tag"])))
    if flags["client"]:
        return
    _out("Server:\n")
    world = tcl.world_dir()
    if flags["insecure"]:
        nodes = [tcl.host_of(n) for n in flags["nodes"]]
        connect = tcl.connect_insecure
    else:
        session = tcl.open_session(flags)
        nodes = session.nodes
        connect = lambda state, addr: tcl.connect(state, session, addr)  # noqa: E731
    state, errors = tcl.snapshot(world), []
    for addr in nodes:
        try:
            node = connect(state, addr)
        except RpcError as exc:
            errors.append(f"error getting version from node {addr}: {exc}")
            continue
        _out(f"\tNODE:        {addr}\n" + _long_version(node["talos_version"]) + "\tEnabled:     RBAC\n")
    if errors:
        raise CliError("\n".join(errors))  # errors.Join


# ---------------------------------------------------------------- reset / get

def cmd_reset(flags, called_as: str) -> None:
    """reset: wipe to maintenance (powered off unless --reboot). Silent in a non-terminal."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl reset"', usage=True)  # cobra.NoArgs (args.go)
    world = tcl.world_dir()
    if flags["insecure"]:
        nodes, connect = [tcl.host_of(n) for n in flags["nodes"]][:1], tcl.connect_insecure
    else:
        session = tcl.open_session(flags)
        nodes = session.nodes
        connect = lambda state, addr: tcl.connect(state, session, addr)  # noqa: E731
    errors = []
    for addr in nodes:
        try:
            connect(tcl.snapshot(world), addr)
        except RpcError as exc:
            errors.append((addr, str(exc)))
            continue
        with st.locked(world) as state:
            state[addr] = st.reset_node(state[addr])
            state[addr]["unreachable"] = state[addr]["unreachable"] or not flags["reboot"]
    if errors:
        raise CliError(tcl.join_node_errors(errors, len(nodes) > 1))


def _machine_status(node: dict, addr: str) -> dict:
    """runtime.MachineStatus resource for a node."""
    stage = "maintenance" if node["stage"] == "maintenance" else ("running" if st.is_ready(node) else "booting")
    ready = stage == "running"
    return {"node": addr, "metadata": {"namespace": "runtime", "type": "MachineStatuses.runtime.talos.dev",
                                       "id": "machine", "version": node["apply_count"] + 1, "phase": "running"},
            "spec": {"stage": stage, "status": {"ready": ready, "unmetConditions": [] if ready else
                                                [{"name": "nodeReady", "reason": "node is not ready"}]}}}


def _member(node: dict, addr: str) -> dict:
    """cluster.Member resource (discovery) for a node."""
    return {"node": addr, "metadata": {"namespace": "cluster", "type": "Members.cluster.talos.dev",
                                       "id": node["hostname"], "version": 1, "phase": "running"},
            "spec": {"nodeId": node["hostname"], "addresses": [node["address"]], "hostname": node["hostname"],
                     "machineType": node["machine_type"], "operatingSystem": f"Talos ({node['talos_version']})"}}


GET_TYPES = {"machinestatus": "ms", "machinestatuses": "ms", "ms": "ms", "members": "member",
             "member": "member", "mem": "member"}


def _resources(kind: str, state: dict, node: dict, addr: str) -> list[dict]:
    """Resources of a kind as seen from `addr`."""
    if kind == "ms":
        return [_machine_status(node, addr)]
    return [_member(n, addr) for n in st.cluster_nodes(state, node["cluster_name"])]


def _table(kind: str, items: list[dict]) -> str:
    """talosctl get table output (NODE NAMESPACE TYPE ID VERSION + per-type columns)."""
    if kind == "ms":
        rows = [["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "STAGE", "READY"]]
        rows += [[i["node"], "runtime", "MachineStatus", "machine", str(i["metadata"]["version"]),
                  i["spec"]["stage"], str(i["spec"]["status"]["ready"]).lower()] for i in items]
    else:
        rows = [["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "HOSTNAME", "MACHINE TYPE", "OS", "ADDRESSES"]]
        rows += [[i["node"], "cluster", "Member", i["metadata"]["id"], "1", i["spec"]["hostname"],
                  i["spec"]["machineType"], i["spec"]["operatingSystem"], json.dumps(i["spec"]["addresses"])]
                 for i in items]
    return tcl.tabwrite(rows)


def cmd_get(flags, called_as: str) -> None:
    """get machinestatus|members [-o table|json|yaml] (get.go)."""
    if not flags.args:
        raise CliError("requires at least 1 arg(s), only received 0", usage=True)  # cobra.MinimumNArgs (args.go)
    kind = GET_TYPES.get(flags.args[0].lower())
    if kind is None:
        raise CliError(f'the simulated talosctl cannot get resource "{flags.args[0]}"')
    world = tcl.world_dir()
    state = tcl.snapshot(world)
    if flags["insecure"]:
        nodes, connect = [tcl.host_of(n) for n in flags["nodes"]][:1], tcl.connect_insecure
    else:
        session = tcl.open_session(flags)
        nodes, connect = session.nodes, (lambda s, a: tcl.connect(s, session, a))
    items, errors = [], []
    for addr in nodes:
        try:
            items += _resources(kind, state, connect(state, addr), addr)
        except RpcError as exc:
            errors.append((addr, str(exc)))
    _print_resources(kind, items, flags["output"])
    if errors:
        raise CliError(tcl.join_node_errors(errors, len(nodes) > 1))


def _print_resources(kind: str, items: list[dict], output: str) -> None:
    """Render resources as table, json (one indented object each) or yaml (--- separated)."""
    import yaml

    if output == "json":
        _out("".join(json.dumps(i, indent=4) + "\n" for i in items))
    elif output == "yaml":
        _out("".join("---\n" + yaml.safe_dump(i, sort_keys=False) for i in items))
    else:
        _out(_table(kind, items))


# ---------------------------------------------------------------- main

HANDLERS = {"apply-config": cmd_apply_config, "bootstrap": cmd_bootstrap, "kubeconfig": cmd_kubeconfig,
            "service": cmd_service, "etcd": cmd_etcd, "health": cmd_health, "validate": cmd_validate,
            "version": cmd_version, "reset": cmd_reset, "get": cmd_get}


def find_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """cobra Find(): the first positional (skipping global flags and their values)."""
    value_flags = {"--talosconfig", "--context", "--nodes", "-n", "--endpoints", "-e", "--cluster"}
    rest = list(argv)
    for index, token in enumerate(rest):
        if token == "--":
            return None, rest
        if token.startswith("-"):
            continue
        if index > 0 and rest[index - 1] in value_flags:
            continue
        return token, rest[:index] + rest[index + 1:]
    return None, rest


def run(argv: list[str]) -> int:
    """Dispatch one talosctl invocation; return the exit code."""
    typed, rest = find_command(argv)
    if typed is None:
        if any(a in ("-h", "--help") for a in rest) or not rest:
            _out(_root_usage())
            return 0
        cobra.parse(GLOBAL_FLAGS, rest)
        _out(_root_usage())
        return 0
    command = ALIASES.get(typed, typed)
    if command in UNSIMULATED:
        raise CliError(f'the simulated talosctl does not implement "{command}"')
    if command not in HANDLERS:
        raise CliError(cobra.unknown_command(typed, "talosctl", sorted(HANDLERS)), usage=True)  # cobra command.go legacyArgs()
    flags = cobra.parse(GLOBAL_FLAGS + FLAGS[command], rest)
    if flags["help"]:
        _out(_usage(command))
        return 0
    HANDLERS[command](flags, typed)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: print errors like talosctl's root.go and return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv)
    except cobra.UsageError as exc:
        return _fail(str(exc), argv, usage=True)
    except CliError as exc:
        return _fail(str(exc), argv, usage=exc.usage)


def _fail(message: str, argv: list[str], usage: bool) -> int:
    """Print an error (and the usage for flag/argument errors); return exit code 1."""
    sys.stderr.write(message + "\n")
    if usage:
        command = ALIASES.get(find_command(argv)[0] or "", find_command(argv)[0] or "")
        sys.stderr.write("\n" + (_usage(command) if command in HANDLERS else _root_usage()) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
