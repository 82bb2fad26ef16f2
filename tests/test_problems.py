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


def test_a_repeated_finding_is_shown_once_then_counted_with_its_first_files():
    from tasks.problems import format_problems
    same = [Problem(f"f{i}.yaml", f"documents[{i % 2}]", "an ExternalSecret", "Secret", rule="r") for i in range(7)]
    other = Problem("g.yaml", "documents[0]", "e", "f", rule="r")
    assert format_problems(same + [other], "failed").splitlines() == [
        "failed: 8 problem(s); nothing was written or applied",
        "  - f0.yaml: [r] documents[0]: expected an ExternalSecret, found Secret",
        "  - [r] 6 more like the one above (7 in all), in f1.yaml, f2.yaml, f3.yaml and 3 more file(s)",
        "  - g.yaml: [r] documents[0]: expected e, found f"]
    assert len(format_problems(same[:5], "failed").splitlines()) == 6      # up to five are all shown


def test_warnings_about_many_files_are_one_line():
    from tasks.problems import group_warnings
    many = [f"{c}.yaml: not read (x)" for c in "abcdef"]
    assert group_warnings(many + ["g.yaml: not read (y)", "no file here", "a.yaml: not read (x)"]) == [
        "6 files: not read (x) (a.yaml, b.yaml, c.yaml and 3 more file(s))", "g.yaml: not read (y)", "no file here"]
    assert group_warnings(many[:5]) == many[:5]
