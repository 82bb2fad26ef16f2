"""Decode the Kubernetes protobuf request bodies that client-go sends for a few core kinds.

Helm's release storage (typed client-go Secrets client) and ``kubectl create secret|configmap|namespace|
serviceaccount`` send ``application/vnd.kubernetes.protobuf`` bodies: the 4-byte magic ``k8s\\x00``
followed by a ``runtime.Unknown`` message (``typeMeta`` = 1 {apiVersion = 1, kind = 2}, ``raw`` = 2,
``contentEncoding`` = 3, ``contentType`` = 4), whose ``raw`` is the object message
(k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go; generated.proto of k8s.io/api/core/v1
and k8s.io/apimachinery/pkg/apis/meta/v1 for the field numbers below).

A small hand-written wire decoder walks the message using the schema tables below and produces the
same JSON shape the API would accept. Unknown fields are skipped; unknown kinds raise ``ProtobufError``.
"""
from __future__ import annotations

import base64
import datetime as dt

MAGIC = b"k8s\x00"

# Field kinds: "string", "bytes" (base64 in JSON), "int", "bool", "time", a dict (nested message),
# ("map", key_kind, value_kind), ("repeated", kind).
TIME = "time"

OWNER_REFERENCE = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                   5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}

OBJECT_META = {
    1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
    4: ("selfLink", "string"), 5: ("uid", "string"), 6: ("resourceVersion", "string"),
    7: ("generation", "int"), 8: ("creationTimestamp", TIME), 9: ("deletionTimestamp", TIME),
    10: ("deletionGracePeriodSeconds", "int"),
    11: ("labels", ("map", "string", "string")), 12: ("annotations", ("map", "string", "string")),
    13: ("ownerReferences", ("repeated", OWNER_REFERENCE)), 14: ("finalizers", ("repeated", "string")),
}

OBJECT_REFERENCE = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                    4: ("uid", "string"), 5: ("apiVersion", "string"), 6: ("resourceVersion", "string"),
                    7: ("fieldPath", "string")}

SCHEMAS: dict[str, dict] = {
    "Secret": {1: ("metadata", OBJECT_META), 2: ("data", ("map", "string", "bytes")), 3: ("type", "string"),
               4: ("stringData", ("map", "string", "string")), 5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", OBJECT_META), 2: ("data", ("map", "string", "string")),
                  3: ("binaryData", ("map", "string", "bytes")), 4: ("immutable", "bool")},
    "Namespace": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("finalizers", ("repeated", "string"))}),
                  3: ("status", {1: ("phase", "string")})},
    "ServiceAccount": {1: ("metadata", OBJECT_META), 2: ("secrets", ("repeated", OBJECT_REFERENCE)),
                       3: ("imagePullSecrets", ("repeated", {1: ("name", "string")})),
                       4: ("automountServiceAccountToken", "bool")},
}

UNKNOWN = {1: ("typeMeta", {1: ("apiVersion", "string"), 2: ("kind", "string")}), 2: ("raw", "raw"),
           3: ("contentEncoding", "string"), 4: ("contentType", "string")}
TIMESTAMP = {1: ("seconds", "int"), 2: ("nanos", "int")}
DELETE_OPTIONS = {2: ("gracePeriodSeconds", "int"), 4: ("orphanDependents", "bool"),
                  5: ("propagationPolicy", "string"), 6: ("dryRun", ("repeated", "string"))}


class ProtobufError(ValueError):
    """The body is not a protobuf message this decoder understands."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read a base-128 varint at pos; return (value, new position)."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def iter_fields(buf: bytes):
    """Yield (field number, wire type, value) for each field of a message."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} for field {number}")
        if pos > len(buf):
            raise ProtobufError(f"truncated field {number}")
        yield number, wire, value


def _scalar(kind, value):
    """Convert one wire value to its JSON form according to kind."""
    if kind == "string":
        return value.decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "raw":
        return bytes(value)
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind == TIME:
        ts = decode_message(value, TIMESTAMP)
        if not ts.get("seconds"):
            return None
        moment = dt.datetime.fromtimestamp(ts.get("seconds", 0), dt.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(kind, dict):
        return decode_message(value, kind)
    raise ProtobufError(f"unknown field kind {kind!r}")


def _map_entry(value: bytes, key_kind, value_kind) -> tuple:
    """Decode a map entry message {1: key, 2: value}."""
    entry = decode_message(value, {1: ("key", key_kind), 2: ("value", value_kind)})
    default = "" if value_kind in ("string", "bytes") else None
    return entry.get("key", ""), entry.get("value", default)


def decode_message(buf: bytes, schema: dict) -> dict:
    """Decode a message into a dict following a schema table; unknown fields are skipped."""
    out: dict = {}
    for number, _wire, value in iter_fields(buf):
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            key, val = _map_entry(value, kind[1], kind[2])
            out.setdefault(name, {})[key] = val
        elif isinstance(kind, tuple) and kind[0] == "repeated":
            out.setdefault(name, []).append(_scalar(kind[1], value))
        else:
            value = _scalar(kind, value)
            if value not in ("", 0, None) or isinstance(value, bool):  # Go emits zero values; JSON omits them
                out[name] = value
    return out


def decode_unknown(body: bytes) -> tuple[str, str, bytes]:
    """Split a k8s protobuf envelope into (apiVersion, kind, raw object bytes)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s\\x00 protobuf magic prefix")
    env = decode_message(body[len(MAGIC):], UNKNOWN)
    if env.get("contentEncoding"):
        raise ProtobufError(f"unsupported content encoding {env['contentEncoding']!r}")
    meta = env.get("typeMeta", {})
    return meta.get("apiVersion", ""), meta.get("kind", ""), env.get("raw", b"")


def decode_object(body: bytes) -> dict:
    """Decode a protobuf request body into a JSON-shaped Kubernetes object."""
    api_version, kind, raw = decode_unknown(body)
    if kind == "DeleteOptions":
        return {"apiVersion": api_version, "kind": kind, **decode_message(raw, DELETE_OPTIONS)}
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtobufError(f"protobuf bodies of kind {kind!r} are not supported by the world's API server; "
                            f"supported: {', '.join(sorted(SCHEMAS))} (send JSON instead)")
    return {"apiVersion": api_version, "kind": kind, **decode_message(raw, schema)}
