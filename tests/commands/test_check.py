"""Invalid inputs are refused before anything is written.

Each case is one file tests/fixtures/invalid/<case>.yaml: a comment saying what it breaks and why it
must be refused, the `edit`s applied to a freshly rendered copy of the project, and what the output
of `doit render` must `expect`. Every case asserts that doit exits with its TaskFailed code (no
traceback), that the problem list names the file and key path (and guard rule, line), and that
build/ keeps every file's bytes and mtime.

Edit operations (applied in this order; one edit may combine several):
  remove: true                      delete the file
  text: "..."                       replace the whole file (malformed YAML)
  replace: {old: new}               replace text that occurs exactly once (keeps lines and comments)
  set: {dotted.path[0].key: value}  set values (missing mappings are created, [len] appends)
  delete: [dotted.path, ...]        delete keys or list items
  append: "..."                     append raw text
Paths into multi-document files (resources.yaml, the GitOps tree) start with documents[i], the
way the problems name them. `set`/`delete` rewrite the file with PyYAML (comments are lost).

A case may say what it `needs` from ../shared (e.g. [schemas]): skipped without it, failed in CI.

Expectation keys (a mapping, or a list of mappings for several problems):
  file, path     the problem's file and key path ("(document)" for a file that does not parse)
  rule           the guard id shown in [brackets]
  line           the line shown after the file name
  contains       substrings of the output
  absent         substrings that must not appear (secret values are never printed)
  problems       the exact problem count of the run
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from doit.runner import FAILURE

from tasks.yamlio import StrictLoader
from tests.project import executed_tasks, require_shared

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "invalid"
CASES = sorted(FIXTURES.glob("*.yaml"))
EDIT_KEYS = {"file", "remove", "text", "replace", "set", "delete", "append"}
EXPECT_KEYS = {"file", "path", "rule", "line", "contains", "absent", "problems"}
# One problem line of tasks.problems.format_problems: "  - file[:line]: [rule] path: expected ..."
PROBLEM = re.compile(r"^  - (?P<file>[^:\s]+)(?::(?P<line>\d+))?: (?:\[(?P<rule>[^\]]+)\] )?"
                     r"(?P<path>\S+): expected ")
COUNT = re.compile(r"^bootstrap check failed: (\d+) problem\(s\); nothing was written or applied$", re.M)


# --- applying edits -------------------------------------------------------------------------

def _keys(path: str) -> list:
    """'nodes[3].address' -> ['nodes', 3, 'address']."""
    keys = [int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]
    assert keys, f"empty key path {path!r}"
    return keys


def _parent(root, keys: list, create: bool):
    """The container holding the last key of keys."""
    node = root
    for key, following in zip(keys, keys[1:]):
        if create and isinstance(node, dict) and not isinstance(node.get(key), (dict, list)):
            node[key] = [] if isinstance(following, int) else {}
        node = node[key]
    return node


def _set(root, path: str, value) -> None:
    keys = _keys(path)
    parent = _parent(root, keys, create=True)
    if isinstance(parent, list) and keys[-1] == len(parent):
        parent.append(value)
    else:
        parent[keys[-1]] = value


def _delete(root, path: str) -> None:
    keys = _keys(path)
    del _parent(root, keys, create=False)[keys[-1]]


def _edit_structure(file: Path, edit: dict) -> None:
    """Apply set/delete to a YAML file (single or multi-document) and write it back."""
    docs = [d for d in yaml.load_all(file.read_text(encoding="utf-8"), Loader=StrictLoader) if d is not None]
    for path, value in (edit.get("set") or {}).items():
        multi = path.startswith("documents[")
        _set({"documents": docs} if multi else docs[0], path, value)
    for path in edit.get("delete") or []:
        _delete({"documents": docs} if path.startswith("documents[") else docs[0], path)
    if len(docs) == 1:
        text = yaml.safe_dump(docs[0], sort_keys=False)
    else:
        text = yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True)
    file.write_text(text, encoding="utf-8")


def apply_edit(root: Path, edit: dict) -> None:
    """Apply one edit of a case to the project copy at root."""
    unknown = set(edit) - EDIT_KEYS
    assert not unknown, f"unknown edit keys {sorted(unknown)}"
    file = root / edit["file"]
    if edit.get("remove"):
        file.unlink()
        return
    if "text" in edit:
        file.write_text(edit["text"], encoding="utf-8")
    for old, new in (edit.get("replace") or {}).items():
        text = file.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{edit['file']}: {old!r} occurs {text.count(old)} times, not once"
        file.write_text(text.replace(old, new), encoding="utf-8")
    if "set" in edit or "delete" in edit:
        _edit_structure(file, edit)
    if "append" in edit:
        with file.open("a", encoding="utf-8") as handle:
            handle.write(edit["append"])


def load_case(file: Path) -> dict:
    """A case file, checked for shape (a typo in a fixture must not pass silently)."""
    text = file.read_text(encoding="utf-8")
    assert text.startswith("# "), f"{file.name}: start with a one-line comment saying what breaks and why"
    case = yaml.load(text, Loader=StrictLoader)
    assert {"edit", "expect"} <= set(case) <= {"edit", "expect", "needs"}, f"{file.name}: keys {sorted(case)}"
    expects = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
    for expect in expects:
        assert {"file", "path"} <= set(expect) and set(expect) <= EXPECT_KEYS, f"{file.name}: {expect}"
    return {"edit": case["edit"], "expect": expects, "needs": case.get("needs", [])}


# --- checking the output --------------------------------------------------------------------

def problems(output: str) -> list[dict]:
    """Every problem line of the output, parsed."""
    return [m.groupdict() for m in map(PROBLEM.match, output.splitlines()) if m]


def check_expectation(expect: dict, output: str) -> None:
    """One problem matches file/path/rule/line, and the substrings are (not) there."""
    wanted = {"file": expect["file"], "path": expect["path"]}
    if "rule" in expect:
        wanted["rule"] = expect["rule"]
    if "line" in expect:
        wanted["line"] = str(expect["line"])
    found = problems(output)
    assert any(all(p[k] == v for k, v in wanted.items()) for p in found), \
        f"no problem matching {wanted} in:\n{output}"
    for text in expect.get("contains", []):
        assert str(text) in output, f"{text!r} not in:\n{output}"
    for text in expect.get("absent", []):
        assert str(text) not in output, f"{text!r} must not be shown:\n{output}"
    if "problems" in expect:
        counts = COUNT.findall(output)
        assert counts and int(counts[0]) == expect["problems"] == len(found), output


def render_refused(project, env) -> str:
    """Run doit render, expect TaskFailed (exit 1, not an error), return the combined output."""
    result = project.doit("render", env=env, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == FAILURE == 1, f"exit {result.returncode}:\n{output}"
    assert "Traceback" not in output and "TaskError" not in output, output
    assert COUNT.search(output), output
    return output


# --- the tests ------------------------------------------------------------------------------

def test_there_are_enough_cases():
    assert len(CASES) >= 35


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_invalid_input_is_refused(case_file, rendered, schema_env):
    """The case's edits make `doit render` fail with the expected problem; build/ is untouched."""
    case = load_case(case_file)
    for part in case["needs"]:
        require_shared(part)
    before = rendered.snapshot()
    for edit in case["edit"]:
        apply_edit(rendered.root, edit)
    output = render_refused(rendered, schema_env)
    for expect in case["expect"]:
        check_expectation(expect, output)
    assert rendered.snapshot() == before, "build/ changed (bytes or mtimes)"


