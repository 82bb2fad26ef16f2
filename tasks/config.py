"""Load bootstrap/values/*.yaml and bootstrap/charts.yaml, validate them against the project's own
JSON Schemas (tasks/schemas/), fill in defaults and expose one typed `Cluster`."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import paths
from .problems import Problem, describe
from .yamlio import Document, load_document


@dataclass(frozen=True)
class Node:
    """One machine of the inventory."""

    name: str
    role: str
    address: str
    install_disk: str
    bond_links: tuple[str, ...]

    @property
    def is_controlplane(self) -> bool:
        return self.role == "controlplane"


@dataclass(frozen=True)
class Release:
    """One bootstrap Helm release, in install order."""

    name: str
    namespace: str
    chart: str
    repo: str
    version: str
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Cluster:
    """Every validated setting, with defaults filled in."""

    settings: dict[str, dict]
    charts: dict[str, dict]
    releases: tuple[Release, ...]
    nodes: tuple[Node, ...]

    @property
    def controlplanes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.is_controlplane)

    @property
    def first_controlplane(self) -> Node:
        return self.controlplanes[0]

    @property
    def name(self) -> str:
        return self.settings["common"]["cluster"]["name"]

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.settings["common"]["network"]["subnet"], strict=False)

    def release(self, name: str) -> Release:
        """The release named `name`."""
        return next(r for r in self.releases if r.name == name)


def settings_path(name: str) -> Path:
    """The settings file bootstrap/values/<name>.yaml."""
    return paths.VALUES / f"{name}.yaml"


@lru_cache(maxsize=None)
def _raw_schema(name: str) -> tuple[dict, dict]:
    """tasks/schemas/<name>.schema.yaml and the shared definitions, parsed."""
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    defs = yaml.load((paths.SCHEMAS / "_defs.yaml").read_text(), Loader=loader)
    return yaml.load((paths.SCHEMAS / f"{name}.schema.yaml").read_text(), Loader=loader), defs


@lru_cache(maxsize=None)
def _schema(name: str) -> tuple:
    """The validator for tasks/schemas/<name>.schema.yaml and its raw schema."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema, defs = _raw_schema(name)
    registry = Registry().with_resource("_defs.yaml", Resource.from_contents(
        defs, default_specification=_draft()))
    return Draft202012Validator(schema, registry=registry), schema, defs


def _draft():
    """The JSON Schema draft the project's schemas are written in."""
    from referencing.jsonschema import DRAFT202012
    return DRAFT202012


def _key_path(parts) -> str:
    """A jsonschema path deque as a dotted key path with [i] for list items."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# JSON Schema type names in the words a YAML file's reader uses (matching problems.describe).
_TYPE_WORDS = {"object": "a mapping", "array": "a list", "integer": "an integer", "number": "a number",
               "string": "a string", "boolean": "a boolean", "null": "null"}


_BOUNDS = {"minimum": "at least {}", "maximum": "at most {}", "minItems": "at least {} item(s)",
           "minLength": "at least {} character(s)", "maxLength": "at most {} characters",
           "minProperties": "at least {} entry(ies)"}


def _expected(error, defs: dict) -> str:
    """What the schema wanted, in words."""
    schema = error.schema
    if "$ref" in schema:
        schema = defs["$defs"].get(schema["$ref"].rpartition("/")[2], schema)
    if error.validator == "enum":
        return "one of " + ", ".join(map(str, error.validator_value))
    if error.validator == "const":
        return f"{error.validator_value!r}"
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return " or ".join(_TYPE_WORDS.get(k, f"a {k}") for k in kinds)
    if error.validator == "pattern":
        return schema.get("description") or f"a string matching {error.validator_value}"
    if error.validator in _BOUNDS:
        return _BOUNDS[error.validator].format(error.validator_value)
    return schema.get("description") or error.message


def schema_problems(doc: Document, name: str) -> list[Problem]:
    """Every schema violation of one document, each with its key path and line."""
    validator, _, defs = _schema(name)
    problems = []
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.path))):
        path = _key_path(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                full = f"{path}.{key}" if path else key
                problems.append(Problem(doc.file, full, "one of the known keys (" + ", ".join(allowed) + ")",
                                        f"unknown key {key!r}", doc.line(full)))
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            full = f"{path}.{missing}" if path else missing
            problems.append(Problem(doc.file, full, "a value (required)", "nothing", doc.line(path)))
        else:
            problems.append(Problem(doc.file, path, _expected(error, defs), describe(error.instance),
                                    doc.line(path)))
    return problems


def _fill_defaults(data: object, schema: dict, defs: dict) -> object:
    """Fill in `default`s the schema declares for keys missing from mappings."""
    if "$ref" in schema:
        schema = defs["$defs"][schema["$ref"].rpartition("/")[2]]
    if isinstance(data, dict) and "properties" in schema:
        for key, sub in schema["properties"].items():
            if key not in data and "default" in sub:
                data[key] = sub["default"]
            if key in data:
                data[key] = _fill_defaults(data[key], sub, defs)
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [_fill_defaults(item, schema["items"], defs) for item in data]
    return data


@lru_cache(maxsize=1)
def quick_settings() -> dict | None:
    """Every settings file and charts.yaml parsed once, unvalidated (libyaml, YAML 1.2 booleans):
    what task creation needs on every doit start. None if any file cannot be read or parsed;
    the `check` task then reports why, with file and line."""
    import yaml
    from .yamlio import QuickLoader
    files = {name: settings_path(name) for name in paths.SETTINGS} | {"charts": paths.CHARTS_FILE}
    try:
        return {name: yaml.load(file.read_text(encoding="utf-8"), Loader=QuickLoader) for name, file in files.items()}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def load_documents(validate: bool = True) -> tuple[dict[str, Document], list[Problem]]:
    """Load every settings file and charts.yaml; return documents and load/schema problems.
    validate=False skips the schemas (defaults are still filled): for the apply stages, which
    only run after the `check` task passed on the same files."""
    docs, problems = {}, []
    for name in (*paths.SETTINGS, "charts"):
        file = paths.CHARTS_FILE if name == "charts" else settings_path(name)
        doc, problem = load_document(file, paths.rel(file))
        if problem:
            problems.append(problem)
            continue
        found = schema_problems(doc, name) if validate else []
        problems += found
        if not found:
            schema, defs = _raw_schema(name)
            doc.data = _fill_defaults(doc.data, schema, defs)
            docs[name] = doc
    return docs, problems


def build_cluster(docs: dict[str, Document]) -> Cluster:
    """The typed Cluster from schema-valid documents."""
    settings = {name: docs[name].data for name in paths.SETTINGS}
    talos = settings["talos"]
    nodes = tuple(Node(n["name"], n["role"], n["address"], n["installDisk"],
                       tuple(n.get("bondLinks") or talos["bond"]["links"])) for n in talos["nodes"])
    charts = docs["charts"].data["charts"]
    releases = tuple(Release(r["name"], r["namespace"], charts[r["name"]]["chart"], charts[r["name"]]["repo"],
                             str(charts[r["name"]]["version"]), tuple(r["reads"]))
                     for r in docs["charts"].data["releases"] if r["name"] in charts)
    return Cluster(settings, charts, releases, nodes)
