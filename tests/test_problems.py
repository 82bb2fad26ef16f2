"""The shared vocabulary of problems: key paths and type names."""
from __future__ import annotations

from tasks.problems import Problem, a_type, child_path, describe, key_path


def test_key_paths():
    assert key_path(["machine", "install", "disk"]) == "machine.install.disk"
    assert key_path(["spec", "blocks", 0, "cidr"]) == "spec.blocks[0].cidr"
    assert key_path(["metadata", "labels", "app.kubernetes.io/name"]) == 'metadata.labels["app.kubernetes.io/name"]'
    assert child_path("", "a") == "a" and child_path("a", 0) == "a[0]" and child_path("a", "b.c") == 'a["b.c"]'


def test_one_type_vocabulary():
    assert [a_type(t) for t in ("object", "array", "integer", "string")] == ["a mapping", "a list", "an integer",
                                                                           "a string"]
    assert [describe(v) for v in ({}, [1], "no", False, None, 3)] == [
        "a mapping", "a list", "string 'no'", "boolean false", "null", "integer 3"]


def test_a_problem_reads_as_file_line_rule_path_expected_found_fix():
    problem = Problem("bootstrap/values/kube-vip.yaml", "vip", "an address outside the pool", "10.0.48.57", 3,
                      "rule", "move it")
    assert str(problem) == ("bootstrap/values/kube-vip.yaml:3: [rule] vip: expected an address outside the pool, "
                            "found 10.0.48.57\n    fix: move it")
