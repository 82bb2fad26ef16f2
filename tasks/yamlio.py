"""YAML in and out: a strict loader that remembers where each key is, and a deterministic dumper.
The loader follows YAML 1.2 booleans (PyYAML's YAML 1.1 turns `off`, `no`, `on` into booleans: Talos'
`auto: off`, a country code `NO`) and rejects duplicate keys (PyYAML silently keeps the last)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Problem, child_path


# The C parser when PyYAML has it (several times faster); the constructors stay Python.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BASE_LOADER):
    """SafeLoader with YAML 1.2 booleans and duplicate-key errors."""


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """Build a mapping, refusing a key that appears twice."""
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_int(loader: StrictLoader, node: yaml.ScalarNode) -> int:
    """An integer, or a YAML error at its line when Python refuses to read one that long."""
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(node.value)} characters, more "
                                                "than can be read", node.start_mark) from None


StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class PyStrictLoader(yaml.SafeLoader):
    """StrictLoader on the pure-Python parser, used to word syntax errors."""


PyStrictLoader.yaml_implicit_resolvers = StrictLoader.yaml_implicit_resolvers
PyStrictLoader.yaml_constructors = StrictLoader.yaml_constructors


# The last step of a key path: `.key`, `[3]` or `["odd.key"]` (what Document.line drops to reach a parent).
_PARENT = re.compile(r'(\.[^.\[]*|\[[^\]]*\])$|^[^.\[]*$')


@dataclass
class Document:
    """A loaded YAML file: its data and the line of every key path (1-based)."""

    file: str
    data: object
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, path: str) -> int | None:
        """The line of a key path, or of its nearest parent that exists."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _PARENT.sub("", path)
        return self.lines.get("", 1)


