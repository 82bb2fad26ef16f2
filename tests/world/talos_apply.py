"""`talosctl apply-config` (alias `apply`): the client (cmd/talosctl/cmd/talos/apply-config.go,
helpers/mode.go PrintApplyResults) and the node's ApplyConfiguration
(internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go).

Client: every warning is cli.Warning and every ModeDetails goes to stderr with Fprintln, once per
node, without a node prefix; stdout stays empty. If any node fails, FilterMessages returns the
error and nothing is printed for the others: "error applying new configuration: %s".
--insecure (WithClientMaintenance): endpoints are the -n list, no talosconfig, the plain status.
"""
from __future__ import annotations

import sys
import time

from tests.world import talos_client as tcl
from tests.world import talos_compat as compat
from tests.world import talos_config as tc
from tests.world import talos_flags
from tests.world import talos_kube as tk
from tests.world import talos_resources as res
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world.fake_cobra import go_duration
from tests.world.talos_client import CliError, RpcError, rpc

WITHOUT_REBOOT = "Applied configuration without a reboot"
WITH_REBOOT = "Applied configuration with a reboot"
STAGED = "Staged configuration to be applied after the next reboot"


def _read_config(path: str | None) -> bytes:
    """apply-config.go: os.ReadFile(-f) (any path: /dev/stdin and /dev/fd/N included)."""
    if not path:
        raise CliError("no filename supplied for configuration")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise CliError(f'failed to read configuration from "{path}": {tc.go_path_error("open", exc)}') from None
    if not data:
        raise CliError("no configuration data read")
    return data


def _runtime_validate(node: dict, cfg: tc.MachineConfig) -> list[str]:
    """v1alpha1_validation.go RuntimeValidate: kubelet and control-plane image tags vs the running Talos."""
    if cfg.v1alpha1 is None:
        return []
    probe = dict(node, config=cfg.text)
    images = res.component_images(probe)
    names = ["kubelet"] + ([n for n, _, _ in res.CP_IMAGES] if cfg.machine.get("type") in ("controlplane", "init") else [])
    errors = []
    for name in names:
        ref = images[name]
        if ":v" not in ref:
            errors.append(f'{name} image is not valid: failed to parse Kubernetes version from image reference '
                          f'"{ref}": invalid image reference: "{ref}"')
            continue
        problem = compat.k8s_supported(ref.rsplit(":v", 1)[1].split("@")[0], node["talos_version"])
        if problem:
            errors.append(f"{name} image is not valid: {problem}")
    return errors


def _mode(node: dict, cfg: tc.MachineConfig, mode: str, maintenance: bool) -> tuple[str, str, str]:
    """The switch on in.Mode: (effective mode, modeDetails, modeErr)."""
    if maintenance and mode == "reboot":
        mode = "no-reboot"
    if mode in ("try", "no-reboot"):
        current = tc.parse(node["config"].encode()).v1alpha1 if node["config"] else None
        problem = None if maintenance else tc.immediate_error(current, cfg.v1alpha1)
        if problem:
            raise rpc("InvalidArgument", problem)
        return mode, WITHOUT_REBOOT, ""
    if mode == "staged":
        return mode, STAGED, ""
    if mode == "auto":
        current = tc.parse(node["config"].encode()).v1alpha1 if node["config"] else None
        problem = None if maintenance else tc.immediate_error(current, cfg.v1alpha1)
        if problem:
            return "reboot", WITH_REBOOT, ": " + problem
        return "no-reboot", WITHOUT_REBOOT, ""
    return mode, WITH_REBOOT, ""


def _dry_run(node: dict, cfg: tc.MachineConfig, details: str) -> str:
    """generateDiff(): "Config diff:\\n\\n" + DiffConfigs(current, new) or "No changes."."""
    old = tc.encode(tc.parse(node["config"].encode()).docs) if node["config"] else ""
    diff = tc.text_diff(old, tc.encode(cfg.docs)) or "No changes."
    return f"Dry run summary:\n{details} (skipped in dry-run).\nConfig diff:\n\n{diff}"


