"""The project's own JSON Schemas for the settings files (tasks/settings/schemas/): violations as
Problems in the reader's words, and the defaults the schemas declare."""
from __future__ import annotations

import copy
from functools import lru_cache

from .. import paths
from ..problems import Problem, a_type, child_path, describe, key_path
from ..yamlio import Document


@lru_cache(maxsize=None)
def raw_schema(name: str) -> tuple[dict, dict]:
    """tasks/settings/schemas/<name>.schema.yaml and the shared definitions, parsed."""
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    defs = yaml.load((paths.SETTINGS_SCHEMAS / "_defs.yaml").read_text(), Loader=loader)
    return yaml.load((paths.SETTINGS_SCHEMAS / f"{name}.schema.yaml").read_text(), Loader=loader), defs


@lru_cache(maxsize=None)
def end_anchored(pattern: str):
    """A schema pattern compiled the way JSON Schema (ECMA-262) reads it: a final `$` is the end of
    the string. Python's `$` also matches before a final newline, so "main\\n" would pass ^[^\\s]+$."""
    import re
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator, pattern: str, instance, schema):
    """The `pattern` keyword with end_anchored semantics."""
    from jsonschema.exceptions import ValidationError
    if validator.is_type(instance, "string") and not end_anchored(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=None)
def _validator(name: str):
    """The validator for tasks/settings/schemas/<name>.schema.yaml (jsonschema is imported only here)."""
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schema, defs = raw_schema(name)
    registry = Registry().with_resource("_defs.yaml", Resource.from_contents(defs, default_specification=DRAFT202012))
    strict = validators.extend(Draft202012Validator, {"pattern": _pattern})
    return strict(schema, registry=registry)


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
        return " or ".join(a_type(k) for k in kinds)
    if error.validator == "pattern":
        return schema.get("description") or f"a string matching {error.validator_value}"
    if error.validator in _BOUNDS:
        return _BOUNDS[error.validator].format(error.validator_value)
    return schema.get("description") or error.message


def schema_problems(doc: Document, name: str) -> list[Problem]:
    """Every schema violation of one document, each with its key path and line."""
    validator, (_, defs) = _validator(name), raw_schema(name)
    problems = []
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.path))):
        path = key_path(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed), key=str):
                full = child_path(path, str(key))
                problems.append(Problem(doc.file, full, "one of the known keys (" + ", ".join(allowed) + ")",
                                        f"unknown key {key!r}", doc.line(full)))
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            problems.append(Problem(doc.file, child_path(path, missing), "a value (required)", "nothing",
                                    doc.line(path)))
        else:
            problems.append(Problem(doc.file, path, _expected(error, defs), describe(error.instance),
                                    doc.line(path)))
    return problems


def with_defaults(data: object, name: str) -> object:
    """A copy of data with the `default`s the schema declares filled in for missing keys."""
    schema, defs = raw_schema(name)
    return _fill(copy.deepcopy(data), schema, defs)


def _fill(data: object, schema: dict, defs: dict) -> object:
    """Fill defaults in place, recursively."""
    if "$ref" in schema:
        schema = defs["$defs"][schema["$ref"].rpartition("/")[2]]
    if isinstance(data, dict) and "properties" in schema:
        for key, sub in schema["properties"].items():
            if key not in data and "default" in sub:
                data[key] = copy.deepcopy(sub["default"])
            if key in data:
                data[key] = _fill(data[key], sub, defs)
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [_fill(item, schema["items"], defs) for item in data]
    return data
