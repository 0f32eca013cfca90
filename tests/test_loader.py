"""The loader on byte-level input: encodings, sizes, nesting, and the marks it records."""

from __future__ import annotations

import math

import pytest

from clinesync.fields import walk
from clinesync.files.loader import MAX_BYTES, Mark, load_bytes


def only_problem(raw: bytes) -> tuple[int, int, str, str]:
    loaded = load_bytes(raw, "org.yaml")
    assert loaded.data is None
    [problem] = loaded.problems
    return problem.line, problem.column, problem.rule, problem.message


def test_marks_of_keys_and_values_count_from_one() -> None:
    loaded = load_bytes(b"organization: org-x\nremoteConfig:\n  models:\n    - id: a\n", "org.yaml")
    assert loaded.key_mark(("remoteConfig", "models")) == Mark(3, 3)
    assert loaded.value_mark(("remoteConfig", "models", 0, "id")) == Mark(4, 11)
    assert loaded.value_mark(("remoteConfig", "models", 0, "missing")) == Mark(4, 7)


def test_the_nodes_the_loader_hands_over_are_the_walk_of_its_data() -> None:
    text = b"organization: org-x\nremoteConfig:\n  models:\n    - id: a\n      n: [1, {x: y}]\n  t: true\n"
    loaded = load_bytes(text, "org.yaml")
    assert loaded.walked is not None  # handed over by the loader, not walked again
    assert loaded.nodes == list(walk(loaded.data))


def test_a_repeated_key_leaves_the_nodes_to_a_walk_of_what_was_kept() -> None:
    loaded = load_bytes(b"organization: org-x\nname: a\nname: b\n", "org.yaml")
    assert loaded.walked is None
    assert loaded.nodes == list(walk(loaded.data))
    assert (("name",), "b") in loaded.nodes


def test_yaml_conversions_are_remembered_with_their_source_text() -> None:
    loaded = load_bytes(b"a: 2024-06-01\nb: no\nc: '2024-06-01'\nd: 1e3\ne: TRUE\n", "org.yaml")
    assert loaded.data == {"a": "2024-06-01", "b": "no", "c": "2024-06-01", "d": 1000.0, "e": True}
    assert loaded.converted == {("d",): "1e3", ("e",): "TRUE"}


@pytest.mark.parametrize(
    ("written", "value"),
    [
        # YAML 1.2's core schema, as yaml-language-server reads it: these are text, not YAML 1.1's values.
        ("2024-06-01", "2024-06-01"),
        ("no", "no"),
        ("on", "on"),
        ("Yes", "Yes"),
        ("1:30", "1:30"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        # and these are its non-text values
        ("null", None),
        ("~", None),
        ("", None),
        ("False", False),
        ("012", 12),
        ("0o17", 15),
        ("0x1F", 31),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("-.inf", -math.inf),
        ("9007199254740993", 9007199254740993),
        # explicit tags still construct, and a value that does not fit its tag stays text
        ("!!int 5", 5),
        ("!!str 5", "5"),
        ("!!int five", "five"),
    ],
)
def test_plain_scalars_are_resolved_as_yaml_1_2_reads_them(written: str, value: object) -> None:
    assert load_bytes(f"a: {written}\n".encode(), "org.yaml").data == {"a": value}


def test_nan_is_a_number_for_the_checks_to_refuse() -> None:
    assert math.isnan(load_bytes(b"a: .NaN\n", "org.yaml").data["a"])


def test_keys_are_always_their_text() -> None:
    assert load_bytes(b"on: 1\n2: x\nnull: y\n", "org.yaml").data == {"on": 1, "2": "x", "null": "y"}


def test_empty_and_blank_files_are_refused() -> None:
    assert only_problem(b"")[:3] == (1, 1, "CS103")
    assert "empty" in only_problem(b" \n\n")[3]


def test_a_comment_only_file_has_no_document() -> None:
    assert "no YAML document" in only_problem(b"# nothing here\n")[3]


def test_non_utf8_is_located_at_the_bad_byte() -> None:
    line, column, rule, message = only_problem(b"organization: org-x\nname: caf\xe9\n")
    assert (line, column, rule) == (2, 10, "CS103")
    assert "not UTF-8" in message


def test_utf16_is_refused_and_a_utf8_bom_is_accepted() -> None:
    assert only_problem("organization: org-x\n".encode("utf-16"))[2] == "CS103"
    assert load_bytes(b"\xef\xbb\xbforganization: org-x\n", "org.yaml").data == {"organization": "org-x"}


def test_nul_byte_is_located() -> None:
    assert only_problem(b"organization: org-x\nname: a\x00b\n")[:3] == (2, 8, "CS103")


def test_over_one_mebibyte_is_refused_without_parsing() -> None:
    *_, rule, message = only_problem(b"a: " + b"x" * MAX_BYTES)
    assert rule == "CS103" and "over 1 MiB" in message


def test_deep_nesting_is_refused_not_recursed() -> None:
    assert "nesting deeper than 64" in only_problem(b"a: " + b"[" * 100 + b"]" * 100 + b"\n")[3]
    *_, rule, message = only_problem(b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n")
    assert rule == "CS103" and "nesting" in message


def test_complex_keys_are_refused() -> None:
    assert "mapping key must be plain text" in only_problem(b"? [a, b]\n: c\n")[3]


def test_a_scalar_document_is_not_a_mapping() -> None:
    assert "a single value" in only_problem(b"just text\n")[3]


def test_a_merge_sign_as_a_value_is_text() -> None:
    """Found by test_properties: `<<` as a plain value resolves to YAML's merge tag."""
    assert load_bytes(b"organization: <<\n", "org.yaml").data == {"organization": "<<"}


def test_a_resolved_view_walks_only_the_changed_values_and_what_holds_them() -> None:
    text = b"organization: org-x\nremoteConfig:\n  a: {x: '${env:X}', y: 1}\n  b: [2, 3]\n"
    loaded = load_bytes(text, "org.yaml")
    data = {"organization": "org-x", "remoteConfig": {"a": {"x": "resolved", "y": 1}, "b": [2, 3]}}
    view = loaded.resolved_view(data, {("remoteConfig", "a", "x"): "${env:X}"}, [("remoteConfig", "a", "x")])
    assert view.nodes == [
        ((), data),
        (("remoteConfig",), data["remoteConfig"]),
        (("remoteConfig", "a"), data["remoteConfig"]["a"]),
        (("remoteConfig", "a", "x"), "resolved"),
    ]


@pytest.mark.parametrize("odd", ["\x85", "\u2028", "\u2029", "\r"])
def test_problems_are_placed_on_lines_as_git_and_editors_count_them(odd: str) -> None:
    """libyaml also ends lines at NEL, LS, PS and a lone CR (YAML 1.1's breaks); a reviewer's line is what a
    LF ends, as GitHub's annotations count it."""
    text = f"# a comment{odd}# and more{odd}\nversion: v1\nversion: v2\nbroken: [\n"
    loaded = load_bytes(text.encode(), "org.yaml")
    assert [(problem.rule, problem.line) for problem in loaded.problems] == [("CS102", 3), ("CS103", 5)]
    duplicated = load_bytes(text.rsplit("broken", 1)[0].encode(), "org.yaml")
    (problem,) = duplicated.problems
    assert (problem.rule, problem.line, problem.column) == ("CS102", 3, 1)
    assert "first at line 2" in problem.message
    assert duplicated.value_mark(("version",)) == Mark(3, 10)
