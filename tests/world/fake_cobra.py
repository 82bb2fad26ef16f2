"""A tiny spf13/pflag-compatible flag parser shared by the fake CLIs (talosctl, op).

Error strings are pflag's own (github.com/spf13/pflag flag.go: "unknown flag: --%s",
"unknown shorthand flag: %q in -%s", "flag needs an argument: %s",
"invalid argument %q for %q flag: %v") and cobra's (command.go: "unknown command %q for %q",
args.go: "accepts at most %d arg(s), received %d").
"""
from __future__ import annotations

from dataclasses import dataclass, field

# strconv.ParseBool accepted spellings (Go src/strconv/atob.go).
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
# Go time.ParseDuration units (src/time/format.go).
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class UsageError(Exception):
    """A flag/argument error: cobra-based CLIs print the usage after it."""


@dataclass(frozen=True)
class Flag:
    """One flag: kind is string|bool|slice|array|duration|int|choice|enum. `deprecated` is
    MarkDeprecated's message (the flag is hidden and using it prints a notice)."""

    name: str
    short: str = ""
    kind: str = "string"
    default: object = None
    help: str = ""
    choices: tuple = ()
    hidden: bool = False
    deprecated: str = ""


@dataclass
class Parsed:
    """Parse result: flag values by name, positionals, the names explicitly set, and pflag's
    deprecation notices (cobra prints them to stderr when parsing succeeded)."""

    values: dict
    args: list
    changed: set = field(default_factory=set)
    notices: list = field(default_factory=list)

    def __getitem__(self, name):
        """Return the value of flag `name`."""
        return self.values[name]


def parse_bool(text: str) -> bool:
    """Parse like strconv.ParseBool."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def parse_duration(text: str) -> float:
    """Parse a Go duration ("1m30s", "500ms", "0") into seconds."""
    if text in ("0", "+0", "-0"):
        return 0.0
    rest, total, sign = text, 0.0, 1.0
    if rest[:1] in "+-" and rest:
        sign, rest = (-1.0 if rest[0] == "-" else 1.0), rest[1:]
    if not rest:
        raise ValueError(f'time: invalid duration "{text}"')
    while rest:
        num = ""
        while rest and (rest[0].isdigit() or rest[0] == "."):
            num, rest = num + rest[0], rest[1:]
        unit = ""
        while rest and not (rest[0].isdigit() or rest[0] == "."):
            unit, rest = unit + rest[0], rest[1:]
        if not num or num == "." or unit not in _UNITS:
            if num and not unit:
                raise ValueError(f'time: missing unit in duration "{text}"')
            raise ValueError(f'time: invalid duration "{text}"')
        total += float(num) * _UNITS[unit]
    return sign * total


def go_duration(seconds: float) -> str:
    """Format seconds like Go's time.Duration.String() rounded to a second."""
    secs = int(round(seconds))
    if secs == 0:
        return "0s"
    hours, rem = divmod(secs, 3600)
    minutes, sec = divmod(rem, 60)
    out = f"{hours}h" if hours else ""
    out += f"{minutes}m" if (hours or minutes) else ""
    return out + f"{sec}s"


def _flag_label(flag: Flag) -> str:
    """pflag's name in errors: "-f, --file" or "--file"."""
    return f"-{flag.short}, --{flag.name}" if flag.short else f"--{flag.name}"


def _convert(flag: Flag, raw: str):
    """Convert a raw string for `flag` or raise UsageError with pflag's text."""
    try:
        if flag.kind == "bool":
            return parse_bool(raw)
        if flag.kind == "duration":
            return parse_duration(raw)
        if flag.kind == "int":
            return int(raw)
        if flag.kind == "choice" and raw not in flag.choices:
            raise ValueError("possible options are: " + ", ".join(sorted(flag.choices)))
        if flag.kind == "enum":
            if raw.lower() not in flag.choices:
                raise ValueError(f"must be one of [{' '.join(sorted(flag.choices))}]")  # pkg/flags protoEnumValue.Set
            return raw.lower()
        return raw
    except ValueError as exc:
        raise UsageError(f'invalid argument "{raw}" for "{_flag_label(flag)}" flag: {exc}') from None


