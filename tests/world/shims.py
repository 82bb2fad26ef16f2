"""Shims on PATH for the simulated world: every call is logged, faults are injected, then the fake
(talosctl, op) runs in-process or the real binary (kubectl, helm, helmfile) is exec'd.

Layout in a world directory DIR:
- DIR/bin/<tool>: generated Python scripts (`#!<current python> [-S]`).
- DIR/calls.jsonl: one JSON object per call, appended with a single O_APPEND write:
  {"tool", "argv" (secrets redacted), "mutating", "ts", "cwd", "pid"[, "fault"]}.
- DIR/faults.json: a list of rules {"tool", "match" (regex over " ".join(argv)), "action": "fail"|"hang",
  "exit", "stderr", "stdout", "seconds", "times"}; the first matching rule applies, `times` is
  decremented under an flock on DIR/faults.lock.

This module is imported by every shim, so its top level imports only os/sys/time (a kubectl call
then costs one `python -S` start-up, ~15 ms, before the exec).
"""
from __future__ import annotations

import os
import sys
import time

CALLS_FILE = "calls.jsonl"
FAULTS_FILE = "faults.json"
FAULTS_LOCK = "faults.lock"
REDACTED = "<redacted>"
PY_FAKES = {"talosctl": "tests.world.talosctl", "op": "tests.world.op"}
NEEDS_YAML = {"talosctl"}  # shims run with -S: PyYAML's directory is put on sys.path explicitly

# Flags that take a value, as far as finding the verb (first positional) needs.
VALUE_FLAGS = {
    "op": {"--vault", "--format", "--account", "--session", "--config", "--encoding", "--title", "--category",
           "--template", "--tags", "--url", "--fields"},
    "talosctl": {"--talosconfig", "--context", "-n", "--nodes", "-e", "--endpoints", "--cluster"},
    "kubectl": {"-n", "--namespace", "--kubeconfig", "--context", "--cluster", "--user", "-s", "--server",
                "--token", "--as", "--as-group", "--as-uid", "--certificate-authority", "--client-certificate",
                "--client-key", "--request-timeout", "--tls-server-name", "--cache-dir", "-v", "--v",
                "--vmodule", "--profile", "--profile-output", "--log-file", "--username", "--password"},
    "helm": {"-n", "--namespace", "--kubeconfig", "--kube-context", "--kube-apiserver", "--kube-as-user",
             "--kube-as-group", "--kube-ca-file", "--kube-token", "--kube-tls-server-name", "--registry-config",
             "--repository-cache", "--repository-config", "--burst-limit", "--qps"},
    "helmfile": {"-f", "--file", "-e", "--environment", "-l", "--selector", "--state-values-set",
                 "--state-values-set-string", "--state-values-file", "-n", "--namespace", "--kube-context",
                 "-b", "--helm-binary", "--log-level", "--chart", "-c", "--color", "--kustomize-binary",
                 "--enable-live-output", "--args"},
}
MUTATING_VERBS = {
    "talosctl": {"apply-config", "apply", "bootstrap", "reset", "upgrade", "upgrade-k8s", "reboot",
                 "shutdown", "patch", "edit", "rollback"},
    "kubectl": {"apply", "create", "patch", "replace", "delete", "label", "annotate", "scale", "edit", "set",
                "taint", "drain", "cordon", "uncordon", "expose", "autoscale", "run", "certificate"},
    "helm": {"install", "upgrade", "uninstall", "delete", "del", "un", "rollback"},
    "helmfile": {"sync", "apply", "destroy", "delete"},
    "op": {"item"},             # 1Password changes too: `op item create/edit/delete` (below)
}
# Sub-verbs that decide whether a verb mutates: (tool, verb) -> mutating sub-verbs.
MUTATING_SUBVERBS = {
    ("kubectl", "rollout"): {"restart", "undo", "pause", "resume"},
    ("kubectl", "auth"): {"reconcile"},
    ("talosctl", "etcd"): {"leave", "remove-member", "forfeit-leadership"},
    ("talosctl", "service"): {"start", "stop", "restart"},
    ("op", "item"): {"create", "edit", "delete", "move"},
}
READ_ONLY_SUBVERBS = {("kubectl", "apply"): {"view-last-applied"}}
# Flags whose value is always a secret (or a list of key=secret pairs).
SECRET_VALUE_FLAGS = {"--set", "--set-string", "--set-json", "--set-literal", "--from-literal",
                      "--state-values-set", "--state-values-set-string", "--token", "--kube-token",
                      "--password", "--docker-password"}
SECRET_HINTS = ("password", "passwd", "token", "secret", "passphrase", "apikey", "api-key", "api_key",
                "credential", "private-key", "private_key")
