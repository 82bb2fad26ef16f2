"""`talosctl kubeconfig`, `talosctl health` and `talosctl validate`.

kubeconfig.go RunE (FailIfMultiNodes, path resolution, "kubeconfig file already exists, use
--force to overwrite: %q", "error copying: %w"; merge messages in talos_kube.py); health.go
(checks in talos_health.py); mgmt/validate.go ("%s is valid for %s mode").
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.world import go_yaml
from tests.world import talos_client as tcl
from tests.world import talos_config as tc
from tests.world import talos_health as th
from tests.world import talos_kube as tk
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world.talos_client import CliError, RpcError, rpc


def _kubeconfig_path(args: list[str], merge: bool) -> tuple[Path, bool]:
    """kubeconfig.go: resolve the local path and whether merging applies."""
    if args:
        path = Path(os.path.normpath(args[0]))         # filepath.Clean
    elif merge:
        path = Path((os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
    else:
        path = Path.cwd()
    if path.is_dir():
        path = path / "kubeconfig"
    return path, merge and path.exists()


def _kube_source(world: Path, node: dict) -> dict:
    """MachineService.Kubeconfig on a control plane (and the world's Node registration)."""
    if node["machine_type"] != "controlplane":
        raise rpc("Unimplemented", "kubeconfig is only available on control plane nodes")  # CheckControlplane
    state = tcl.snapshot(world)
    if not st.etcd_exists(state, node["cluster_name"]):
        # World convention: the admin kubeconfig is served once the cluster is bootstrapped.
        raise rpc("FailedPrecondition", "kubeconfig is not available yet: the cluster is not bootstrapped")
    api = tk.apiserver_info(world)
    if api is not None:
        members = st.cluster_nodes(state, node["cluster_name"])
        try:    # kubelets register on their own; a real talosctl kubeconfig never needs the API
            tk.register_nodes(api, members)
        except (OSError, RuntimeError):
            members = []
        with st.locked(world) as live:
            for member in members:
                live[member["address"]]["k8s_registered"] = True
    return tk.admin_kubeconfig(node["cluster_name"], node["endpoint"], tk.credentials(world))


def cmd_kubeconfig(flags) -> None:
    """kubeconfig [local-path]: write or merge the admin kubeconfig (kubeconfig.go RunE)."""
    if len(flags.args) > 1:
        raise CliError(f"accepts at most 1 arg(s), received {len(flags.args)}")  # cobra.MaximumNArgs (args.go)
    session = ts.connect(flags)
    tcl.fail_if_multi_nodes(session.nodes, "kubeconfig")
    path, merge = _kubeconfig_path(flags.args, flags["merge"])
    if path.exists() and not (flags["force"] or flags["merge"]):
        raise CliError(f'kubeconfig file already exists, use --force to overwrite: "{path}"')
    world = tcl.world_dir()
    try:
        fresh = _kube_source(world, ts.proxied(tcl.snapshot(world), session, session.nodes[0]))
    except RpcError as exc:
        raise CliError(f"error copying: {exc}") from None
    if not merge:
        if str(path) == "-":        # kubeconfig.go: stdoutOutput = "-" (only when not merging)
            sys.stdout.write(tk.dump(fresh))
            return
        tk.write_file(path, tk.dump(fresh), 0o600)    # kubeconfig.go: os.WriteFile(localPath, data, 0o600)
        return
    try:
        old = go_yaml.load(path.read_text()) or {}
    except Exception as exc:  # noqa: BLE001 - clientcmd.LoadFromFile's error (approximate text)
        raise CliError(f'error loading config file "{path}": {exc}') from None
    merged, messages = tk.merge(old, fresh, flags["force"], flags["force-context-name"] or "")
    sys.stdout.write("".join(m + "\n" for m in messages))
    tk.write_file(path, tk.dump(merged), 0o600)


def cmd_health(flags) -> None:
    """health: run the default cluster checks until --wait-timeout (health.go)."""
    session = ts.connect(flags, need_nodes=flags["server"])
    if flags["server"]:
        tcl.fail_if_multi_nodes(session.nodes, "health")
    world = tcl.world_dir()
    state = tcl.snapshot(world)
    try:
        anchor = ts.endpoint(state, session)
    except RpcError as exc:
        raise CliError(str(exc)) from None
    cps = [tcl.host_of(n) for n in flags["control-plane-nodes"]]
    cps += [tcl.host_of(flags["init-node"])] if flags["init-node"] else []
    workers = [tcl.host_of(n) for n in flags["worker-nodes"]]
    if not cps and not workers:
        members = st.cluster_nodes(state, anchor["cluster_name"])
        cps = [n["address"] for n in members if n["machine_type"] == "controlplane"]
        workers = [n["address"] for n in members if n["machine_type"] != "controlplane"]
    ctx = th.Context(world, cps, workers, anchor["cluster_name"], flags["k8s-endpoint"] or anchor["endpoint"])
    th.run(ctx, flags["wait-timeout"])


def _validate_metal(cfg: tc.MachineConfig) -> list[str]:
    """Metal mode needs install instructions (v1alpha1_validation.go, approximate wording)."""
    install = cfg.machine.get("install") or {}
    if cfg.v1alpha1 is None:
        return []
    if not install:
        return ['install instructions are required in "metal" mode']
    if not install.get("disk") and not install.get("diskSelector"):
        return ["either install disk or diskSelector should be defined"]
    return []


def cmd_validate(flags) -> None:
    """validate --config FILE --mode MODE [--strict] (mgmt/validate.go)."""
    if flags["mode"] is None:
        raise CliError('required flag(s) "mode" not set')  # cobra MarkFlagRequired
    path = flags["config"] or ""
    try:
        with open(path, "rb") as handle:
            cfg = tc.parse(handle.read())
    except OSError as exc:
        raise CliError(tc.go_path_error("open", exc)) from None
    except tc.ConfigError as exc:
        raise CliError(str(exc)) from None
    if flags["mode"] not in tc.RUNTIME_MODES:
        raise CliError(f'unknown mode: "{flags["mode"]}"')  # runtime.ParseMode (approximate)
    errors = list(cfg.errors) + (_validate_metal(cfg) if flags["mode"] == "metal" else [])
    if errors:
        raise CliError(tcl.multierror(errors))
    sys.stdout.write(f"{path} is valid for {flags['mode']} mode\n")