def _set(parsed: Parsed, flag: Flag, raw: str) -> None:
    """Store a value, appending for slices/arrays (pflag StringSlice/StringArray semantics)."""
    value = _convert(flag, raw)
    if flag.kind in ("slice", "array"):
        items = ([v for v in raw.split(",")] if raw else []) if flag.kind == "slice" else [raw]
        old = parsed.values[flag.name] if flag.name in parsed.changed else []
        value = list(old) + items
    parsed.values[flag.name] = value
    parsed.changed.add(flag.name)
    if flag.deprecated:
        parsed.notices.append(f"Flag --{flag.name} has been deprecated, {flag.deprecated}\n")  # pflag flag.go Set()


def _long(parsed: Parsed, by_name: dict, token: str, rest: list) -> None:
    """Handle a --long or --long=value token."""
    name, eq, raw = token[2:].partition("=")
    flag = by_name.get(name)
    if flag is None:
        raise UsageError(f"unknown flag: --{name}")
    if eq:
        _set(parsed, flag, raw)
    elif flag.kind == "bool":
        _set(parsed, flag, "true")
    elif rest:
        _set(parsed, flag, rest.pop(0))
    else:
        raise UsageError(f"flag needs an argument: --{name}")


def _short(parsed: Parsed, by_short: dict, token: str, rest: list) -> None:
    """Handle -x, -xvalue, -x=value, -x value and bundled booleans -ab."""
    chars = token[1:]
    while chars:
        char, chars = chars[0], chars[1:]
        flag = by_short.get(char)
        if flag is None:
            raise UsageError(f"unknown shorthand flag: '{char}' in {token}")
        if flag.kind == "bool":
            if chars.startswith("="):
                _set(parsed, flag, chars[1:])
                return
            _set(parsed, flag, "true")
            continue
        if chars:
            _set(parsed, flag, chars[1:] if chars.startswith("=") else chars)
        elif rest:
            _set(parsed, flag, rest.pop(0))
        else:
            raise UsageError(f"flag needs an argument: '{char}' in -{char}")
        return


def parse(flags: list[Flag], argv: list[str]) -> Parsed:
    """Parse argv (interspersed flags and positionals) against `flags`."""
    parsed = Parsed(values={f.name: (list(f.default) if f.kind in ("slice", "array") and f.default else f.default)
                            for f in flags}, args=[])
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "--":
            parsed.args.extend(rest)
            break
        if token.startswith("--"):
            _long(parsed, by_name, token, rest)
        elif token.startswith("-") and len(token) > 1:
            _short(parsed, by_short, token, rest)
        else:
            parsed.args.append(token)
    return parsed


def flag_usages(flags: list[Flag]) -> str:
    """Render a pflag-like flag listing."""
    rows = []
    for f in flags:
        if f.hidden or f.deprecated:
            continue
        head = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        typ = {"string": " string", "slice": " strings", "array": " stringArray", "duration": " duration",
               "int": " int", "enum": " string", "choice": " " + ", ".join(sorted(f.choices))}.get(f.kind, "")
        rows.append((head + typ, f.help))
    width = max((len(r[0]) for r in rows), default=0) + 3
    return "\n".join(f"{left.ljust(width)}{text}".rstrip() for left, text in rows)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (cobra's suggestion metric, command.go ld())."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggestions(typed: str, names: list[str]) -> list[str]:
    """Cobra's "Did you mean this?" candidates (distance <= 2 or prefix)."""
    return [n for n in names if levenshtein(typed.lower(), n.lower()) <= 2 or n.startswith(typed)]


def unknown_command(typed: str, root: str, names: list[str]) -> str:
    """Cobra's unknown-command error text, with suggestions."""
    msg = f'unknown command "{typed}" for "{root}"'
    hints = suggestions(typed, names)
    if hints:
        msg += "\n\nDid you mean this?\n" + "".join(f"\t{h}\n" for h in hints)
    return msg
