"""Problems: failures returned as values, each naming the file, the key path, what was expected
and what was found, and printed together so the user fixes everything in one pass.

One vocabulary for all of them: key paths look like `spec.blocks[0].start` (odd keys quoted:
`metadata.labels["app.kubernetes.io/name"]`) and types are named the way a YAML file's reader
names them (mapping, list, string, integer, number, boolean, null)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input or a rendered artifact."""

    file: str
    path: str
    expected: str
    found: str
    line: int | None = None
    rule: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rule = f"[{self.rule}] " if self.rule else ""
        key = self.path or "(document)"
        text = f"{where}: {rule}{key}: expected {self.expected}, found {self.found}"
        return f"{text}\n    fix: {self.hint}" if self.hint else text


@dataclass
class Findings:
    """What a check found: problems fail the run, warnings are shown and the run goes on;
    `checked` counts what was checked, `unchecked` names what could not be (and why), `unfetched`
    says which upstream schemas could not be had (offline): shown folded, and `doit check` reruns."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0
    unchecked: list[str] = field(default_factory=list)
    unfetched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def merge(self, other: "Findings") -> "Findings":
        """Add another check's findings to these; returns self."""
        self.problems += other.problems
        self.warnings += other.warnings
        self.checked += other.checked
        self.unchecked += [u for u in other.unchecked if u not in self.unchecked]
        self.unfetched += [u for u in other.unfetched if u not in self.unfetched]
        return self


# A finding repeated more than this often (same rule, key path and expectation, in other files or
# documents) is shown once, then counted.
GROUP_AFTER = 5
FILES_NAMED = 3


def _named(files: list[str]) -> str:
    """The first few files, and how many more."""
    files = list(dict.fromkeys(files))
    more = len(files) - FILES_NAMED
    return ", ".join(files[:FILES_NAMED]) + (f" and {more} more file(s)" if more > 0 else "")


def format_problems(problems: list[Problem], heading: str) -> str:
    """Render problems as one message: a count, then one entry per problem; a finding repeated more
    than GROUP_AFTER times (same rule, key path and expectation) is shown once, then counted with its files."""
    groups: dict = {}
    for p in problems:
        key = (p.rule, re.sub(r"\[\d+\]", "[]", p.path), p.expected) if p.rule else id(p)
        groups.setdefault(key, []).append(p)
    lines = [f"{heading}: {len(problems)} problem(s); nothing was written or applied"]
    for group in groups.values():
        shown = group if len(group) <= GROUP_AFTER else group[:1]
        lines += [f"  - {p}" for p in shown]
        if len(group) > len(shown):
            lines.append(f"  - [{group[0].rule}] {len(group) - 1} more like the one above ({len(group)} in all), "
                         f"in {_named([p.file for p in group[1:]])}")
    return "\n".join(lines)


def group_warnings(warnings: list[str]) -> list[str]:
    """Warnings that say the same thing about more than GROUP_AFTER files ("<file>: <text>"), as one."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for warning in dict.fromkeys(warnings):
        file, sep, text = warning.partition(": ")
        key = text if sep and " " not in file else warning
        groups.setdefault(key, []).append((file, warning))
    out = []
    for text, items in groups.items():
        if len(items) > GROUP_AFTER:
            out.append(f"{len(items)} files: {text} ({_named([f for f, _ in items])})")
        else:
            out += [warning for _, warning in items]
    return out


_PLAIN_KEY = re.compile(r"^[A-Za-z_$][\w$-]*$")


def key_path(parts) -> str:
    """`machine.install.disk`, `spec.blocks[0].cidr`, `metadata.labels["app.kubernetes.io/name"]`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += ("." if out else "") + str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def child_path(parent: str, key) -> str:
    """The key path of one key (or list index) below `parent`."""
    plain = isinstance(key, str) and _PLAIN_KEY.match(key)
    return parent + ("." if parent and plain else "") + key_path([key])


# JSON Schema type names -> the words a YAML file's reader uses.
TYPE_WORDS = {"object": "mapping", "array": "list", "string": "string", "integer": "integer",
              "number": "number", "boolean": "boolean", "null": "null"}


def type_name(value: object) -> str:
    """The YAML type name of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, words in ((int, "integer"), (float, "number"), (str, "string"), (dict, "mapping"),
                        ((list, tuple), "list")):
        if isinstance(value, kind):
            return words
    return type(value).__name__


def a_type(schema_type: str) -> str:
    """`a mapping`, `an integer`: a JSON Schema type in the reader's words, with its article."""
    word = TYPE_WORDS.get(schema_type, schema_type)
    return ("an " if word[0] in "aeiou" else "a ") + word


def describe(value: object) -> str:
    """A found value with its type, the way users read their files: `string 'no'`, `a mapping`."""
    kind = type_name(value)
    if value is None:
        return "null"
    if isinstance(value, (dict, list, tuple)):
        return f"a {kind}"
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return f"{kind} {text}"


@dataclass(frozen=True)
class Line:
    """One line of a preflight (`doit doctor`): ok, note (shown, not a failure) or problem, what was
    checked, what was found, and for a problem the fix."""

    status: str
    subject: str
    detail: str
    fix: str = ""

    @property
    def problem(self) -> bool:
        return self.status == "problem"

    def __str__(self) -> str:
        text = f"{self.status:<8} {self.subject}: {self.detail}"
        return f"{text}; fix: {self.fix}" if self.fix else text