def _commit(node: dict, cfg: tc.MachineConfig, mode: str, timeout: float) -> None:
    """Apply for real: try (active only, rollback timer), no-reboot (both), staged, reboot."""
    previous = node["config"]
    if mode == "try" and previous:
        node.update(try_rollback_at=time.time() + timeout, try_rollback_config=previous)
    if mode in ("no-reboot", "staged", "reboot"):
        node["persistent_config"] = cfg.text
    if mode in ("try", "no-reboot"):
        st.set_active_config(node, cfg)
    if mode == "reboot":
        node["apply_rebooted"] = True
        st.begin_reboot(node)
    node["apply_count"] += 1


def apply_on_node(address: str, data: bytes, flags) -> str:
    """(*Server).ApplyConfiguration on one node; returns ModeDetails."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        if node["apply_rebooted"]:
            raise rpc("FailedPrecondition", "configuration was already applied and node is rebooting, "
                                            "cannot apply more configuration changes until next reboot")
        maintenance = node["stage"] == "maintenance"
        if flags["mode"] != "try":
            node.update(try_rollback_at=None, try_rollback_config=None)  # CancelConfigRollbackTimeout
        try:
            cfg = tc.parse(data)
        except tc.ConfigError as exc:
            raise rpc("InvalidArgument", str(exc)) from None
        if not maintenance and cfg.v1alpha1 is None:
            raise rpc("InvalidArgument", "the applied machine configuration doesn't contain v1alpha1 config, "
                                         "did you mean to patch the machine config instead?")
        runtime_errors = _runtime_validate(node, cfg)
        problems = tc.validation_error(cfg) or (tcl.multierror(runtime_errors) if runtime_errors else None)
        if problems:
            raise rpc("InvalidArgument", problems)
        mode, details, reason = _mode(node, cfg, flags["mode"], maintenance)
        if flags["dry-run"]:
            return _dry_run(node, cfg, details)
        if mode == "try":
            details += ("\nThe config is applied in 'try' mode and will be automatically reverted back in "
                        + go_duration(flags["timeout"]))
        _commit(node, cfg, mode, flags["timeout"])
        return details + reason


def _positional(flags, called_as: str) -> None:
    """apply-config.go: one optional positional, `config`/`machineconfig` only through `apply`."""
    if len(flags.args) > 1:
        raise CliError(f"accepts at most 1 arg(s), received {len(flags.args)}")  # cobra.MaximumNArgs
    if flags.args:
        sys.stdout.write(talos_flags.usage("apply-config"))  # cmd.Help()
        if flags.args[0] != "config" and flags.args[0].lower() != "machineconfig":
            raise CliError(f"unknown positional argument {flags.args[0]}")
        if called_as == "apply-config":
            raise CliError("expected no positional arguments")


def cmd_apply_config(flags, called_as: str) -> None:
    """apply-config -f FILE [--insecure] [--mode M] [--dry-run]."""
    _positional(flags, called_as)
    data = _read_config(flags["file"])
    if flags["config-patch"]:
        raise CliError("the simulated talosctl does not support --config-patch")
    if flags["insecure"]:
        if not flags["nodes"]:
            raise CliError("failed to determine endpoints")  # client.go New(), unwrapped by WithClientMaintenance
        target = flags["nodes"][0]
        try:
            tcl.maintenance(tcl.snapshot(tcl.world_dir()), target)
            replies = [apply_on_node(tcl.host_of(target), data, flags)]
        except RpcError as exc:
            raise CliError(f"error applying new configuration: {exc}") from None
    else:
        session = ts.connect(flags)
        try:
            results, errors = ts.one2many(session, lambda state, node, target: apply_on_node(
                node["address"], data, flags))
        except RpcError as exc:
            raise CliError(f"error applying new configuration: {exc}") from None
        if errors:
            raise CliError(f"error applying new configuration: {tcl.multierror(errors)}")
        replies = [details for _, details in results]
    sys.stderr.write("".join(details + "\n" for details in replies))
    if not flags["dry-run"]:
        for address in ([tcl.host_of(flags["nodes"][0])] if flags["insecure"] else
                        [tcl.host_of(n) for n in session.nodes]):
            tk.kubelet_joins(tcl.world_dir(), address)