SEVERAL = {
    # Schema stage: every settings file is loaded and checked, not only up to the first bad one.
    "schema": [
        {"file": "bootstrap/values/common.yaml", "replace": {"nameservers: [10.0.48.1]": "nameservers: [10.0.48.1"}},
        {"file": "bootstrap/values/cilium.yaml", "set": {"loadBalancer.vlan": "48"}},
        {"file": "bootstrap/values/kube-vip.yaml", "set": {"mode": "bgp"}},
        {"file": "bootstrap/charts.yaml", "delete": ["charts.cilium.repo"]},
    ],
    # After the schema: semantic checks, guards and drift together, across settings, resources and charts.
    "semantic-guards-drift": [
        {"file": "bootstrap/values/talos.yaml", "set": {"endpoint": "10.0.48.10"}},
        {"file": "bootstrap/resources.yaml", "set": {"documents[1].metadata.namespace": "default"}},
        {"file": "bootstrap/values/flux-instance.yaml",
         "set": {"values": {"instance": {"sync": {"url": "ssh://git@github.com/someone-else/home-ops.git"}}}}},
        {"file": "bootstrap/charts.yaml", "set": {"charts.spegel.version": "0.7.5"}},
    ],
}
SEVERAL_EXPECTED = {
    "schema": [("bootstrap/values/common.yaml", "(document)", None),
               ("bootstrap/values/cilium.yaml", "loadBalancer.vlan", None),
               ("bootstrap/values/kube-vip.yaml", "mode", None),
               ("bootstrap/charts.yaml", "charts.cilium.repo", None)],
    "semantic-guards-drift": [("bootstrap/values/talos.yaml", "endpoint", None),
                              ("bootstrap/resources.yaml", "documents[1].metadata.namespace",
                               "onepassword-secret-namespace"),
                              ("bootstrap/values/flux-instance.yaml", "values.instance.sync.url",
                               "flux-sync-target"),
                              ("bootstrap/charts.yaml", "charts.spegel.version", "chart-version-drift")],
}


