"""What a real API server refuses in a custom resource: the object against its CRD's structural schema
(spec.versions[].schema.openAPIV3Schema), as apiextensions-apiserver does
(staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/validation/validation.go: kube-openapi's
validator, its failures turned into field errors of one 422 Invalid). Covered: `type` (with
x-kubernetes-int-or-string), `required`, `enum`, through properties, additionalProperties and items.
Unknown fields are pruned by the real server, not refused, and so are nulls of non-nullable fields:
neither is an error here either. The type message is kube-openapi's errors.InvalidType
("%s in body must be of type %s: %q", validate/errors: typeFail), as a cluster prints it, e.g.
`spec.labels: Invalid value: "string": spec.labels in body must be of type object: "string"`."""
from __future__ import annotations

import json

# Fields every object has that the CRD schema does not describe (validated elsewhere).
SKIPPED = ("apiVersion", "kind", "metadata")


def version_schema(crd: dict, version: str) -> dict | None:
    """The openAPIV3Schema of one version of a CRD, if it has one."""
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if entry.get("name") == version:
            return ((entry.get("schema") or {}).get("openAPIV3Schema")) or None
    return None


def type_name(value: object) -> str:
    """The JSON type kube-openapi names for a decoded value (a whole float is an integer)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", dict: "object", list: "array"}.get(type(value), "null")


def _type_error(value: object, schema: dict, path: str) -> tuple[str, str, str] | None:
    """The type failure of one value, if its type is not the schema's."""
    actual, wanted = type_name(value), schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return None if actual in ("integer", "string") else (
            "FieldValueTypeInvalid", path, f'Invalid value: "{actual}": {path} in body must be of type '
                                           f'integer,string: "{actual}"')
    if not wanted or actual == wanted or (wanted == "number" and actual == "integer"):
        return None
    return ("FieldValueTypeInvalid", path,
            f'Invalid value: "{actual}": {path} in body must be of type {wanted}: "{actual}"')


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def field_errors(value: object, schema: dict, path: str = "") -> list[tuple[str, str, str]]:
    """Every (cause, field, message) of value against a structural schema."""
    if value is None or not isinstance(schema, dict):
        return []
    wrong = _type_error(value, schema, path)
    if wrong:
        return [wrong]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(("FieldValueNotSupported", path, f"Unsupported value: {json.dumps(value)}: supported values: "
                       + ", ".join(json.dumps(e) for e in schema["enum"])))
    if isinstance(value, dict):
        errors += [("FieldValueRequired", _child(path, key), "Required value")
                   for key in schema.get("required") or [] if key not in value and not (path == "" and key in SKIPPED)]
        properties, extra = schema.get("properties") or {}, schema.get("additionalProperties")
        for key, child in value.items():
            if path == "" and key in SKIPPED:
                continue
            errors += field_errors(child, properties.get(key, extra if isinstance(extra, dict) else None),
                                   _child(path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            errors += field_errors(item, schema.get("items"), f"{path}[{i}]")
    return errors


# Server-side apply first converts the patch to a typed object (structured-merge-diff), before any
# validation: apiserver fieldmanager/internal/structuredmerge.go Apply, "failed to create typed patch
# object (%v): %v" with objectGVKNN "<namespace>/<name>; <group>/<version>, Kind=<Kind>"; the plain error
# becomes a 500 with reason Unknown (ErrorToAPIStatus), which kubectl prints as "Error from server: ...".
# The element errors are structured-merge-diff's (typed/helpers.go validateScalar and friends), e.g.
# `.data.VERSION: expected string, got &value.valueUnstructured{Value:1}`.
EXPECTED = {"string": "string", "integer": "numeric (int or float)", "number": "numeric (int or float)",
            "boolean": "boolean", "object": "map", "array": "list"}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
META = {"type": "object", "properties": {"labels": STRING_MAP, "annotations": STRING_MAP}}
# The map[string]string (and []byte, base64 text) fields of core kinds (k8s.io/api/core/v1 types.go).
CORE_SCHEMAS = {
    "Secret": {"type": "object", "properties": {"metadata": META, "data": STRING_MAP, "stringData": STRING_MAP,
                                                "type": {"type": "string"}}},
    "ConfigMap": {"type": "object", "properties": {"metadata": META, "data": STRING_MAP, "binaryData": STRING_MAP}},
}


def go_value(value: object) -> str:
    """How Go's %#v prints a decoded JSON scalar inside value.valueUnstructured."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[]interface {}{}" if isinstance(value, list) else "map[string]interface {}{}"


def typed_errors(value: object, schema: dict, path: str = "") -> list[str]:
    """The type mismatches structured-merge-diff reports converting value with a structural schema."""
    if value is None or not isinstance(schema, dict):
        return []
    wanted = "string" if schema.get("x-kubernetes-int-or-string") and isinstance(value, str) else schema.get("type")
    actual = type_name(value)
    if wanted in EXPECTED and EXPECTED.get(actual) != EXPECTED[wanted]:
        return [f"{path}: expected {EXPECTED[wanted]}, got &value.valueUnstructured{{Value:{go_value(value)}}}"]
    found = []
    if isinstance(value, dict):
        properties, extra = schema.get("properties") or {}, schema.get("additionalProperties")
        for key, child in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            found += typed_errors(child, sub, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += typed_errors(item, schema.get("items"), f"{path}[{i}]")
    return found


def typed_patch_message(object_name: str, api_version: str, kind: str, found: list[str]) -> str:
    """The apply error for found (one element error inline, several under "errors:")."""
    group_version = api_version if "/" in api_version else f"/{api_version}"
    where = f"failed to create typed patch object ({object_name}; {group_version}, Kind={kind}): "
    return where + (found[0] if len(found) == 1 else "errors:\n" + "\n".join(f"  {e}" for e in found))
