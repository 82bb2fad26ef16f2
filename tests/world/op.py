"""Fake 1Password CLI `op` for the simulated world: `python3 -m tests.world.op ARGS`.

State: $OP_WORLD_DIR (else $TALOS_WORLD_DIR)/op.json =
{"signed_in": bool, "account": {...optional whoami fields...},
 "vaults": {"VAULT": {"ITEM": {"FIELD": "value", "SECTION": {"FIELD": "value"}}}}}
OP_SERVICE_ACCOUNT_TOKEN in the environment counts as signed in (as a service account).

Every error goes to stderr as "[ERROR] YYYY/MM/DD HH:MM:SS <message>" (UTC), exit code 1
(op prints cobra errors the same way: "[ERROR] 2022/06/22 12:58:41 unknown command "list" for "op"",
cdhunt/SecretManagement.1Password#23).
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from tests.world import fake_cobra as cobra
from tests.world.fake_cobra import Flag

VERSION = "2.32.0"
STATE_FILE = "op.json"

TEXTS = {
    # FIELD-NOTES (op): the not-signed-in error.
    "not_signed_in": "You are not currently signed in. Please run `op signin --help` for instructions",
    # "[ERROR] ... "Personal" isn't a vault in this account" (several public op users' logs);
    # the trailing hint as printed by op 2.x item/vault commands.
    "no_vault": '"{vault}" isn\'t a vault in this account. Specify the vault with its ID or name.',
    # ""axle" isn't an item in the "Employee" vault. Specify the item with its UUID, name, or domain."
    "no_item": '"{item}" isn\'t an item in the "{vault}" vault. Specify the item with its UUID, name, or domain.',
    # "[ERROR] … item '…' does not have a field '…'" (op 2.x read/inject on a wrong field label).
    "no_field": "item '{vault}/{item}' does not have a field '{field}'",
    # Approximation for a wrong section (same shape as the field error).
    "no_section": "item '{vault}/{item}' does not have a section '{section}'",
    # `op read` wraps resolution errors: "could not read secret 'op://Private/x/credential': ..."
    # (chezmoi user log quoting op 2.x).
    "read": "could not read secret '{ref}': {error}",
    # Approximation of op's reference syntax error.
    "bad_ref": "invalid secret reference '{ref}': a secret reference must look like op://<vault>/<item>[/<section>]/<field>",
    # Approximation: op refuses to overwrite an output file without --force when not interactive.
    "exists": "file \"{path}\" already exists; use --force to overwrite it",
}

GLOBAL_FLAGS = [
    Flag("account", help="Select the account to execute the command by account shorthand, sign-in address, account ID, or user ID."),
    Flag("cache", kind="bool", default=True, help="Store and use cached information."),
    Flag("config", help="Use this configuration directory."),
    Flag("debug", kind="bool", default=False, help="Enable debug mode."),
    Flag("encoding", help="Use this character encoding type."),
    Flag("format", default="human-readable", help="Use this output format."),
    Flag("iso-timestamps", kind="bool", default=False, help="Format timestamps according to ISO 8601 / RFC 3339."),
    Flag("no-color", kind="bool", default=False, help="Print output without color."),
    Flag("session", help="Authenticate with this session token."),
    Flag("help", "h", "bool", False, "Get help for op."),
    Flag("version", "v", "bool", False, "version for op"),
]
FLAGS = {
    "whoami": [],
    "read": [Flag("no-newline", "n", "bool", False, "Do not print a new line after the secret."),
             Flag("out-file", "o", help="Write the secret to a file instead of stdout."),
             Flag("force", "f", "bool", False, "Do not prompt for confirmation."),
             Flag("file-mode", default="0600", help="Set filemode for the output file.")],
    "inject": [Flag("in-file", "i", help="The filename of a template file to inject."),
               Flag("out-file", "o", help="Write the injected template to a file instead of stdout."),
               Flag("force", "f", "bool", False, "Do not prompt for confirmation."),
               Flag("file-mode", default="0600", help="Set filemode for the output file.")],
}
UNSIMULATED = ("account", "connect", "document", "events-api", "group", "plugin", "run",
               "service-account", "signin", "signout", "update", "user", "vault", "completion", "environment")
# One pass over the template: the brace form (names may hold spaces) or a bare reference
# (stops at whitespace, quotes and braces). Secret values are never rescanned.
REFERENCE = re.compile(r"\{\{\s*(op://[^}]*?)\s*\}\}|(op://[^\s\"'{}<>|\\]+)")


class OpError(Exception):
    """An op failure: printed as [ERROR] <timestamp> <message>, exit 1."""


def world_dir() -> Path:
    """The directory holding op.json."""
    value = os.environ.get("OP_WORLD_DIR") or os.environ.get("TALOS_WORLD_DIR")
    if not value:
        raise OpError("OP_WORLD_DIR/TALOS_WORLD_DIR is not set (the simulated op needs a world directory)")
    return Path(value)


def load_state() -> dict:
    """Read op.json (empty, signed-out state when absent)."""
    try:
        return json.loads((world_dir() / STATE_FILE).read_text())
    except FileNotFoundError:
        return {"signed_in": False, "vaults": {}}


def write_state(world: Path, signed_in: bool = True, vaults: dict | None = None, **extra) -> Path:
    """World helper: write op.json."""
    path = Path(world) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"signed_in": signed_in, "vaults": vaults or {}, **extra}, indent=2) + "\n")
    return path


def require_signed_in(state: dict) -> None:
    """Fail unless signed in (state flag) or a service account token is present."""
    if not (state.get("signed_in") or os.environ.get("OP_SERVICE_ACCOUNT_TOKEN")):
        raise OpError(TEXTS["not_signed_in"])


def _lookup(mapping: dict, name: str):
    """Exact name, else a unique case-insensitive match."""
    if name in mapping:
        return mapping[name]
    found = [v for k, v in mapping.items() if k.lower() == name.lower()]
    return found[0] if len(found) == 1 else None


def split_ref(ref: str) -> tuple[str, str, str | None, str]:
    """op://vault/item[/section]/field[?query] -> (vault, item, section, field)."""
    parts = ref[len("op://"):].split("?", 1)[0].split("/") if ref.startswith("op://") else []
    if len(parts) not in (3, 4) or not all(parts):
        raise OpError(TEXTS["bad_ref"].format(ref=ref))
    return parts[0], parts[1], (parts[2] if len(parts) == 4 else None), parts[-1]


