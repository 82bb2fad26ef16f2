"""Machine configs as a Talos node reads them: parse (configloader), validate, the facts the world
keeps about a node, CanApplyImmediate, and the config diff of `apply-config --dry-run`.

Sources: pkg/machinery/config/configloader/internal/decoder/decoder.go parse()/decode();
internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go (*Runtime).CanApplyImmediate;
pkg/machinery/config/configdiff/configdiff.go DiffConfigs (documents re-encoded without comments,
container.go encodeToBuf joins them with "---"); pkg/machinery/textdiff/textdiff.go Diff with
neticdk/go-stdlib v1.0.1 diff/format.go UnifiedFormatter and diff/chunk.go (3 context lines).
"""
from __future__ import annotations

import base64
import binascii
import copy
import difflib
import hashlib
from dataclasses import dataclass, field

from tests.world import go_yaml
from tests.world.talos_client import multierror

# Base64-typed leaves of the v1alpha1 config (siderolabs/crypto PEMEncodedCertificateAndKey and
# PEMEncodedKey UnmarshalYAML: base64.StdEncoding.DecodeString).
BASE64_KEYS = {"crt", "key", "ca"}
# Modes accepted by `talosctl validate --mode` (internal/app/machined/pkg/runtime/mode.go).
RUNTIME_MODES = ("cloud", "container", "metal")
# CanApplyImmediate: fields copied from the current config before comparing.
IMMEDIATE_MACHINE = ("ca", "acceptedCAs", "time", "certSANs", "install", "network", "sysfs", "sysctls",
                     "logging", "controlPlane", "kubelet", "kernel", "registries", "pods", "seccompProfiles",
                     "nodeAnnotations", "nodeLabels", "nodeTaints")
IMMEDIATE_FEATURES = ("kubernetesTalosAPIAccess", "kubePrism", "hostDNS", "imageCache", "nodeAddressSortAlgorithm")
CONTEXT_LINES = 3  # neticdk diff.DefaultContextLines


class ConfigError(Exception):
    """A config the node refuses to load (status InvalidArgument with this text)."""


@dataclass
class MachineConfig:
    """A parsed machine config: its documents and the facts the world keeps."""

    text: str
    docs: list
    v1alpha1: dict | None
    errors: list = field(default_factory=list)

    @property
    def machine(self) -> dict:
        """The v1alpha1 machine section."""
        return (self.v1alpha1 or {}).get("machine") or {}

    @property
    def cluster(self) -> dict:
        """The v1alpha1 cluster section."""
        return (self.v1alpha1 or {}).get("cluster") or {}

    def hostname(self) -> str | None:
        """HostnameConfig.hostname, else machine.network.hostname."""
        for doc in self.docs:
            if doc.get("kind") == "HostnameConfig" and doc.get("hostname"):
                return str(doc["hostname"])
        return (self.machine.get("network") or {}).get("hostname")

    def machine_ca_sha256(self) -> str | None:
        """sha256 of the machine CA certificate (a talosconfig's `ca` must match it)."""
        crt = (self.machine.get("ca") or {}).get("crt")
        return sha_of_b64(str(crt)) if crt else None


def go_path_error(op: str, exc: OSError) -> str:
    """Go's *fs.PathError text: "open /x: no such file or directory"."""
    return f"{op} {exc.filename}: {(exc.strerror or str(exc)).lower()}"


def sha_of_b64(value: str) -> str:
    """sha256 of base64-decoded bytes (of the raw text when not base64)."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = value.strip().encode()
    return hashlib.sha256(raw).hexdigest()


def _go_base64_error(value: str) -> str:
    """encoding/base64 CorruptInputError: "illegal base64 data at input byte %d"."""
    index = next((i for i, ch in enumerate(value) if not (ch.isalnum() or ch in "+/=")), 0)
    return f"illegal base64 data at input byte {index}"


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


def _doc_id(doc: dict) -> str:
    """decoder.go documentID as printed: apiVersion/kind/name."""
    return f"{doc.get('apiVersion') or ''}/{doc.get('kind') or 'v1alpha1'}/{doc.get('name') or ''}"


def _reject_unresolved(docs: list) -> None:
    """op:// in a base64 field fails decoding; elsewhere a world rule refuses it (secrets not injected)."""
    for index, doc in enumerate(docs):
        for path, value in _walk(doc):
            if not (isinstance(value, str) and "op://" in value):
                continue
            if path.rsplit(".", 1)[-1] in BASE64_KEYS:
                raise ConfigError(f"error decoding document {_doc_id(doc)} (line 1): error decoding "
                                  f"{doc.get('kind') or ''} to *v1alpha1.Config: {_go_base64_error(value)}")
            raise ConfigError(f"document {index}: unresolved secret reference at {path}")


def _load_docs(text: str) -> list:
    """decoder.go parse(): every document must be a mapping."""
    try:
        docs = [d for d in go_yaml.load_all(text) if d is not None]
    except Exception as exc:  # noqa: BLE001 - PyYAML's errors stand for yaml.v4's
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"decode error: yaml: {line}{getattr(exc, 'problem', None) or exc}") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigError("expected a YAML document at line 1")
    return docs


