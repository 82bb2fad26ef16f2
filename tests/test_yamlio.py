"""The strict YAML loader: lines of keys, YAML 1.2 booleans, duplicate keys, syntax errors."""
from __future__ import annotations

import pytest
import yaml

from tasks.yamlio import load_document


def load(tmp_path, text: str):
    file = tmp_path / "settings.yaml"
    file.write_text(text)
    return load_document(file, "settings.yaml")


def test_line_numbers_of_keys_and_list_items(tmp_path):
    doc, problem = load(tmp_path, "# comment\na:\n  b: 1\n  c:\n    - x: 1\n    - x: 2\n      y: 3\n")
    assert problem is None
    assert [doc.line(p) for p in ("a", "a.b", "a.c", "a.c[0].x", "a.c[1]", "a.c[1].y")] == [2, 3, 4, 5, 6, 7]
    assert doc.line("a.c[1].missing") == 6            # the nearest parent that exists
    assert doc.line("nowhere") == 2                   # the document's first line


def test_yaml_1_2_booleans(tmp_path):
    doc, _ = load(tmp_path, "a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: NO\n")
    assert doc.data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False, "g": "NO"}


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    doc, problem = load(tmp_path, "a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert doc is None
    assert problem.line == 4 and "duplicate key 'b' (first at line 2)" in problem.found


def test_syntax_error_has_its_line(tmp_path):
    doc, problem = load(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    assert doc is None and problem.expected == "valid YAML" and problem.line == 3


def test_empty_and_missing_files(tmp_path):
    doc, problem = load(tmp_path, "# only a comment\n")
    assert problem is None and doc.data == {}
    doc, problem = load_document(tmp_path / "absent.yaml", "absent.yaml")
    assert doc is None and problem.expected == "a readable YAML file"


def test_tolerant_loader_reads_what_kustomize_reads():
    """GitOps tree files: a redefined anchor (the later wins), `=` as a string, unknown tags kept as plain
    values (never constructed as Python objects), YAML 1.2 booleans."""
    from tasks.yamlio import load_all_tolerant
    assert load_all_tolerant("a: &x 1\nb: &x 2\nc: *x\n") == [{"a": 1, "b": 2, "c": 2}]
    assert load_all_tolerant("matchType: =\n") == [{"matchType": "="}]
    assert load_all_tolerant("a: !env_var FOO\nb: !include {x: 1}\nc: !!python/name:os.system\nd: yes\n") == [
        {"a": "FOO", "b": {"x": 1}, "c": "", "d": "yes"}]


def test_nesting_past_libyamls_limit_is_a_problem_not_a_recursion_error(tmp_path):
    """libyaml refuses more than 1000 levels; the pure-Python parser, asked next for its wording,
    recurses per level: found by the settings fuzz (tests/settings/test_fuzz.py)."""
    from tasks import yamlio
    path = tmp_path / "common.yaml"
    path.write_text("values: " + "[" * 1500 + "]" * 1500 + "\n")
    document, problem = yamlio.load_document(path, "bootstrap/values/common.yaml")
    assert document is None and problem.file == "bootstrap/values/common.yaml"
    assert problem.found == f"more than {yamlio.MAX_DEPTH} levels of nesting"
    with pytest.raises(yaml.YAMLError):        # TooLarge, or libyaml's own depth error: never RecursionError
        yamlio.load_all("a: " + "[" * 1500 + "]" * 1500)