def resolve(state: dict, ref: str) -> str:
    """The secret a reference points to, or OpError with op's wording."""
    vault, item, section, field = split_ref(ref)
    items = _lookup(state.get("vaults") or {}, vault)
    if items is None:
        raise OpError(TEXTS["no_vault"].format(vault=vault))
    fields = _lookup(items, item)
    if fields is None:
        raise OpError(TEXTS["no_item"].format(item=item, vault=vault))
    names = dict(vault=vault, item=item, field=field, section=section)
    if section is not None:
        fields = _lookup({k: v for k, v in fields.items() if isinstance(v, dict)}, section)
        if fields is None:
            raise OpError(TEXTS["no_section"].format(**names))
    value = _find_field(fields, field)
    if value is None:
        raise OpError(TEXTS["no_field"].format(**names))
    return str(value)


def _find_field(fields: dict, field: str):
    """A top-level field, else the field inside any section."""
    value = _lookup({k: v for k, v in fields.items() if not isinstance(v, dict)}, field)
    if value is not None:
        return value
    for section in (v for v in fields.values() if isinstance(v, dict)):
        value = _lookup(section, field)
        if value is not None:
            return value
    return None


def inject(state: dict, template: str) -> str:
    """Replace every {{ op://... }} and bare op://... reference; any failure aborts."""
    return REFERENCE.sub(lambda m: resolve(state, (m.group(1) or m.group(2)).strip()), template)


def _write_out(path: str, data: str, force: bool, mode: str) -> None:
    """Write an output file (refusing to overwrite without --force)."""
    target = Path(path)
    if target.exists() and not force:
        raise OpError(TEXTS["exists"].format(path=path))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(mode, 8))
    with os.fdopen(fd, "w") as handle:
        handle.write(data)
    os.chmod(target, int(mode, 8))


