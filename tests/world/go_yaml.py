"""YAML as Talos' Go code reads and writes it (go.yaml.in/yaml/v4, which keeps yaml.v3's encoder).

Writing (`dump`) follows yaml.v3 encode.go stringv() and emitterc.go with an indent of 4 (v4
DefaultOptions): block style; mapping children and sequences at the next multiple of 4
(yaml_emitter_increase_indent: "Everything else aligns to the chosen indentation"), mappings in a
sequence item 2 past the "- " ("The first indent inside a sequence will just skip the indicator");
plain scalars unless they would resolve to another type (then double-quoted) or the emitter
cannot write them plain (then single-quoted); multi-line strings as literal blocks; nil slices
as `[]`, empty maps as `{}`. Reading (`load_all`) resolves scalars like yaml.v3 resolve.go
(YAML 1.2 core: only true/false are booleans, no sexagesimal numbers, timestamps stay strings).
"""
from __future__ import annotations

import re

import yaml

INDENT = 4
# yaml.v3 resolve.go resolveMap entries that are not strings, and encode.go isOldBool().
_SPECIAL = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
            ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
            "-.INF", "<<", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO",
            "off", "Off", "OFF"}
_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")  # encode.go isBase60Float
_TIMESTAMP = re.compile(r"^\d{4}-\d\d?-\d\d?([Tt ]|$)")                     # resolve.go parseTimestamp
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"


class Raw(str):
    """A scalar yaml.Node without a tag (cosi Metadata.MarshalYAML): always written plain."""


def _resolves_to_other_type(text: str) -> bool:
    """yaml.v3 stringv(): a plain scalar that would not read back as this string."""
    return (text in _SPECIAL or bool(_INT.match(text) or _FLOAT.match(text) or _BASE60.match(text))
            or bool(_TIMESTAMP.match(text)))


def _plain_allowed(text: str) -> bool:
    """emitterc.go yaml_emitter_analyze_scalar(), block context, the cases a plain scalar fails."""
    if text[0] in _INDICATORS and not (text[0] in "-?:" and len(text) > 1 and text[1] not in " \t"):
        return False
    if text[0] in " \t" or text[-1] in " \t:" or ": " in text or " #" in text or "\t" in text:
        return False
    return all(ch.isprintable() for ch in text)


def _double_quoted(text: str) -> str:
    """A double-quoted scalar with yaml's escapes."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"' + "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in out) + '"'


def scalar(value) -> str:
    """One scalar as yaml.v3 writes a Go value of that type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if isinstance(value, Raw):
        return text
    if _resolves_to_other_type(text) or not all(ch.isprintable() or ch == "\n" for ch in text):
        return _double_quoted(text)
    if _plain_allowed(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _next_level(indent: int) -> int:
    """emitterc.go yaml_emitter_increase_indent: the next multiple of the indent."""
    return INDENT * ((indent + INDENT) // INDENT) if indent >= 0 else 0


def _literal(text: str, indent: int) -> list[str]:
    """A literal block scalar: header with chomping indicator, then the lines."""
    chomp = "-" if not text.endswith("\n") else ("+" if text.endswith("\n\n") else "")
    hint = str(INDENT) if text[:1] in " \n" else ""
    pad = " " * _next_level(indent)
    body = text[:-1] if text.endswith("\n") else text
    return [f"|{hint}{chomp}"] + [(pad + line) if line else "" for line in body.split("\n")]


def _value_lines(value, indent: int) -> tuple[str, list[str]]:
    """(text after "key:" on the same line, following lines) for a mapping value."""
    if isinstance(value, dict):
        return (" {}", []) if not value else ("", _mapping(value, _next_level(indent)))
    if isinstance(value, list):
        return (" []", []) if not value else ("", _sequence(value, _next_level(indent)))
    if isinstance(value, str) and "\n" in value and all(ch.isprintable() or ch == "\n" for ch in value):
        head, *rest = _literal(value, indent)
        return " " + head, rest
    text = scalar(value)
    return (" " + text if text else ""), []


def _mapping(data: dict, indent: int, inline_first: bool = False) -> list[str]:
    """Block mapping lines at `indent` (the first key may follow a "- " on the same line)."""
    lines = []
    for index, (key, value) in enumerate(data.items()):
        same, more = _value_lines(value, indent)
        prefix = "" if inline_first and index == 0 else " " * indent
        lines.append(f"{prefix}{scalar(key)}:{same}")
        lines += more
    return lines


def _sequence(items: list, indent: int) -> list[str]:
    """Block sequence lines at `indent`."""
    lines = []
    for item in items:
        if isinstance(item, dict) and item:
            first, *rest = _mapping(item, indent + 2, inline_first=True)
            lines += [" " * indent + "- " + first] + rest
        elif isinstance(item, list) and item:
            first, *rest = _sequence(item, indent + 2)
            lines += [" " * indent + "- " + first.lstrip()] + rest
        else:
            same, more = _value_lines(item, indent)
            lines += [" " * indent + "-" + same] + more
    return lines


def dump(data) -> str:
    """One document, as yaml.Marshal writes it."""
    if isinstance(data, dict):
        return "".join(line + "\n" for line in _mapping(data, 0)) if data else "{}\n"
    if isinstance(data, list):
        return "".join(line + "\n" for line in _sequence(data, 0)) if data else "[]\n"
    same, more = _value_lines(data, -INDENT)
    return "".join(line + "\n" for line in [same.lstrip()] + more)


class _Loader(yaml.SafeLoader):
    """SafeLoader with yaml.v3's scalar resolution (YAML 1.2 core schema)."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:int", r"^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*)$",
         list("-+0123456789")),
        ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+0123456789.")),
        ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"])):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_int(loader, node):
    """Go strconv.ParseInt(s, 0, 64): 0x, 0o, 0b prefixes, a leading 0 is octal, underscores allowed."""
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if len(text) > 1 and text[0] == "0" and text[1].isdigit():
        return sign * int(text, 8)
    return sign * int(text, 0)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_all(text: str) -> list:
    """Every document of a multi-document YAML text (PyYAML errors propagate)."""
    return list(yaml.load_all(text, Loader=_Loader))


def load(text: str):
    """The first document (None when empty)."""
    docs = load_all(text)
    return docs[0] if docs else None