@pytest.mark.parametrize("stage", sorted(SEVERAL))
def test_one_run_reports_every_problem(stage, rendered, schema_env):
    """Problems in several files are all reported by one run, each with its file and path."""
    before = rendered.snapshot()
    for edit in SEVERAL[stage]:
        apply_edit(rendered.root, edit)
    output = render_refused(rendered, schema_env)
    found = problems(output)
    assert int(COUNT.search(output).group(1)) == len(found) == len(SEVERAL_EXPECTED[stage]), output
    for file, path, rule in SEVERAL_EXPECTED[stage]:
        assert any(p["file"] == file and p["path"] == path and p["rule"] == rule for p in found), output
    assert rendered.snapshot() == before


def test_fixing_the_input_renders_again(rendered, schema_env):
    """After a refused run, fixing the input renders again: the check and exactly the artifacts
    that read the fixed files run; the others keep their bytes and mtimes."""
    before = rendered.snapshot()
    apply_edit(rendered.root, {"file": "bootstrap/values/kube-vip.yaml", "set": {"vip": "10.0.48.56"}})
    output = render_refused(rendered, schema_env)
    assert {p["path"] for p in problems(output)} == {"endpoint", "vip"}, output
    assert rendered.snapshot() == before
    # The fix: the Talos endpoint follows the VIP, and Cilium never hands the VIP to a Service.
    apply_edit(rendered.root, {"file": "bootstrap/values/talos.yaml", "set": {"endpoint": "10.0.48.56"}})
    apply_edit(rendered.root, {"file": "bootstrap/values/cilium.yaml",
                               "set": {"loadBalancer.pool.exclude": ["10.0.48.56"]}})
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = set(executed_tasks(result.stdout))
    assert {"check", "render:values/kube-vip", "render:manifests/cilium-network", "render:talos/cp-1",
            "render:talos/talosconfig"} <= ran
    assert not any(t.startswith(("render:values/spegel", "render:manifests/cluster-issuer")) for t in ran)
    after = rendered.snapshot()
    assert "10.0.48.56" in rendered.path("build/values/kube-vip.yaml").read_text()
    assert after["values/kube-vip.yaml"] != before["values/kube-vip.yaml"]
    assert after["values/spegel.yaml"] == before["values/spegel.yaml"]
    assert executed_tasks(rendered.doit("render", env=schema_env).stdout) == []