def cmd_whoami(flags) -> None:
    """op whoami: account details (service account shape when OP_SERVICE_ACCOUNT_TOKEN is set)."""
    state = load_state()
    require_signed_in(state)
    account = state.get("account") or {}
    url = account.get("url", "https://my.1password.com")
    if os.environ.get("OP_SERVICE_ACCOUNT_TOKEN"):
        rows = [("URL", url), ("Integration ID", account.get("integration_id", "WORLDSERVICEACCT0000000000")),
                ("User Type", "SERVICE_ACCOUNT")]
    else:
        rows = [("URL", url), ("Email", account.get("email", "admin@example.com")),
                ("User ID", account.get("user_id", "WORLDUSER00000000000000000")), ("User Type", "HUMAN")]
    width = max(len(k) for k, _ in rows) + 5
    sys.stdout.write("".join(f"{(k + ':').ljust(width)}{v}\n" for k, v in rows))


def cmd_read(flags) -> None:
    """op read REFERENCE [-n] [-o FILE]."""
    if len(flags.args) != 1:
        raise OpError(f"accepts 1 arg(s), received {len(flags.args)}")
    state = load_state()
    require_signed_in(state)
    ref = flags.args[0]
    try:
        value = resolve(state, ref)
    except OpError as exc:
        raise OpError(TEXTS["read"].format(ref=ref, error=exc)) from None
    text = value if flags["no-newline"] else value + "\n"
    if flags["out-file"]:
        _write_out(flags["out-file"], text, flags["force"], flags["file-mode"])
        sys.stdout.write(str(Path(flags["out-file"]).resolve()) + "\n")
        return
    sys.stdout.write(text)


def cmd_inject(flags) -> None:
    """op inject [-i IN] [-o OUT] [-f]: nothing is printed or written when any reference fails."""
    if flags.args:
        raise OpError(f'unknown command "{flags.args[0]}" for "op inject"')
    state = load_state()
    require_signed_in(state)
    try:
        template = Path(flags["in-file"]).read_text() if flags["in-file"] else sys.stdin.read()
    except OSError as exc:
        raise OpError(f"open {flags['in-file']}: {(exc.strerror or str(exc)).lower()}") from None
    result = inject(state, template)
    if flags["out-file"]:
        _write_out(flags["out-file"], result, flags["force"], flags["file-mode"])
        sys.stdout.write(str(Path(flags["out-file"]).resolve()) + "\n")
        return
    sys.stdout.write(result)


HANDLERS = {"whoami": cmd_whoami, "read": cmd_read, "inject": cmd_inject}


def _command(argv: list[str]) -> tuple[str | None, list[str]]:
    """The first positional of argv (op's global value flags are --flag=value or --flag value)."""
    value_flags = {"--account", "--config", "--encoding", "--format", "--session"}
    for index, token in enumerate(argv):
        if token == "--":
            return None, argv
        if token.startswith("-") or (index and argv[index - 1] in value_flags):
            continue
        return token, argv[:index] + argv[index + 1:]
    return None, argv


def _usage() -> str:
    """Condensed `op` usage."""
    return ("Usage:  op [command] [flags]\n\nCommands:\n  inject      Inject secrets into a config file\n"
            "  read        Read a secret reference\n  whoami      Get information about a signed-in account\n")


def run(argv: list[str]) -> int:
    """Dispatch one op invocation; return the exit code."""
    command, rest = _command(argv)
    if command is None:
        flags = cobra.parse(GLOBAL_FLAGS, rest)
        sys.stdout.write(f"{VERSION}\n" if flags["version"] else _usage())
        return 0
    if command == "item":        # op item get | create | delete: tests/world/op_item.py
        from tests.world import op_item
        return op_item.run(rest)
    if command in UNSIMULATED:
        raise OpError(f'the simulated op does not implement "{command}"')
    if command not in HANDLERS:
        raise OpError(cobra.unknown_command(command, "op", sorted(HANDLERS)).rstrip("\n") + "\n" + _usage())
    flags = cobra.parse(GLOBAL_FLAGS + FLAGS[command], rest)
    if flags["help"]:
        sys.stdout.write(_usage())
        return 0
    HANDLERS[command](flags)
    return 0


def error_line(message: str) -> str:
    """op's error format: [ERROR] YYYY/MM/DD HH:MM:SS message (UTC)."""
    return f"[ERROR] {time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime())} {message}\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point: errors on stderr in op's format, exit 1."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return run(argv)
    except (OpError, cobra.UsageError) as exc:
        sys.stderr.write(error_line(str(exc)))
        return 1


if __name__ == "__main__":
    sys.exit(main())
