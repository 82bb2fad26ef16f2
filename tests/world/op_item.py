"""`op item get | create | delete` of the simulated 1Password CLI (dispatched from tests/world/op.py).

Behaviour from the op CLI reference (developer.1password.com/docs/cli/reference/management-commands/item,
the `op item create --help` text quoted in /work/notes/op-flux-helm.md A1/A2):
- `op item create [ - ] [ <assignment>... ]`: "Pass the '-' character as the first argument" to read an
  item JSON template from standard input; "You can't use both piping and the '--template' flag in the
  same command"; assignments take precedence over the template; `--vault` "Default: Private";
  template keys title, category, fields[].{id,type,label,value} (docs/cli/item-template-json).
  op does not de-duplicate titles; this fake's state keys items by title, so it refuses a second item
  of the same title in a vault instead of silently merging (a limitation, said in the error).
- `op item get <item> [--vault V] [--format json] [--reveal]`: JSON shaped like the op item get
  output in 1Password/onepassword-sdk-js#114 (id, title, version, vault{id,name}, category,
  created_at, updated_at, fields[{id,type,label,value,reference}]). Concealed values are printed in
  JSON (third-party reports disagree whether op conceals them there: the fake assumes the worse case);
  the human-readable form conceals them with "[use 'op item get <id> --reveal' to reveal]".
- `op item delete <item> [--vault V] [--archive]`: removes the item, or moves it to the Archive.
- Errors: `"<item>" isn't an item in the "<vault>" vault. Specify ...` and `"<vault>" isn't a vault in
  this account. ...` (op.py TEXTS); "cannot create an item from template and stdin at the same time"
  and "invalid JSON in piped input" as third-party logs quote them (notes A1, UNVERIFIED officially).
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys
import time

from tests.world import fake_cobra as cobra
from tests.world import op
from tests.world.fake_cobra import Flag

VAULT = Flag("vault", help="Look for the item in this vault.")
FLAGS = {
    "get": [VAULT, Flag("reveal", kind="bool", default=False, help="Don't conceal sensitive fields."),
            Flag("fields", help="Return data from specific fields.")],
    "create": [VAULT, Flag("title", help="Set the item's title."), Flag("category", help="Set the item's category."),
               Flag("template", help="Specify the file path to read an item template from."),
               Flag("dry-run", kind="bool", default=False, help="Test the command and output a preview."),
               Flag("tags", help="Set the tags to the specified (comma-separated) values."),
               Flag("url", help="Set the URL associated with the item")],
    "delete": [VAULT, Flag("archive", kind="bool", default=False, help="Move the item to the Archive.")],
}
CONCEALED_HINT = "[use 'op item get {id} --reveal' to reveal]"
TEXTS = {
    "stdin_and_template": "cannot create an item from template and stdin at the same time",
    "bad_json": "invalid JSON in piped input",
    # Approximation: op needs a category from --category or the template.
    "no_category": "no category specified: use the --category flag or a template with a category",
    "duplicate": 'the simulated op keeps one item per title: "{title}" already exists in the "{vault}" vault',
}


def item_id(vault: str, title: str) -> str:
    """A stable 26-character lowercase id, like op's item UUIDs."""
    digest = hashlib.sha256(f"{vault}/{title}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:26]


def _vault(state: dict, name: str) -> tuple[str, dict]:
    vaults = state.setdefault("vaults", {})
    found = [v for v in vaults if v == name or v.lower() == name.lower()]
    if not found:
        raise op.OpError(op.TEXTS["no_vault"].format(vault=name))
    return found[0], vaults[found[0]]


def _find(items: dict, vault: str, name: str) -> str:
    """The title of the item named (title, case-insensitive, or id)."""
    for title in items:
        if name in (title, item_id(vault, title)) or title.lower() == name.lower():
            return title
    raise op.OpError(op.TEXTS["no_item"].format(item=name, vault=vault))


def as_json(vault: str, title: str, fields: dict) -> dict:
    """op item get --format json."""
    iid, stamp = item_id(vault, title), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"id": iid, "title": title, "version": 1, "vault": {"id": item_id(vault, ""), "name": vault},
            "category": "SECURE_NOTE", "created_at": stamp, "updated_at": stamp,
            "fields": [{"id": label, "type": "CONCEALED", "label": label, "value": value,
                        "reference": f"op://{vault}/{title}/{label}"}
                       for label, value in fields.items() if not isinstance(value, dict)]}


