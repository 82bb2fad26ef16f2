"""Fuzzing the settings files (Hypothesis, fixed budget, derandomized): mutations of the shipped
bootstrap/values/*.yaml and bootstrap/charts.yaml (wrong types, hostile strings, deep nesting, aliases,
huge numbers, missing and unknown keys, broken bytes). In-process, the whole offline check (load, schema,
semantics, render in memory, guards, drift) returns named Problems, never raises, and writes nothing;
through `doit render` in a project copy, a rejected input leaves build/ byte for byte as it was and
nothing outside build/ changes."""
from __future__ import annotations

import shutil
import sys
import traceback

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks import paths
from tasks.render.check import check_everything
from tasks.settings import load
from tests.project import REPO_ROOT, Project

NAMES = (*paths.SETTINGS, "charts")
IN_PROCESS_CASES = 300
DOIT_CASES = 10
CASES = {"in-process": 0, "doit": 0}
HOSTILE = ["main\n  suspend: true", "#x", "a: b", "yes", "off", "0x1F", "~", ".inf", "&a", "*a", "!t x",
           "{{ cluster.name }}", "{% raw %}", "\u202e", "\x07", " lead", "trail ", '"q', "x" * 5000]
WRITES = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.truncate", "os.chmod",
          "shutil.rmtree", "shutil.move", "os.link", "os.replace")


def _shipped(name: str):
    source = REPO_ROOT / ("bootstrap/charts.yaml" if name == "charts" else f"bootstrap/values/{name}.yaml")
    return yaml.safe_load(source.read_text())


def _key_paths(node, prefix=()) -> list[tuple]:
    """Every key path in a settings document (mappings and list positions), the root included."""
    found = [prefix]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += _key_paths(child, prefix + (key,))
    return found


scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**80, 2**80), st.floats(allow_nan=True),
                    st.sampled_from(HOSTILE), st.text(max_size=30))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=10) | st.sampled_from(HOSTILE), inner, max_size=3), max_leaves=8)
# Text that yaml.safe_dump never writes: aliases, an alias bomb, deep nesting, huge numbers, broken bytes.
RAW = {"alias": "a: &x [1, 2]\nb: *x\n", "bomb": "".join(f"l{i}: &l{i} [{', '.join([f'*l{i-1}'] * 9) if i else '1'}]\n"
                                                          for i in range(7)),
       "deep": "values: " + "[" * 5000 + "]" * 5000 + "\n", "huge-number": "values:\n  n: " + "9" * 5000 + "\n",
       "duplicate": "a: 1\na: 2\n", "tab": "a:\n\t- b\n", "empty": "", "list": "- 1\n- 2\n"}


@st.composite
def mutations(draw) -> tuple[str, bytes]:
    """One settings file and new bytes for it: a key deleted, retyped or added, or raw YAML text."""
    name = draw(st.sampled_from(NAMES))
    data = _shipped(name)
    how = draw(st.sampled_from(["delete", "replace", "add", "raw", "bytes"]))
    if how == "raw":
        return name, draw(st.sampled_from(sorted(RAW.values()))).encode()
    if how == "bytes":
        text = yaml.safe_dump(data).encode()
        at = draw(st.integers(0, len(text)))
        return name, text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
    path = draw(st.sampled_from(_key_paths(data)))
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if how == "delete" and path:
        del parent[path[-1]]
    elif how == "replace" and path:
        parent[path[-1]] = draw(values)
    elif isinstance(parent, dict) or not path:
        target = parent[path[-1]] if path else data
        if isinstance(target, dict):
            target[draw(st.text(max_size=10))] = draw(values)
    return name, yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")


class _WriteWatch:
    """An audit hook (hooks cannot be removed, so it is switched on and off) recording every file
    write, removal or rename while it is on."""

    def __init__(self):
        self.on, self.seen = False, []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if not self.on:
            return
        writing_open = event == "open" and isinstance(args[1], str) and any(m in args[1] for m in "wax+")
        if writing_open or event in WRITES:
            self.seen.append((event, args[:2]))


@pytest.fixture(scope="module")
def watch():
    return _WriteWatch()


@pytest.fixture(scope="module")
def settings_copy(tmp_path_factory):
    """A copy of bootstrap/ the in-process check reads (paths.VALUES, paths.CHARTS_FILE point there)."""
    folder = tmp_path_factory.mktemp("fuzz") / "bootstrap"
    shutil.copytree(REPO_ROOT / "bootstrap", folder)
    return folder


@settings(max_examples=IN_PROCESS_CASES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation=mutations())
def test_the_check_names_problems_and_writes_nothing(mutation, settings_copy, watch, monkeypatch):
    name, content = mutation
    monkeypatch.setattr(paths, "VALUES", settings_copy / "values")
    monkeypatch.setattr(paths, "CHARTS_FILE", settings_copy / "charts.yaml")
    target = settings_copy / ("charts.yaml" if name == "charts" else f"values/{name}.yaml")
    original = target.read_bytes()
    target.write_bytes(content)
    load.forget()
    watch.on, watch.seen = True, []
    try:
        outcome = check_everything(with_conformance=False)
    except Exception:   # noqa: BLE001 - the failure this test exists to find
        pytest.fail(f"{name}: {content[:300]!r} raised:\n{traceback.format_exc()}")
    finally:
        watch.on = False
        target.write_bytes(original)
        load.forget()
    CASES["in-process"] += 1
    assert watch.seen == []
    assert all(p.file and p.expected and str(p) for p in outcome.problems)


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory, schema_env):
    project = Project.copy(tmp_path_factory.mktemp("fuzz-doit") / "repo")
    assert project.doit("render", env=schema_env).returncode == 0
    return project


def _outside_build(project: Project) -> dict:
    """Every file of the copy outside build/ (doit's own state aside), with its bytes."""
    return {p: p.read_bytes() for p in sorted(project.root.rglob("*"))
            if p.is_file() and "build" not in p.relative_to(project.root).parts[:1]
            and not p.name.startswith(".doit.db") and "__pycache__" not in p.parts}


@settings(max_examples=DOIT_CASES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutation=mutations())
def test_a_rejected_render_leaves_build_and_the_rest_untouched(mutation, fuzz_project, schema_env):
    name, content = mutation
    target = fuzz_project.path("bootstrap/charts.yaml" if name == "charts" else f"bootstrap/values/{name}.yaml")
    original, build = target.read_bytes(), fuzz_project.snapshot()
    target.write_bytes(content)
    outside = _outside_build(fuzz_project)
    try:
        result = fuzz_project.doit("render", env=schema_env)
    finally:
        after_outside = _outside_build(fuzz_project)
        target.write_bytes(original)
    CASES["doit"] += 1
    output = result.stdout + result.stderr
    assert "Traceback" not in output and result.returncode in (0, 1), output[-3000:]
    assert after_outside == outside
    if result.returncode == 1:
        assert fuzz_project.snapshot() == build, output[-3000:]
    else:
        assert fuzz_project.doit("render", env=schema_env).returncode == 0


def test_the_budget_was_spent():
    """Says how many cases ran (for the record) and that the budget was not silently skipped."""
    if not any(CASES.values()):
        pytest.skip("the fuzz tests above were not selected")
    print(f"fuzz cases: {CASES['in-process']} in-process, {CASES['doit']} through doit render")
    assert CASES["in-process"] in (0, IN_PROCESS_CASES) and CASES["doit"] in (0, DOIT_CASES)
