"""1Password in memory: the op:// references of a rendered YAML file resolved with one `op inject`
and put back into the parsed documents as values, byte for byte, whatever they hold (`&`, `!`, `#`,
quotes, `yes`, `0x1F`, newlines): `op inject` pastes values raw into its template, so the tool never
lets it write YAML. The resolved text is never written to disk or logged; an op failure comes back as
its own message and nothing else runs."""
from __future__ import annotations

import base64
import binascii
import re
import secrets
from pathlib import Path

import yaml

from .. import paths
from ..yamlio import dump_all, load_all
from .gateway import run

# A whole-value reference in the forms op accepts (developer.1password.com/docs/cli/secrets-reference-syntax):
# op://<vault>/<item>[/<section>]/<field>, names of alphanumerics, `-`, `_`, `.` and spaces, an optional
# query (`?attribute=otp`, `?ssh-format=openssh`), bare or enclosed in `{{ }}`. The tool hands each one to
# `op inject` enclosed (resolve), where spaces and queries are allowed.
_NAME = r"[A-Za-z0-9_.-]+(?: +[A-Za-z0-9_.-]+)*"
_QUERY = r"(?:\?[a-z-]+=[A-Za-z0-9_.-]+(?:&[a-z-]+=[A-Za-z0-9_.-]+)*)?"
_BARE = rf"op://{_NAME}/{_NAME}(?:/{_NAME}){{1,2}}{_QUERY}"
REFERENCE = re.compile(rf"^(?:{_BARE}|\{{\{{ *{_BARE} *\}}\}})$")


def bare(reference: str) -> str:
    """A reference without its `{{ }}`."""
    return reference.strip().removeprefix("{{").removesuffix("}}").strip()


def vault_of(reference: str) -> str:
    """The vault a reference points into."""
    return bare(reference)[len("op://"):].split("/")[0]


def resolve(references: list[str], what: str) -> tuple[dict[str, str] | None, str]:
    """Each reference's exact value from one `op inject`, or (None, op's message). Each value sits
    between markers of a random token, so no value can end another one early."""
    token = secrets.token_hex(16)
    template = "".join(f"{token}:{i}:<<{{{{ {ref} }}}}>>{token}:{i}\n" for i, ref in enumerate(references))
    result = run("op", ["inject"], stdin=template, timeout=60)
    if not result.ok:
        return None, f"op inject for {what} failed: {result.message()}"
    values = {}
    for i, ref in enumerate(references):
        start, end = f"{token}:{i}:<<", f">>{token}:{i}\n"
        head, found, rest = result.stdout.partition(start)
        value, closed, _ = rest.partition(end)
        if not found or not closed:
            return None, f"op inject for {what} returned an answer without the value of {ref}"
        values[ref] = value
    return values, ""


def _references(node: object, path: str, found: dict[str, list[str]]) -> None:
    """Every whole-value op:// reference under node, with the key paths where it appears."""
    if isinstance(node, dict):
        for key, value in node.items():
            _references(value, f"{path}.{key}" if path else str(key), found)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _references(value, f"{path}[{i}]", found)
    elif isinstance(node, str) and REFERENCE.match(node):
        found.setdefault(node, []).append(path)


def _substitute(node: object, values: dict[str, str]) -> object:
    """The documents with every reference replaced by its value."""
    if isinstance(node, dict):
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, values) for value in node]
    return values.get(node, node) if isinstance(node, str) else node


def _not_base64(documents: list, values: dict[str, str], shown: str) -> str | None:
    """A Secret's `data:` must hold base64: a reference that resolved to anything else is named
    (never its value)."""
    for i, doc in enumerate(documents):
        if not (isinstance(doc, dict) and doc.get("kind") == "Secret" and isinstance(doc.get("data"), dict)):
            continue
        for key, ref in doc["data"].items():
            if ref in values:
                try:
                    base64.b64decode(values[ref], validate=True)
                except (binascii.Error, ValueError):
                    return (f"{shown}: documents[{i}].data.{key}: {ref} must hold base64 (data: takes encoded "
                            "bytes); store the value base64-encoded in 1Password or use stringData (value not shown)")
    return None


def inject_documents(path: Path) -> tuple[str | None, str]:
    """The rendered YAML file at path with its references resolved, as YAML text, or (None, why)."""
    shown = paths.rel(path)
    try:
        documents = load_all(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{shown} is missing (run `doit render` first)"
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        return None, f"{shown} cannot be read as YAML: {getattr(err, 'problem', None) or err}"
    found: dict[str, list[str]] = {}
    for i, doc in enumerate(documents):
        _references(doc, f"documents[{i}]", found)
    if not found:
        return dump_all(documents), ""
    values, error = resolve(list(dict.fromkeys(map(bare, found))), shown)
    if values is None:
        return None, error
    values = {written: values[bare(written)] for written in found}
    error = _not_base64(documents, values, shown)
    if error:
        return None, error
    return dump_all([_substitute(doc, values) for doc in documents]), ""
