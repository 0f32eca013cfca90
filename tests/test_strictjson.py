"""Strict JSON's depth limit: exact at the limit, and never fooled by brackets inside strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinesync import strictjson


def nested(depth: int) -> str:
    return "[" * (depth - 1) + "{}" + "]" * (depth - 1)


def test_the_depth_limit_is_exact() -> None:
    assert strictjson.loads(nested(64), max_depth=64) is not None
    with pytest.raises(strictjson.NotStrictJSON, match="nested deeper than 64 levels"):
        strictjson.loads(nested(65), max_depth=64)
    with pytest.raises(strictjson.NotStrictJSON, match="nested deeper than 64 levels"):
        strictjson.loads(nested(65).encode(), max_depth=64)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, "é", null, true]}',
        b'{"a": 1}',
        '{"a": 1}'.encode("utf-8-sig"),
        "\ufeff{}",
        '{"a": 1',
        3,
    ],
)
def test_what_is_strict_reads_as_the_standard_library_reads_it(text: str | bytes) -> None:
    """One decoder serves every read: text, bytes, a byte order mark and what is not JSON at all are taken and
    refused as `json.loads` takes and refuses them."""
    try:
        expected = json.loads(text)
    except (ValueError, TypeError) as refused:
        with pytest.raises(type(refused)):
            strictjson.loads(text)
    else:
        assert strictjson.loads(text) == expected


def test_brackets_inside_strings_are_not_nesting() -> None:
    shallow = '{"rules": "' + "[{" * 100 + '", "models": [{"id": "a"}, {"id": "b"}]}'
    assert strictjson.loads(shallow, max_depth=3)["models"][1] == {"id": "b"}
    many = "[" + ", ".join(["{}"] * 200) + "]"  # 201 openings, two levels
    assert len(strictjson.loads(many, max_depth=2)) == 200
    with pytest.raises(strictjson.NotStrictJSON):
        strictjson.loads(many, max_depth=1)


@pytest.mark.parametrize("scalar", ['"text"', "42", "null", "true"])
def test_a_scalar_has_no_depth(scalar: str) -> None:
    assert strictjson._depth(strictjson.loads(scalar)) == 0


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
        | st.dictionaries(st.integers(), children, max_size=2)  # keys the standard library turns into text
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_an_indented_item_is_what_the_standard_library_writes_byte_for_byte(value: object) -> None:
    try:
        expected = "    " + json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False).replace(
            "\n", "\n    "
        )
    except ValueError as error:  # NaN or an infinity: refused alike
        with pytest.raises(ValueError, match=str(error)):
            strictjson.item(value)
        return
    assert strictjson.item(value) == expected