def _show(vault: str, title: str, fields: dict, flags) -> None:
    data = as_json(vault, title, fields)
    if flags["format"] == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    rows = [("ID", data["id"]), ("Title", title), ("Vault", f"{vault} ({data['vault']['id']})"),
            ("Category", data["category"])]
    text = "".join(f"{k + ':':<13}{v}\n" for k, v in rows) + "Fields:\n"
    hint = CONCEALED_HINT.format(id=data["id"])
    text += "".join(f"  {f['label']}:    {f['value'] if flags['reveal'] else hint}\n" for f in data["fields"])
    sys.stdout.write(text)


def _located(flags) -> tuple[dict, str, dict, str]:
    """(state, vault, its items, title) of the one item a get or delete names."""
    if len(flags.args) != 1:
        raise op.OpError(f"accepts 1 arg(s), received {len(flags.args)}")
    state = op.load_state()
    op.require_signed_in(state)
    vault, items = _vault(state, flags["vault"] or "Private")
    return state, vault, items, _find(items, vault, flags.args[0])


def _save(state: dict) -> None:
    op.write_state(op.world_dir(), signed_in=state.get("signed_in", False), vaults=state["vaults"],
                   **{k: v for k, v in state.items() if k not in ("signed_in", "vaults")})


def cmd_get(flags) -> None:
    _, vault, items, title = _located(flags)
    _show(vault, title, items[title], flags)


def _template(flags) -> dict:
    """The item template from stdin ('-') or --template, else empty."""
    piped = bool(flags.args) and flags.args[0] == "-"
    if piped and flags["template"]:
        raise op.OpError(TEXTS["stdin_and_template"])
    if not piped and not flags["template"]:
        return {}
    try:
        text = sys.stdin.read() if piped else open(flags["template"]).read()
        data = json.loads(text)
    except ValueError:
        raise op.OpError(TEXTS["bad_json"]) from None
    return data if isinstance(data, dict) else {}


def cmd_create(flags) -> None:
    template = _template(flags)
    state = op.load_state()
    op.require_signed_in(state)
    vault, items = _vault(state, flags["vault"] or "Private")
    title = flags["title"] or template.get("title") or "Untitled"
    if not (flags["category"] or template.get("category")):
        raise op.OpError(TEXTS["no_category"])
    fields = {f.get("label") or f.get("id"): str(f.get("value", "")) for f in template.get("fields") or []}
    for assignment in (a for a in flags.args if a != "-"):
        name, _, value = assignment.partition("=")
        fields[name.split("[", 1)[0]] = value
    if any(t.lower() == title.lower() for t in items):
        raise op.OpError(TEXTS["duplicate"].format(title=title, vault=vault))
    if not flags["dry-run"]:
        items[title] = fields
        _save(state)
    _show(vault, title, fields, flags)


def cmd_delete(flags) -> None:
    state, vault, items, title = _located(flags)
    fields = items.pop(title)
    if flags["archive"]:
        state.setdefault("archive", {}).setdefault(vault, {})[title] = fields
    _save(state)


HANDLERS = {"get": cmd_get, "create": cmd_create, "delete": cmd_delete}


def run(rest: list[str]) -> int:
    """op item <subcommand> ...: parse with the global flags and the subcommand's own."""
    sub, args = op._command(rest)
    if sub is None or sub not in HANDLERS:
        raise op.OpError(f'the simulated op does not implement "item {sub or ""}"'.rstrip())
    flags = cobra.parse(op.GLOBAL_FLAGS + FLAGS[sub], args)
    HANDLERS[sub](flags)
    return 0
