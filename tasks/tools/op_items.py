"""1Password items through `op item` (op v2): whether one exists and which field labels it has
(never its values), creating one from a JSON item template on stdin, archiving one.

Sources: the op CLI reference (developer.1password.com/docs/cli/reference/management-commands/item):
`op item create [ - ] [ <assignment>... ]` reads "an item JSON template" from standard input when
'-' is the first argument, and "Command arguments ... can be visible to other processes on your
machine. If you're assigning sensitive values, use a JSON template instead"; template keys `title`,
`category`, `fields[].{id,type,label,value}` (docs/cli/item-template-json), `CONCEALED` is the
template type of a password field (docs/cli/item-fields); `op item delete --archive` moves an item
to the Archive. An item that does not exist: `"<item>" isn't an item in the "<vault>" vault.`"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .gateway import run

# op's error texts (see the module docstring) that mean "not there" rather than "op failed".
NO_ITEM = "isn't an item in the"
NO_VAULT = "isn't a vault in this account"


@dataclass(frozen=True)
class Item:
    """What `op item get` told about one item: its id and field labels, or why not (values are dropped)."""

    vault: str
    title: str
    id: str = ""
    labels: frozenset[str] = frozenset()
    missing: str = ""           # "item" or "vault" when op says it is not there
    error: str = ""             # op's own message otherwise

    @property
    def exists(self) -> bool:
        return not (self.missing or self.error)


def signed_in() -> tuple[bool, str]:
    """Whether op has an account to work with (`op whoami`), else op's message."""
    result = run("op", ["whoami"], timeout=30)
    return result.ok, "" if result.ok else result.message()


def get_item(vault: str, title: str) -> Item:
    """The item's id and field labels from `op item get --format json`; its values never leave here."""
    result = run("op", ["item", "get", title, "--vault", vault, "--format", "json"], timeout=60)
    if not result.ok:
        message = result.message()
        missing = "vault" if NO_VAULT in message else "item" if NO_ITEM in message else ""
        return Item(vault, title, missing=missing, error="" if missing else message)
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return Item(vault, title, error="op item get answered with something that is not JSON")
    fields = data.get("fields") if isinstance(data, dict) else None
    labels = frozenset(f.get("label") for f in fields or [] if isinstance(f, dict) and f.get("label"))
    return Item(vault, title, id=str(data.get("id") or ""), labels=labels)


def item_template(title: str, fields: dict[str, str]) -> str:
    """An item JSON template: a Secure Note with one concealed field per label."""
    return json.dumps({"title": title, "category": "SECURE_NOTE",
                       "fields": [{"id": label, "type": "CONCEALED", "label": label, "value": value}
                                  for label, value in fields.items()]})


def create_item(vault: str, title: str, fields: dict[str, str]) -> str | None:
    """Create the item from a template on stdin (a pipe: values never in argv); op's message on failure.
    op's answer repeats the values, so it is dropped unread."""
    result = run("op", ["item", "create", "--vault", vault, "--format", "json", "-"],
                 stdin=item_template(title, fields), timeout=60)
    return None if result.ok else result.message()


def archive_item(vault: str, item_id: str) -> str | None:
    """Move an item (by id) to 1Password's Archive, where it can be restored; op's message on failure."""
    result = run("op", ["item", "delete", item_id, "--vault", vault, "--archive"], timeout=60)
    return None if result.ok else result.message()
