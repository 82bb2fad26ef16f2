"""Check rendered output against the upstream JSON Schemas of the pinned versions.

Three checks, each returning a `Report` (failures are values, never exceptions):
  check_talos_documents  Talos machine-config documents, each validated on its own by `kind`
  check_helm_values      our Helm value overrides (chart defaults are not known here, so `required`
                         is not enforced; everything else is)
  check_kubernetes_objects  CRD-backed and core kinds that have a catalogued schema

A schema that cannot be fetched is a warning (once per schema per process), or an error in strict
mode (`strict=True` or BOOTSTRAP_SCHEMA_STRICT=1). Where schemas come from: `tasks/schema_catalog.py`;
fetching and caching: `tasks/schema_store.py`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from jsonschema import Draft7Validator, Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, best_match
from referencing.exceptions import Unresolvable

from tasks.schema_catalog import SchemaRef, helm_values_schema, kubernetes_schema, talos_schema
from tasks.schema_store import MIRROR_ENV, SchemaStore, current_store

STRICT_ENV = "BOOTSTRAP_SCHEMA_STRICT"
DRAFTS = {"draft7": Draft7Validator}
TALOS_CONFIG_DEF = "v1alpha1.Config"

# Keys Talos still accepts but its schema leaves out (docgen:nodoc): say what to render instead.
TALOS_KEY_HINTS = {
    "persist": "deprecated and not in the schema: leave it out",
    "machine.network": "not in the Talos 1.13 schema: render the network documents instead "
                       "(HostnameConfig, LinkConfig, BondConfig, VLANConfig, ResolverConfig, ...)",
    "machine.network.interfaces": "deprecated: render LinkConfig/BondConfig/VLANConfig documents",
    "machine.network.hostname": "deprecated: render a HostnameConfig document",
    "machine.network.nameservers": "deprecated: render a ResolverConfig document",
    "machine.install.extraKernelArgs": "deprecated and not in the schema: put kernel arguments "
                                       "in the installer image (Image Factory schematic)",
    "machine.time": "deprecated: render a TimeSyncConfig document",
    "machine.registries": "deprecated: render RegistryMirrorConfig/RegistryAuthConfig documents",
    "machine.disks": "deprecated: render UserVolumeConfig documents",
    "machine.systemDiskEncryption": "deprecated: set encryption in a VolumeConfig document",
}
YAML11_BOOLEANS = {"on", "off", "yes", "no", "y", "n", "true", "false"}
_PLAIN_KEY = re.compile(r"^[A-Za-z_$][\w$-]*$")
_MAX_SHOWN = 80


@dataclass(frozen=True)
class Violation:
    """One conformance error: where (file, document, JSON path) and what (expected vs found)."""

    source: str
    document: int | None
    path: str
    message: str

    def __str__(self) -> str:
        """`file (document N): path: message`."""
        where = self.source if self.document is None else f"{self.source} (document {self.document})"
        return f"{where}: {self.path or '(root)'}: {self.message}"


@dataclass
class Report:
    """The outcome of a check: errors fail the run, warnings are shown; `checked` counts documents."""

    errors: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def merge(self, other: Report) -> Report:
        """Add another report's findings to this one; returns self."""
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)
        self.checked += other.checked
        return self

    def lines(self) -> list[str]:
        """Human-readable lines: errors first, then warnings."""
        return [f"error: {e}" for e in self.errors] + [f"warning: {w}" for w in self.warnings]


def check_talos_documents(docs: list[dict], talos_version: str, source: str,
                          strict: bool | None = None) -> Report:
    """Validate each Talos config document against the schema definition for its kind."""
    report, ref = Report(), talos_schema(talos_version)
    store, schema = _schema_or_report(ref, source, report, strict)
    if schema is None:
        return report
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        definition, problem = _talos_definition(store, ref, schema, doc)
        if problem:
            report.errors.append(Violation(source, index, "", problem))
            continue
        validator = _validator(store, ref, schema, definition=definition)
        _validate(report, validator, doc, source, index, TALOS_KEY_HINTS)
    return report


