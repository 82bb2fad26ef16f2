"""Check rendered output against the upstream JSON Schemas of the pinned versions.

Three checks, each returning `Findings` (failures are values, never exceptions):
  check_talos_documents     Talos machine-config documents, each validated on its own by `kind`
  check_helm_values         our Helm value overrides (chart defaults are not known here, so
                            `required` is not enforced; everything else is)
  check_kubernetes_objects  CRD-backed and core kinds that have a catalogued schema

What has no upstream schema (a chart that ships none, an uncatalogued kind) is named in
`unchecked`. A schema that cannot be fetched is a warning (once per schema per process), or a
problem in strict mode (`strict=True` or BOOTSTRAP_SCHEMA_STRICT=1). Where schemas come from:
schema_catalog.py; fetching and caching: schema_store.py.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from functools import lru_cache

from jsonschema import Draft7Validator, Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, best_match
from referencing.exceptions import Unresolvable

from ..problems import Findings, Problem, a_type, child_path, describe, key_path, type_name
from .schema_catalog import HELM_WITHOUT_SCHEMA, SchemaRef, helm_values_schema, kubernetes_schema, talos_schema
from .schema_store import MIRROR_ENV, SchemaStore, current_store

RULE = "upstream-schema"
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
_MAX_SHOWN = 80


class _Where:
    """Where violations go: a file and, for multi-document files, the document index."""

    def __init__(self, source: str, index: int | None):
        self.source, self.index = source, index

    def path(self, parts: list) -> str:
        return key_path(parts if self.index is None else ["documents", self.index, *parts])

    def problem(self, parts: list, expected: str, found: str, hint: str | None = None) -> Problem:
        return Problem(self.source, self.path(parts), expected, found, rule=RULE, hint=hint)


def check_talos_documents(docs: list[dict], talos_version: str, source: str,
                          strict: bool | None = None) -> Findings:
    """Validate each Talos config document against the schema definition for its kind."""
    findings, ref = Findings(), talos_schema(talos_version)
    store, schema = _schema_or_report(ref, source, findings, strict)
    if schema is None:
        return findings
    for index, doc in enumerate(docs):
        if doc is None:
            continue
        where = _Where(source, index)
        definition, problem = _talos_definition(store, ref, schema, doc, where)
        if problem:
            findings.problems.append(problem)
            continue
        _validate(findings, _validator(store, ref, schema, definition=definition), doc, where, TALOS_KEY_HINTS)
    return findings


def check_helm_values(values: dict, chart: str, version: str, source: str,
                      strict: bool | None = None) -> Findings:
    """Validate Helm value overrides against the chart's values schema, `required` not enforced."""
    findings, ref = Findings(), helm_values_schema(chart, version)
    if ref is None:
        why = "the chart ships no values schema" if chart in HELM_WITHOUT_SCHEMA else "no catalogued schema"
        findings.unchecked.append(f"Helm values of {chart} {version} ({why})")
        return findings
    store, schema = _schema_or_report(ref, source, findings, strict)
    if schema is not None:
        _validate(findings, _validator(store, ref, schema, overrides=True), _drop_nulls(values or {}),
                  _Where(source, None), {})
    return findings


def check_kubernetes_objects(objs: list[dict], source: str, strict: bool | None = None) -> Findings:
    """Validate objects whose kind has a catalogued schema; the other kinds are named in `unchecked`."""
    findings, failed = Findings(), set()
    for index, obj in enumerate(objs):
        ref = _kubernetes_ref(obj)
        if ref is None:
            label = f"{obj.get('kind')} ({obj.get('apiVersion')})" if isinstance(obj, dict) else type_name(obj)
            if f"{label}: no catalogued schema" not in findings.unchecked:
                findings.unchecked.append(f"{label}: no catalogued schema")
            continue
        if ref.rel in failed:
            continue
        store, schema = _schema_or_report(ref, source, findings, strict)
        if schema is None:
            failed.add(ref.rel)
            continue
        _validate(findings, _validator(store, ref, schema), obj, _Where(source, index), {})
    return findings


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