TOKEN_PREFIXES = ("ops_", "ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "sk-", "eyJ")


# ---------------------------------------------------------------- classification

def _positionals(tool: str, argv: list[str]) -> list[str]:
    """Positional tokens of argv, skipping flags and the values of known value flags."""
    out, skip = [], False
    value_flags = VALUE_FLAGS.get(tool, set())
    for token in argv:
        if skip:
            skip = False
        elif token == "--":
            break
        elif token.startswith("-") and len(token) > 1:
            skip = "=" not in token and token in value_flags
        else:
            out.append(token)
    return out


def _dry_run(tool: str, argv: list[str]) -> bool:
    """True when the call asks for a dry run (kubectl/helm --dry-run[=client|server], talosctl --dry-run)."""
    for token in argv:
        if token == "--dry-run":
            return True
        if token.startswith("--dry-run="):
            return token.split("=", 1)[1].lower() not in ("none", "false", "0")
    return False


def is_mutating(tool: str, argv: list[str]) -> bool:
    """Whether a call changes the cluster (pure function of the tool name and its arguments)."""
    tool = os.path.basename(tool)
    words = _positionals(tool, argv)
    if not words or tool not in MUTATING_VERBS:
        return False
    verb, sub = words[0], (words[1] if len(words) > 1 else "")
    if (tool, verb) in MUTATING_SUBVERBS:
        mutates = any(word in MUTATING_SUBVERBS[(tool, verb)] for word in words[1:3])
    else:
        mutates = verb in MUTATING_VERBS[tool] and sub not in READ_ONLY_SUBVERBS.get((tool, verb), ())
    return mutates and not _dry_run(tool, argv)


# ---------------------------------------------------------------- redaction

def looks_secret(text: str) -> bool:
    """Heuristic: PEM blocks, known token prefixes, long mixed-case base64-ish strings."""
    if "op://" in text:
        return False
    if "-----BEGIN" in text:
        return True
    if len(text) >= 20 and text.startswith(TOKEN_PREFIXES):
        return True
    charset_ok = all(c.isalnum() or c in "+/=_-" for c in text)
    mixed = any(c.isdigit() for c in text) and any(c.isupper() for c in text) and any(c.islower() for c in text)
    return len(text) >= 40 and charset_ok and mixed


def _hinted(name: str) -> bool:
    """A flag or key name that names a secret."""
    lowered = name.lower()
    return any(h in lowered for h in SECRET_HINTS)


def _redact_pairs(value: str) -> str:
    """"a=1,b=2" -> "a=<redacted>,b=<redacted>"; op:// references stay visible."""
    if "op://" in value:
        return value
    parts = []
    for part in value.split(","):
        key, eq, _ = part.partition("=")
        parts.append(f"{key}={REDACTED}" if eq else REDACTED)
    return ",".join(parts)


def _redact_positional(token: str) -> str:
    """Redact a positional that is a secret or a KEY=secret assignment."""
    key, eq, value = token.partition("=")
    if eq and _hinted(key) and "op://" not in value:
        return f"{key}={REDACTED}"
    return REDACTED if looks_secret(token) else token


def _secret_flag(name: str, argv: list[str]) -> bool:
    """Whether the value of flag `name` must be redacted in this call."""
    if name in ("-p", "--patch"):
        return any(a.lower().startswith("secret") for a in argv)
    return name in SECRET_VALUE_FLAGS or (name.startswith("--") and _hinted(name))


def _redact_value(name: str, value: str) -> str:
    """A secret flag's value: whole patches are hidden, key=value lists keep their keys."""
    return REDACTED if name in ("-p", "--patch") else _redact_pairs(value)


def redact_argv(tool: str, argv: list[str]) -> list[str]:
    """argv with secret values replaced by <redacted> (op:// references are kept)."""
    out, pending = [], ""
    for token in argv:
        if pending:
            out.append(_redact_value(pending, token))
            pending = ""
        elif token.startswith("-") and len(token) > 1:
            name, eq, value = token.partition("=")
            if _secret_flag(name, argv):
                out.append(f"{name}={_redact_value(name, value)}" if eq else token)
                pending = "" if eq else name
            else:
                out.append(token if not looks_secret(value) else f"{name}={REDACTED}")
        else:
            out.append(_redact_positional(token))
    return out


# ---------------------------------------------------------------- call log

def _json(value) -> str:
    """Minimal JSON encoder (keeps the shim free of the json/re imports)."""
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        out = []
        for char in value:
            code = ord(char)
            if char in '"\\':
                out.append("\\" + char)
            elif code < 0x20:
                out.append("\\u%04x" % code)
            else:
                out.append(char)
        return '"' + "".join(out) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_json(str(k))}: {_json(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_json(v) for v in value) + "]"


def call_record(tool: str, argv: list[str], fault: dict | None = None) -> dict:
    """The calls.jsonl record of one invocation."""
    record = {"tool": tool, "argv": redact_argv(tool, argv), "mutating": is_mutating(tool, argv),
              "ts": time.time(), "cwd": os.getcwd(), "pid": os.getpid()}
    if fault:
        record["fault"] = fault.get("action", "fail")
    return record


def log_call(world: str, record: dict) -> None:
    """Append one JSON line with a single O_APPEND write (no interleaving between processes)."""
    line = (_json(record) + "\n").encode("utf-8", "surrogateescape")
    fd = os.open(os.path.join(world, CALLS_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- faults

def _take_fault(world: str, tool: str, argv: list[str]) -> dict | None:
    """The first matching fault rule (decrementing `times` atomically), if any."""
    path = os.path.join(world, FAULTS_FILE)
    if not os.path.exists(path):
        return None
    import fcntl
    import json
    import re

    with open(os.path.join(world, FAULTS_LOCK), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as handle:
                rules = json.load(handle)
        except (OSError, ValueError):
            return None
        joined = " ".join(argv)
        for rule in rules:
            if rule.get("tool") not in (None, tool) or not re.search(rule.get("match", ""), joined):
                continue
            if rule.get("times") is not None:
                if rule["times"] <= 0:
                    continue
                rule["times"] -= 1
                _write_json(path, rules)
            return dict(rule)
    return None


def _write_json(path: str, data) -> None:
    """Atomically replace a JSON file."""
    import json

    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def _act(fault: dict) -> None:
    """Apply a fault: "fail" prints and exits; "hang" sleeps, then the call proceeds."""
    if fault.get("action", "fail") == "hang":
        time.sleep(float(fault.get("seconds", 3600)))
        return
    if fault.get("stdout"):
        sys.stdout.write(fault["stdout"])
        sys.stdout.flush()
    text = fault.get("stderr", "")
    if text:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()
    os._exit(int(fault.get("exit", 1)))


# ---------------------------------------------------------------- shim entry point

def run_shim(world: str, tool: str, argv: list[str], real: str | None = None) -> None:
    """Log the call, apply a fault, then exec the real binary or run the Python fake."""
    fault = _take_fault(world, tool, argv)
    log_call(world, call_record(tool, argv, fault))
    if fault:
        _act(fault)
    if real:
        os.execv(real, [real] + list(argv))
    os.environ.setdefault("TALOS_WORLD_DIR", world)
    import importlib

    sys.argv = [tool] + list(argv)
    sys.exit(importlib.import_module(PY_FAKES[tool]).main(list(argv)))


# ---------------------------------------------------------------- world API

def repo_root():
    """The repository root (parent of the `tests` package)."""
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def _yaml_dir() -> str:
    """The directory that holds the `yaml` package (site-packages)."""
    import yaml

    return os.path.dirname(os.path.dirname(os.path.abspath(yaml.__file__)))


def _script(world, tool: str, real) -> str:
    """Source of one shim script: `python -S`, byte-code cached under the git-ignored .cache/."""
    root = repo_root()
    paths = [str(root)] + ([_yaml_dir()] if tool in NEEDS_YAML else [])
    return (f"#!{sys.executable} -S\n"
            f"# Generated by tests/world/shims.py: logs to {world}/{CALLS_FILE}, then runs {real or tool}.\n"
            "import sys\n"
            f"sys.pycache_prefix, sys.dont_write_bytecode = {str(root / '.cache' / 'pycache')!r}, False\n"
            f"sys.path[:0] = {paths!r}\n"
            "from tests.world.shims import run_shim\n"
            f"run_shim({str(world)!r}, {tool!r}, sys.argv[1:], {str(real) if real else None!r})\n")


def install_shims(world_dir, real_bins: dict):
    """Create DIR/bin with talosctl, op and exec shims for each real binary; return DIR/bin."""
    from pathlib import Path

    world = Path(world_dir).resolve()
    bin_dir = world / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    targets = {tool: None for tool in PY_FAKES}
    targets.update({tool: Path(path).resolve() for tool, path in (real_bins or {}).items()})
    for tool, real in targets.items():
        shim = bin_dir / tool
        shim.write_text(_script(world, tool, real))
        shim.chmod(0o755)
    return bin_dir


def add_fault(world_dir, **rule) -> None:
    """Append a fault rule to DIR/faults.json (under the faults lock)."""
    import fcntl
    import json

    path = os.path.join(str(world_dir), FAULTS_FILE)
    with open(os.path.join(str(world_dir), FAULTS_LOCK), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as handle:
                rules = json.load(handle)
        except FileNotFoundError:
            rules = []
        rules.append(rule)
        _write_json(path, rules)


def clear_faults(world_dir) -> None:
    """Remove every fault rule."""
    try:
        os.remove(os.path.join(str(world_dir), FAULTS_FILE))
    except FileNotFoundError:
        pass


def read_calls(world_dir) -> list[dict]:
    """Every logged call, oldest first."""
    import json

    try:
        with open(os.path.join(str(world_dir), CALLS_FILE)) as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []
