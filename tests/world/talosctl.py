"""Fake `talosctl` (v1.13.9) for the simulated cluster: `python3 -m tests.world.talosctl ARGS`.

State lives in $TALOS_WORLD_DIR/talos.json (talos_state.py); nodes are created with
`seed_nodes(dir, [addresses])`. Each command lives in its own module and cites its source.
Errors are printed like cmd/talosctl/cmd/root.go Execute(): unless common.SuppressErrors, the
error text and a newline on stderr, then — when the text contains "arg(s)", "flag" or
"command" — an empty line and the command's usage; cmd/talosctl/main.go exits 1 on any error.
pflag's deprecation notices are printed (stderr) when parsing succeeded (cobra ParseFlags).
"""
from __future__ import annotations

import sys

from tests.world import fake_cobra as cobra
from tests.world import talos_flags as tf
from tests.world.talos_client import CliError
from tests.world.talos_state import seed_nodes, set_node  # noqa: F401 - world API re-exported

ALIASES = {"apply": "apply-config", "services": "service", "g": "get"}
SUBCOMMANDS = {"etcd": ("members", "status", "leave", "remove-member", "forfeit-leadership"),
               "gen": ("secrets", "config")}
UNSIMULATED = ("shutdown", "patch", "edit", "dashboard", "logs", "dmesg", "config", "cluster", "containers",
               "copy", "read", "list", "ls", "image", "rollback", "support", "inspect", "memory", "mounts",
               "netstat", "processes", "stats", "time", "wipe", "disks", "events", "meta", "pcap", "usage")
VALUE_FLAGS = {"--talosconfig", "--context", "--nodes", "-n", "--endpoints", "-e", "--cluster", "-c",
               "--siderov1-keys-dir"}


def _handler(command: str):
    """The function running `command` (modules are imported on demand: startup stays fast)."""
    from importlib import import_module

    name = {"apply-config": ("talos_apply", "cmd_apply_config"), "bootstrap": ("talos_etcd", "cmd_bootstrap"),
            "etcd": ("talos_etcd", "cmd_etcd"), "service": ("talos_service", "cmd_service"),
            "get": ("talos_get", "cmd_get"), "version": ("talos_get", "cmd_version"),
            "reset": ("talos_reset", "cmd_reset"), "reboot": ("talos_upgrade", "cmd_reboot"),
            "upgrade": ("talos_upgrade", "cmd_upgrade"), "upgrade-k8s": ("talos_k8s_upgrade", "cmd_upgrade_k8s"),
            "kubeconfig": ("talos_misc", "cmd_kubeconfig"), "health": ("talos_misc", "cmd_health"),
            "validate": ("talos_misc", "cmd_validate"), "gen secrets": ("talos_gen", "cmd_gen_secrets"),
            "gen config": ("talos_gen", "cmd_gen_config")}[command]
    return getattr(import_module(f"tests.world.{name[0]}"), name[1])


def _root_usage() -> str:
    """The root command usage listing the commands."""
    names = sorted(set(tf.COMMANDS) | set(tf.MGMT))
    return ("Usage:\n  talosctl [command]\n\nAvailable Commands:\n" + "".join(f"  {n}\n" for n in names if " " not in n)
            + "\nFlags:\n" + cobra.flag_usages([cobra.Flag("help", "h", "bool", False, "help for talosctl")]) + "\n")


def find_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """cobra Find(): the first positional (skipping global flags and their values), then a subcommand."""
    rest = list(argv)
    for index, token in enumerate(rest):
        if token == "--":
            return None, rest
        if token.startswith("-") or (index > 0 and rest[index - 1] in VALUE_FLAGS):
            continue
        command, rest = ALIASES.get(token, token), rest[:index] + rest[index + 1:]
        for sub_index, sub in enumerate(rest[index:], start=index):
            if sub.startswith("-") or (sub_index > index and rest[sub_index - 1] in VALUE_FLAGS):
                continue
            if sub in SUBCOMMANDS.get(command, ()):
                return f"{command} {sub}", rest[:sub_index] + rest[sub_index + 1:]
            break
        return command, rest
    return None, rest


def _flags_of(command: str) -> list:
    """The flags a command accepts (talos commands get the persistent globals)."""
    if command in tf.COMMANDS:
        return tf.GLOBAL + tf.COMMANDS[command]
    return tf.MGMT[command]


def run(typed: str, command: str | None, rest: list[str]) -> int:
    """Parse the flags of one talosctl invocation and run it; return the exit code."""
    if command is None:
        sys.stdout.write(_root_usage())
        return 0
    if command.split()[0] in UNSIMULATED:
        raise CliError(f'the simulated talosctl does not implement "{command}"')
    if command not in tf.COMMANDS and command not in tf.MGMT:
        raise CliError(cobra.unknown_command(typed, "talosctl", sorted(set(tf.COMMANDS) | set(tf.MGMT))))
    flags = cobra.parse(_flags_of(command) + [cobra.Flag("help", "h", "bool", False)], rest)
    sys.stderr.write("".join(flags.notices))
    if command in SUBCOMMANDS and flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl {command}"')  # cobra legacyArgs
    if flags["help"] or command in SUBCOMMANDS:
        sys.stdout.write(tf.usage(command))
        return 0
    handler = _handler(command.split()[0] if command.startswith("etcd ") else command)
    if command == "apply-config":
        handler(flags, typed)
    elif command.startswith("etcd "):
        handler(flags, command.split()[1])
    else:
        handler(flags)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: print errors like talosctl's root.go Execute and return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    command, rest = find_command(argv)
    typed = next((a for a in argv if not a.startswith("-") and ALIASES.get(a, a) == (command or "").split(" ")[0]),
                  command or "")
    try:
        return run(typed, command, rest)
    except cobra.UsageError as exc:
        return _fail(str(exc), command)
    except CliError as exc:
        if exc.suppressed:
            return 1
        return _fail(str(exc), command)
    finally:
        _kubelets_catch_up()


def _kubelets_catch_up() -> None:
    """The world moves on while any talosctl runs: kubelets of machines that came back from a reboot
    post their node status (tests/world/talos_kube.py resync_kubelets)."""
    import os
    from pathlib import Path
    world = os.environ.get("TALOS_WORLD_DIR")
    try:        # a cheap look first: most calls find no kubelet to resync
        pending = world and '"kubelet_resync": true' in (Path(world) / "talos.json").read_text()
    except OSError:
        pending = False
    if pending:
        from tests.world import talos_kube
        talos_kube.resync_kubelets(world)


def _fail(message: str, command: str | None) -> int:
    """Execute(): the error, then the usage for flag/argument/command errors; exit code 1."""
    sys.stderr.write(message + "\n")
    if any(word in message for word in ("arg(s)", "flag", "command")):
        known = command in tf.COMMANDS or command in tf.MGMT
        sys.stderr.write("\n" + (tf.usage(command) if known else _root_usage()) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