def _validate(v1: dict) -> list[str]:
    """v1alpha1_validation.go checks the world models (wording of that file, some approximate)."""
    machine, cluster = v1.get("machine"), v1.get("cluster")
    errors = []
    if not isinstance(machine, dict):
        errors.append("machine instructions are required")
    if not isinstance(cluster, dict):
        errors.append("cluster instructions are required")
        return errors
    if not (cluster.get("controlPlane") or {}).get("endpoint"):
        errors.append("a cluster endpoint is required")
    if isinstance(machine, dict) and machine.get("type") not in ("controlplane", "worker", "init"):
        errors.append(f'invalid machine type: "{machine.get("type") or ""}"')  # config/machine/machine.go ParseType
    if not cluster.get("clusterName"):
        errors.append("cluster name is required")  # world rule: etcd clusters are keyed by name
    return errors


def parse(data: bytes) -> MachineConfig:
    """configloader.NewFromBytes + Validate: ConfigError for load failures, .errors for validation."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"decode error: yaml: invalid UTF-8: {exc}") from None
    docs = _load_docs(text)
    _reject_unresolved(docs)
    v1 = next((d for d in docs if "kind" not in d and ("machine" in d or d.get("version") == "v1alpha1")), None)
    return MachineConfig(text=text, docs=docs, v1alpha1=v1, errors=_validate(v1) if v1 else [])


def validation_error(cfg: MachineConfig) -> str | None:
    """Validate()'s multierror text, or None."""
    return multierror(cfg.errors) if cfg.errors else None


def encode(docs: list) -> str:
    """container.EncodeBytes(WithComments(CommentsDisabled)): v1alpha1 first, then the documents."""
    v1 = [d for d in docs if "kind" not in d]
    return "---\n".join(go_yaml.dump(d) for d in v1 + [d for d in docs if "kind" in d])


def _edits(old: str, new: str) -> list[tuple[str, str]]:
    """Line edits (" ", "-", "+") turning old into new, deletions before insertions."""
    a = old.split("\n")[:-1] if old.endswith("\n") else (old.split("\n") if old else [])
    b = new.split("\n")[:-1] if new.endswith("\n") else (new.split("\n") if new else [])
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            edits += [(" ", line) for line in a[i1:i2]]
            continue
        edits += [("-", line) for line in a[i1:i2]] + [("+", line) for line in b[j1:j2]]
    return edits


def _chunks(edits: list) -> list[tuple[int, int]]:
    """chunk.go calculateChunkRanges: changes closer than 2*context share a hunk."""
    changes = [i for i, (kind, _) in enumerate(edits) if kind != " "]
    groups: list[list[int]] = []
    for index in changes:
        if groups and index - groups[-1][-1] <= 2 * CONTEXT_LINES:
            groups[-1].append(index)
        else:
            groups.append([index])
    ranges = [(max(0, g[0] - CONTEXT_LINES), min(len(edits), g[-1] + CONTEXT_LINES + 1)) for g in groups]
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def text_diff(old: str, new: str) -> str:
    """textdiff.Diff: "" when equal, else "--- a\\n+++ b\\n" and "@@ -l,n +l,n @@" hunks."""
    if old == new:
        return ""
    edits = _edits(old, new)
    out = ["--- a", "+++ b"]
    for start, end in _chunks(edits):
        a_line = 1 + sum(1 for kind, _ in edits[:start] if kind != "+")
        b_line = 1 + sum(1 for kind, _ in edits[:start] if kind != "-")
        a_len = sum(1 for kind, _ in edits[start:end] if kind != "+")
        b_len = sum(1 for kind, _ in edits[start:end] if kind != "-")
        out.append(f"@@ -{a_line - 1 if a_len == 0 else a_line},{a_len} "
                   f"+{b_line - 1 if b_len == 0 else b_line},{b_len} @@")
        out += [kind + line for kind, line in edits[start:end]]
    return "\n".join(out) + "\n"


def _copy_field(target: dict, source: dict, key: str) -> None:
    """newConfig.X = currentConfig.X (absent stays absent)."""
    if key in source:
        target[key] = copy.deepcopy(source[key])
    else:
        target.pop(key, None)


def immediate_error(current: dict | None, new: dict | None) -> str | None:
    """(*Runtime).CanApplyImmediate: only the v1alpha1 document is compared."""
    if current is None:
        return "current config is not v1alpha1"
    if new is None:
        return "new config is not v1alpha1"
    candidate = copy.deepcopy(new)
    for key in ("debug", "cluster"):
        _copy_field(candidate, current, key)
    machine, old_machine = candidate.get("machine"), current.get("machine")
    if isinstance(machine, dict) and isinstance(old_machine, dict):
        for key in IMMEDIATE_MACHINE:
            _copy_field(machine, old_machine, key)
        features, old_features = machine.get("features"), old_machine.get("features")
        if isinstance(features, dict) and isinstance(old_features, dict):
            for key in IMMEDIATE_FEATURES:
                _copy_field(features, old_features, key)
    if candidate == current:
        return None
    diff = text_diff(go_yaml.dump(current), go_yaml.dump(candidate))
    return f"this config change can't be applied in immediate mode\ndiff:\n{diff}"