def check_helm_values(values: dict, chart: str, version: str, source: str,
                      strict: bool | None = None) -> Report:
    """Validate Helm value overrides against the chart's values schema, `required` not enforced."""
    report, ref = Report(), helm_values_schema(chart, version)
    if ref is None:
        return report  # the chart ships no values schema: nothing to check
    store, schema = _schema_or_report(ref, source, report, strict)
    if schema is not None:
        validator = _validator(store, ref, schema, overrides=True)
        _validate(report, validator, _drop_nulls(values or {}), source, 0, {})
    return report


def check_kubernetes_objects(objs: list[dict], source: str, strict: bool | None = None) -> Report:
    """Validate objects whose kind has a catalogued schema; other kinds are skipped silently."""
    report, failed = Report(), set()
    for index, obj in enumerate(objs):
        ref = _kubernetes_ref(obj)
        if ref is None or ref.rel in failed:
            continue
        store, schema = _schema_or_report(ref, source, report, strict)
        if schema is None:
            failed.add(ref.rel)
            continue
        _validate(report, _validator(store, ref, schema), obj, source, index, {})
    return report


def is_strict(strict: bool | None = None) -> bool:
    """The argument if given, else BOOTSTRAP_SCHEMA_STRICT (1/true/yes/on)."""
    if strict is not None:
        return bool(strict)
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _kubernetes_ref(obj) -> SchemaRef | None:
    """The catalogued schema of one object, or None."""
    if not isinstance(obj, dict):
        return None
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    return kubernetes_schema(api_version, kind)


def _schema_or_report(ref: SchemaRef, source: str, report: Report, strict: bool | None):
    """Load a schema; when unavailable add a warning (first time only) or, strict, an error."""
    store = current_store()
    schema = store.load(ref)
    if schema is not None:
        return store, schema
    if is_strict(strict):
        report.errors.append(Violation(source, None, "", (
            f"schema for {ref.label} not available ({store.failure(ref)}); strict mode "
            f"({STRICT_ENV}) requires it — fetch it with network or set {MIRROR_ENV}")))
    elif store.first_report(ref):
        report.warnings.append(
            f"schema for {ref.label} not available ({store.failure(ref)}); skipped — "
            f"check it later with network or set {MIRROR_ENV}")
    return store, None


def _talos_kinds(store: SchemaStore, ref: SchemaRef, schema: dict) -> dict[str, str]:
    """kind -> `$defs` name, built once per Talos schema."""
    key = (ref.rel, "kinds")
    if key not in store.derived:
        kinds = {}
        for name, definition in schema.get("$defs", {}).items():
            for kind in definition.get("properties", {}).get("kind", {}).get("enum", []):
                kinds[kind] = name
        store.derived[key] = kinds
    return store.derived[key]


def _talos_definition(store: SchemaStore, ref: SchemaRef, schema: dict, doc) -> tuple[str, str]:
    """The `$defs` name for one document, or an explanation of why there is none."""
    if not isinstance(doc, dict):
        return "", f"expected a mapping (a config document), found {_json_type(doc)}"
    kinds = _talos_kinds(store, ref, schema)
    if "kind" in doc:
        kind = doc["kind"]
        if kind in kinds:
            return kinds[kind], ""
        hint = _did_you_mean(str(kind), list(kinds))
        return "", f"unknown document kind {kind!r} for {ref.label}{hint}"
    if doc.get("version") == "v1alpha1" and TALOS_CONFIG_DEF in schema.get("$defs", {}):
        return TALOS_CONFIG_DEF, ""
    if "version" in doc:
        return "", f"unknown config version {doc['version']!r} for {ref.label} (expected 'v1alpha1')"
    return "", "document has neither `kind` nor `version: v1alpha1`"


@lru_cache(maxsize=None)
def _overrides_class(cls):
    """`cls` with `required` switched off: overrides alone legitimately lack defaulted keys."""
    return validators.extend(cls, {"required": lambda validator, value, instance, schema: None})


