"""Problems: failures returned as values, each naming the file, the key path, what was expected
and what was found, and printed together so the user fixes everything in one pass."""
from __future__ import annotations

from dataclasses import dataclass


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


class InputError(Exception):
    """Raised at the edge (a doit action) to stop the run with every problem listed."""

    def __init__(self, problems: list[Problem], heading: str = "invalid input"):
        self.problems = list(problems)
        super().__init__(format_problems(self.problems, heading))


def format_problems(problems: list[Problem], heading: str) -> str:
    """Render problems as one message: a count, then one entry per problem."""
    lines = [f"{heading}: {len(problems)} problem(s); nothing was written or applied"]
    lines += [f"  - {p}" for p in problems]
    return "\n".join(lines)


def describe(value: object) -> str:
    """Describe a found value with its YAML type, the way users read their files."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string",
             list: "list", dict: "mapping", type(None): "null"}
    kind = names.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)):
        return f"a {kind}"
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return f"{kind} {text}"