def _index_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """Record the line of each key path in a composed node tree."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = child_path(path, str(key_node.value))
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, child_path(path, i), lines)


# Bounds on input (documented in the README): a settings file's size, how many values a document
# may hold once its aliases are expanded (a few hundred bytes of nested aliases can stand for
# billions of values: a "billion laughs" document), and how deep it nests (5000 `[` would exhaust
# the recursion of every reader after the parser).
MAX_FILE_BYTES = 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 100                      # the deepest upstream CRD in ../shared/charts nests 36 levels


class TooLarge(yaml.YAMLError):
    """A document over the bounds above."""

    def __init__(self, found: str, mark=None):
        super().__init__(found)
        self.found, self.problem_mark = found, mark


def expanded_size(node: yaml.Node, limit: int = MAX_VALUES) -> int:
    """How many values a node stands for once aliases are expanded (counted, never expanded), capped;
    TooLarge when it nests deeper than MAX_DEPTH (each node's height is kept, so an alias counts too)."""
    measured: dict[int, tuple[int, int]] = {}

    def measure(n: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise TooLarge(f"more than {MAX_DEPTH} levels of nesting", n.start_mark)
        if id(n) not in measured:
            children = ([v for pair in n.value for v in pair] if isinstance(n, yaml.MappingNode)
                        else n.value if isinstance(n, yaml.SequenceNode) else [])
            sizes = [measure(c, depth + 1) for c in children]
            height = 1 + max((measured[id(c)][1] for c in children), default=0)
            measured[id(n)] = (min(limit + 1, 1 + sum(sizes)), height)
        if depth + measured[id(n)][1] > MAX_DEPTH + 1:
            raise TooLarge(f"more than {MAX_DEPTH} levels of nesting", n.start_mark)
        return measured[id(n)][0]
    return measure(node, 1)


def _bounded(node: yaml.Node | None) -> yaml.Node | None:
    """The node, unless it stands for more values than MAX_VALUES."""
    if node is not None and expanded_size(node) > MAX_VALUES:
        raise TooLarge(f"more than {MAX_VALUES} values once its aliases are expanded", node.start_mark)
    return node


def _parse(loader_class, text: str) -> tuple:
    """Parse once: the node tree (for lines) and the data built from it."""
    loader = loader_class(text)
    try:
        node = _bounded(loader.get_single_node())
        return node, (loader.construct_document(node) if node is not None else None)
    except RecursionError:      # the pure-Python composer recurses per level (libyaml stops at 1000 levels)
        raise TooLarge(f"more than {MAX_DEPTH} levels of nesting") from None
    finally:
        loader.dispose()


def _too_large(err: TooLarge, shown_as: str) -> Problem:
    """A document over the bounds as a Problem with its line, when known."""
    return Problem(shown_as, "", f"a document of at most {MAX_VALUES} values and {MAX_DEPTH} levels",
                   err.found, err.problem_mark.line + 1 if err.problem_mark else None)


def _syntax_problem(err: yaml.YAMLError, shown_as: str) -> Problem:
    """A YAML syntax error as a Problem with its line."""
    mark = getattr(err, "problem_mark", None)
    what = " ".join(filter(None, [getattr(err, "context", None), getattr(err, "problem", None)]))
    return Problem(shown_as, "", "valid YAML", f"a syntax error: {what or err}", line=mark.line + 1 if mark else None)


def read_text(path: Path, shown_as: str, limit: int = MAX_FILE_BYTES) -> tuple[str | None, Problem | None]:
    """A file's text, or a Problem: unreadable, larger than the limit, or not UTF-8 (with the offset)."""
    try:
        if path.stat().st_size > limit:
            return None, Problem(shown_as, "", f"a file of at most {limit} bytes",
                                 f"{path.stat().st_size} bytes")
        return path.read_bytes().decode("utf-8"), None
    except OSError as err:
        return None, Problem(shown_as, "", "a readable YAML file", f"an error: {err.strerror}")
    except UnicodeDecodeError as err:
        return None, Problem(shown_as, "", "UTF-8 text", f"byte 0x{err.object[err.start]:02x} at offset {err.start}")


def load_document(path: Path, shown_as: str) -> tuple[Document | None, Problem | None]:
    """Load one YAML file; a syntax error comes back as a Problem with its line."""
    text, problem = read_text(path, shown_as)
    if text is None:
        return None, problem
    try:
        node, data = _parse(StrictLoader, text)
    except TooLarge as err:
        return None, _too_large(err, shown_as)
    except yaml.YAMLError:
        try:        # the pure-Python parser words syntax errors better (it names the character)
            node, data = _parse(PyStrictLoader, text)
        except TooLarge as err:
            return None, _too_large(err, shown_as)
        except yaml.YAMLError as err:
            return None, _syntax_problem(err, shown_as)
        return None, Problem(shown_as, "", "valid YAML", "a syntax error the C parser reports", line=None)
    lines: dict[str, int] = {}

    if node is not None:
        _index_lines(node, "", lines)
    return Document(shown_as, {} if data is None else data, lines), None


def load_all(text: str) -> list:
    """Load every document of a multi-document YAML string, skipping empty ones; a document over
    MAX_VALUES raises TooLarge (a yaml.YAMLError)."""
    return _documents(StrictLoader, text)


def _documents(loader_class, text: str) -> list:
    """Every non-empty document, each bounded by MAX_VALUES."""
    loader = loader_class(text)
    documents = []
    try:
        while loader.check_node():
            data = loader.construct_document(_bounded(loader.get_node()))
            if data is not None:
                documents.append(data)
    except RecursionError:
        raise TooLarge(f"more than {MAX_DEPTH} levels of nesting") from None
    finally:
        loader.dispose()
    return documents


class TolerantLoader(yaml.SafeLoader):
    """What kustomize and Flux accept in a GitOps tree's files (Go's YAML parsers): an anchor defined
    twice (the later one wins), `=` as a plain string (YAML 1.2 has no value type), unknown tags such as
    an application's `!env_var` (kept as the plain value), duplicate keys (the later one wins).
    YAML 1.2 booleans, like StrictLoader. Pure-Python parser: only used when the C one refuses a file."""

    def compose_node(self, parent, index):
        """Forget an anchor when it is defined again, instead of refusing the document."""
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not isinstance(event, yaml.AliasEvent):
            self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


TolerantLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in StrictLoader.yaml_implicit_resolvers.items()
}


def _untagged(loader: TolerantLoader, suffix: str, node: yaml.Node) -> object:
    """An unknown tag's node, read as if it had none."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


TolerantLoader.add_multi_constructor("!", _untagged)
TolerantLoader.add_multi_constructor("tag:", _untagged)
TolerantLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_all_tolerant(text: str) -> list:
    """Every document of a GitOps tree file, read as kustomize would (see TolerantLoader); fast path
    through the C parser, the tolerant one only for files it refuses. Raises yaml.YAMLError."""
    try:
        return load_all(text)
    except TooLarge:
        raise
    except yaml.YAMLError:
        return _documents(TolerantLoader, text)


class _Dumper(yaml.SafeDumper):
    """Block-style dumper that never emits anchors (rendered files are read by people)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Write multi-line strings as literal blocks and quote YAML 1.1 booleans."""
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_presenter)


def dump(data: object) -> str:
    """Deterministic YAML: sorted keys, block style, no anchors, no line wrapping."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=10**6)


def dump_all(documents: list) -> str:
    """Several documents, each as `dump` writes one, each starting with `---`."""
    return yaml.dump_all(documents, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=10**6,
                         explicit_start=True)