def _schema_or_report(ref: SchemaRef, source: str, findings: Findings, strict: bool | None):
    """Load a schema; when unavailable add a warning (first time only) or, strict, a problem."""
    store = current_store()
    schema = store.load(ref)
    if schema is not None:
        return store, schema
    if is_strict(strict):
        findings.problems.append(Problem(
            source, "", f"the schema for {ref.label} (strict mode, {STRICT_ENV})",
            f"none: {store.failure(ref)}", rule=RULE,
            hint=f"fetch it with network access or set {MIRROR_ENV}"))
    elif store.first_report(ref):
        findings.unfetched.append(
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


def _talos_definition(store: SchemaStore, ref: SchemaRef, schema: dict, doc,
                      where: _Where) -> tuple[str, Problem | None]:
    """The `$defs` name for one document, or a Problem saying why there is none."""
    if not isinstance(doc, dict):
        return "", where.problem([], "a mapping (a config document)", describe(doc))
    kinds = _talos_kinds(store, ref, schema)
    if "kind" in doc:
        kind = doc["kind"]
        if kind in kinds:
            return kinds[kind], None
        hint = _did_you_mean(str(kind), list(kinds))
        return "", where.problem(["kind"], f"a document kind of {ref.label}{hint}", f"unknown kind {kind!r}")
    if doc.get("version") == "v1alpha1" and TALOS_CONFIG_DEF in schema.get("$defs", {}):
        return TALOS_CONFIG_DEF, None
    if "version" in doc:
        return "", where.problem(["version"], f"'v1alpha1' (the config version of {ref.label})",
                                 f"unknown config version {doc['version']!r}")
    return "", where.problem([], "a `kind` or `version: v1alpha1`", "neither `kind` nor `version`")


@lru_cache(maxsize=None)
def _overrides_class(cls):
    """`cls` with `required` switched off: overrides alone legitimately lack defaulted keys."""
    return validators.extend(cls, {"required": lambda validator, value, instance, schema: None})


def _validator(store: SchemaStore, ref: SchemaRef, schema: dict, definition: str | None = None,
               overrides: bool = False):
    """A validator for the schema (or one `$defs` entry), built once per process."""
    key = (ref.rel, definition, overrides)
    if key not in store.derived:
        cls = DRAFTS[ref.draft] if ref.draft else validators.validator_for(schema, default=Draft202012Validator)
        if overrides:
            cls = _overrides_class(cls)
        root = schema if definition is None else {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
        store.derived[key] = cls(root)
    return store.derived[key]


def _validate(findings: Findings, validator, instance, where: _Where, hints: dict) -> None:
    """Run one validation into `findings`; a broken schema becomes a problem, not an exception."""
    findings.checked += 1
    try:
        found = [p for error in validator.iter_errors(instance) for p in _explain(error, where, hints)]
    except (SchemaError, Unresolvable) as exc:
        found = [where.problem([], "a usable upstream schema", f"a broken one: {str(exc).splitlines()[0]}")]
    findings.problems.extend(sorted(found, key=lambda p: p.path))


def _explain(error, where: _Where, hints: dict) -> list[Problem]:
    """Turn one jsonschema error into problems with a key path and expected-vs-found."""
    path = list(error.absolute_path)
    extras = _extra_keys(error.instance, error.schema) if (
        error.validator == "additionalProperties" and isinstance(error.instance, dict)) else []
    if extras:
        return [_unknown_key(path, key, error.schema, where, hints) for key in extras]
    expected, found, hint = _expected_found(error)
    return [where.problem(path, expected, found, hints.get(key_path(path)) or hint)]


def _unknown_key(path: list, key: str, schema: dict, where: _Where, hints: dict) -> Problem:
    """A problem for one key the schema does not allow."""
    suggestion = _did_you_mean(str(key), list(schema.get("properties", {})))
    return where.problem(path + [key], f"a key the schema allows{suggestion}", f"unknown key {key!r}",
                         hints.get(child_path(key_path(path), str(key))))


def _did_you_mean(name: str, choices: list[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice (case-insensitive first), or ""."""
    folded = {c.lower(): c for c in choices}
    close = [folded[name.lower()]] if name.lower() in folded else difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _extra_keys(instance: dict, schema: dict) -> list[str]:
    """The keys of `instance` neither in `properties` nor matched by `patternProperties`."""
    known, patterns = schema.get("properties", {}), list(schema.get("patternProperties", {}))
    return [k for k in instance if k not in known and not any(re.search(p, str(k)) for p in patterns)]


def _expected_found(error) -> tuple[str, str, str | None]:
    """Expected, found and a hint for the common keywords; jsonschema's own words otherwise."""
    found = _found(error.instance)
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return " or ".join(a_type(k) for k in kinds), found, _yaml_hint(error)
    if error.validator == "enum":
        return f"one of {_show(error.validator_value, 200)}", found, _yaml_hint(error)
    if error.validator == "const":
        return _show(error.validator_value), found, None
    if error.validator in ("oneOf", "anyOf") and error.context:
        return f"one of the allowed forms (e.g. {_short(best_match(error.context).message)})", found, None
    return error.schema.get("description") or "what the upstream schema allows", _short(error.message), None


def _found(value) -> str:
    """A found value in the shared vocabulary, kept short."""
    if isinstance(value, (dict, list)):
        return describe(value)
    return _short(describe(value), _MAX_SHOWN)


def _yaml_hint(error) -> str | None:
    """A hint when a boolean is where a string was expected: YAML 1.1 ate an on/off/yes/no."""
    if not isinstance(error.instance, bool):
        return None
    wanted = error.validator_value
    strings = wanted if isinstance(wanted, list) else [wanted]
    if (error.validator == "type" and "string" in strings) or (
            error.validator == "enum" and any(str(s).lower() in YAML11_BOOLEANS for s in strings)):
        return "YAML 1.1 reads unquoted on/off/yes/no as booleans: quote the value"
    return None


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