def _validator(store: SchemaStore, ref: SchemaRef, schema: dict, definition: str | None = None,
               overrides: bool = False):
    """A validator for the schema (or one `$defs` entry), built once per process."""
    key = (ref.rel, definition, overrides)
    if key not in store.derived:
        cls = DRAFTS[ref.draft] if ref.draft else validators.validator_for(
            schema, default=Draft202012Validator)
        if overrides:
            cls = _overrides_class(cls)
        root = schema if definition is None else {
            "$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
        store.derived[key] = cls(root)
    return store.derived[key]


def _validate(report: Report, validator, instance, source: str, index: int, hints: dict) -> None:
    """Run one validation into `report`; a broken schema becomes an error, not an exception."""
    report.checked += 1
    try:
        found = [v for error in validator.iter_errors(instance)
                 for v in _explain(error, source, index, hints)]
    except (SchemaError, Unresolvable) as exc:
        found = [Violation(source, index, "", f"schema is unusable: {str(exc).splitlines()[0]}")]
    report.errors.extend(sorted(found, key=lambda v: v.path))


def _explain(error, source: str, index: int, hints: dict) -> list[Violation]:
    """Turn one jsonschema error into violations with a JSON path and expected-vs-found."""
    path = list(error.absolute_path)
    extras = _extra_keys(error.instance, error.schema) if (
        error.validator == "additionalProperties" and isinstance(error.instance, dict)) else []
    if extras:
        return [_unknown_key(path, key, error.schema, source, index, hints) for key in extras]
    message = _message(error)
    hint = hints.get(json_path(path))
    return [Violation(source, index, json_path(path), f"{message} — {hint}" if hint else message)]


def _unknown_key(path: list, key: str, schema: dict, source: str, index: int, hints: dict) -> Violation:
    """A violation for one key the schema does not allow."""
    where = json_path(path + [key])
    suggestion = _did_you_mean(str(key), list(schema.get("properties", {})))
    message = f"unknown key {key!r} (not allowed by the schema){suggestion}"
    if where in hints:
        message += f" — {hints[where]}"
    return Violation(source, index, where, message)


def _did_you_mean(name: str, choices: list[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice (case-insensitive first), or ""."""
    folded = {c.lower(): c for c in choices}
    close = [folded[name.lower()]] if name.lower() in folded else difflib.get_close_matches(
        name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _extra_keys(instance: dict, schema: dict) -> list[str]:
    """The keys of `instance` neither in `properties` nor matched by `patternProperties`."""
    known, patterns = schema.get("properties", {}), list(schema.get("patternProperties", {}))
    return [k for k in instance
            if k not in known and not any(re.search(p, str(k)) for p in patterns)]


def _message(error) -> str:
    """Expected vs found for the common keywords; jsonschema's own message otherwise."""
    found = f"found {_json_type(error.instance)} {_show(error.instance)}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, {found}{_yaml_hint(error)}"
    if error.validator == "enum":
        return f"expected one of {_show(error.validator_value, 200)}, {found}{_yaml_hint(error)}"
    if error.validator == "const":
        return f"expected {_show(error.validator_value)}, {found}"
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = best_match(error.context)
        return f"matches none of the allowed forms, {found} (e.g. {_short(best.message)})"
    return _short(error.message)


def _yaml_hint(error) -> str:
    """A hint when a boolean is where a string was expected: YAML 1.1 ate an on/off/yes/no."""
    if not isinstance(error.instance, bool):
        return ""
    wanted = error.validator_value
    strings = wanted if isinstance(wanted, list) else [wanted]
    if (error.validator == "type" and "string" in strings) or (
            error.validator == "enum" and any(str(s).lower() in YAML11_BOOLEANS for s in strings)):
        return " (YAML 1.1 reads unquoted on/off/yes/no as booleans: quote the value)"
    return ""


def json_path(parts: list) -> str:
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


def _json_type(value) -> str:
    """The JSON type name of a Python value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value, limit: int = _MAX_SHOWN) -> str:
    """A short JSON rendering of a value for messages."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return _short(text, limit)


def _short(text: str, limit: int = 300) -> str:
    """`text` cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _drop_nulls(values):
    """Values with null entries removed: Helm deletes a key whose override is null before validating."""
    if isinstance(values, dict):
        return {k: _drop_nulls(v) for k, v in values.items() if v is not None}
    return values  # lists replace the defaults wholesale: Helm keeps nulls inside them
