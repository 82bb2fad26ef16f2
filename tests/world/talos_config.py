"""Machine-config and talosconfig parsing for the fake talosctl.

Only what the world needs is extracted; the applied config itself is never stored (it holds
secrets): callers keep its sha256 and a per-leaf hash map used to print a secret-free diff.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field

import yaml

# Base64-typed leaves of the v1alpha1 config (PEM certs/keys are []byte, decoded with
# encoding/base64): an unresolved "op://" there fails decoding like Go's base64 does.
BASE64_KEYS = {"crt", "key", "ca", "aescbcEncryptionSecret", "secretboxEncryptionSecret"}
# Modes accepted by `talosctl validate --mode` (internal/app/machined/pkg/runtime/mode.go).
RUNTIME_MODES = ("cloud", "container", "metal")


class ConfigError(Exception):
    """A config that the node refuses: phase is "parse" or "validate"."""

    def __init__(self, message: str, phase: str):
        """Keep the message and the phase that failed."""
        super().__init__(message)
        self.phase = phase


@dataclass
class MachineConfig:
    """The facts the world keeps about an applied machine config."""

    sha256: str
    has_v1alpha1: bool
    machine_type: str | None = None
    cluster_name: str | None = None
    endpoint: str | None = None
    hostname: str | None = None
    machine_ca_sha256: str | None = None
    install: dict | None = None
    paths: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


def multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror's ListFormatFunc output."""
    head = "1 error occurred:" if len(errors) == 1 else f"{len(errors)} errors occurred:"
    return head + "".join(f"\n\t* {e}" for e in errors) + "\n\n"


def _go_base64_error(value: str) -> str:
    """encoding/base64's CorruptInputError text for `value`."""
    for index, char in enumerate(value):
        if not (char.isalnum() or char in "+/="):
            return f"illegal base64 data at input byte {index}"
    return "illegal base64 data at input byte 0"


def _walk(node, prefix: str = ""):
    """Yield (dotted path, leaf value) for every scalar in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{prefix}[{index}]")
    else:
        yield prefix, node


def _reject_op_refs(docs: list) -> None:
    """Refuse unresolved 1Password references (a real node fails decoding the cert/key)."""
    for index, doc in enumerate(docs):
        for path, value in _walk(doc):
            if isinstance(value, str) and "op://" in value:
                leaf = path.rsplit(".", 1)[-1]
                if leaf in BASE64_KEYS:
                    raise ConfigError(_go_base64_error(value), "parse")
                # World rule (stricter than Talos, which would store the literal string):
                # an op:// reference anywhere means the secrets were never injected.
                raise ConfigError(f"document {index}: unresolved secret reference at {path}",
                                  "parse")


def _load_docs(data: bytes) -> list:
    """Parse multi-document YAML like the configloader does (yaml errors are fatal)."""
    try:
        docs = [d for d in yaml.safe_load_all(data.decode("utf-8")) if d is not None]
    except UnicodeDecodeError as exc:
        raise ConfigError(f"failed to decode config: {exc}", "parse") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"yaml: {line}{getattr(exc, 'problem', None) or exc}", "parse") from None
    for doc in docs:
        if not isinstance(doc, dict):
            # configloader/internal/decoder: a document must be a mapping.
            raise ConfigError("error decoding document: not a mapping", "parse")
    if not docs:
        raise ConfigError("no documents found in config", "parse")
    return docs


def _hostname(v1: dict, docs: list) -> str | None:
    """Hostname from machine.network.hostname or a HostnameConfig document (Talos 1.12+)."""
    for doc in docs:
        if doc.get("kind") == "HostnameConfig" and doc.get("hostname"):
            return str(doc["hostname"])
    network = ((v1.get("machine") or {}).get("network") or {})
    return network.get("hostname")


def _validate(v1: dict) -> list[str]:
    """The v1alpha1 validation errors the world checks (v1alpha1_validation.go wording)."""
    machine, cluster = v1.get("machine"), v1.get("cluster")
    errors = []
    if not isinstance(machine, dict):
        errors.append("machine instructions are required")
    if not isinstance(cluster, dict):
        errors.append("cluster instructions are required")
        return errors
    endpoint = ((cluster.get("controlPlane") or {}).get("endpoint"))
    if not endpoint:
        errors.append("a cluster endpoint is required")
    if isinstance(machine, dict) and machine.get("type") not in ("controlplane", "worker", "init"):
        # machine.ParseType (config/machine/machine.go): "invalid machine type: %q".
        errors.append(f'invalid machine type: "{machine.get("type") or ""}"')
    if not cluster.get("clusterName"):
        # Approximation: the world requires a cluster name to key its etcd clusters.
        errors.append("cluster name is required")
    return errors


def _ca_sha(v1: dict) -> str | None:
    """sha256 of the decoded machine CA certificate (what a talosconfig `ca` must match)."""
    crt = (((v1.get("machine") or {}).get("ca") or {}).get("crt"))
    return sha_of_b64(crt) if crt else None


def sha_of_b64(value: str) -> str:
    """sha256 of base64-decoded bytes (of the raw text when not base64)."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = value.strip().encode()
    return hashlib.sha256(raw).hexdigest()


def leaf_hashes(docs: list) -> dict:
    """Secret-free fingerprint of every leaf: dotted path -> 12 hex chars of its sha256."""
    out = {}
    for index, doc in enumerate(docs):
        name = doc.get("kind") or "v1alpha1"
        for path, value in _walk(doc):
            digest = hashlib.sha256(repr(value).encode()).hexdigest()[:12]
            out[f"{name}#{index}:{path}" if name != "v1alpha1" else path] = digest
    return out


def parse_machine_config(data: bytes) -> MachineConfig:
    """Parse and validate a machine config; raise ConfigError on parse failures."""
    docs = _load_docs(data)
    _reject_op_refs(docs)
    v1 = next((d for d in docs if d.get("version") == "v1alpha1" and "kind" not in d), None)
    cfg = MachineConfig(sha256=hashlib.sha256(data).hexdigest(), has_v1alpha1=v1 is not None,
                        paths=leaf_hashes(docs))
    if v1 is None:
        return cfg
    cfg.errors = _validate(v1)
    machine, cluster = v1.get("machine") or {}, v1.get("cluster") or {}
    cfg.machine_type = machine.get("type") if isinstance(machine, dict) else None
    cfg.cluster_name = cluster.get("clusterName") if isinstance(cluster, dict) else None
    cfg.endpoint = ((cluster.get("controlPlane") or {}).get("endpoint")) if isinstance(cluster, dict) else None
    cfg.hostname = _hostname(v1, docs)
    cfg.machine_ca_sha256 = _ca_sha(v1)
    cfg.install = machine.get("install") if isinstance(machine, dict) else None
    return cfg


def diff_paths(old: dict, new: dict) -> list[str]:
    """Secret-free diff lines between two leaf-hash maps ("+", "-", "~" per dotted path)."""
    lines = [f"- {p}" for p in sorted(old.keys() - new.keys())]
    lines += [f"+ {p}" for p in sorted(new.keys() - old.keys())]
    lines += [f"~ {p}" for p in sorted(old.keys() & new.keys()) if old[p] != new[p]]
    return sorted(lines, key=lambda line: line[2:])


@dataclass
class TalosConfig:
    """The parts of a talosconfig context the fake client uses."""

    context: str
    endpoints: list
    nodes: list
    ca_sha256: str | None


def load_talosconfig(path: str, context: str | None = None) -> TalosConfig:
    """Read a talosconfig (any path, including /dev/fd/N and /dev/stdin)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f'failed to open config file "{path}": open {path}: '
                          f"{(exc.strerror or str(exc)).lower()}", "parse") from None
    try:
        doc = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f'failed to open config file "{path}": {exc}', "parse") from None
    name = context or doc.get("context")
    contexts = doc.get("contexts") or {}
    if not isinstance(contexts, dict) or name not in contexts:
        # pkg/machinery/client: "context %q is not defined in 'contexts' key in config file".
        raise ConfigError(f"context \"{name or ''}\" is not defined in 'contexts' key in config file", "parse")
    ctx = contexts[name] or {}
    for key in ("ca", "crt", "key"):
        if not ctx.get(key):
            # Approximation of the client's TLS setup failure for a context without credentials.
            raise ConfigError(f"error constructing client: failed to build TLS config: {key} is empty", "parse")
    return TalosConfig(context=name, endpoints=list(ctx.get("endpoints") or []),
                       nodes=list(ctx.get("nodes") or []), ca_sha256=sha_of_b64(str(ctx["ca"])))
