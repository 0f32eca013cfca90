"""Strict JSON's depth limit: exact at the limit, and never fooled by brackets inside strings."""

from __future__ import annotations

import pytest

from clinesync import strictjson


def nested(depth: int) -> str:
    return "[" * (depth - 1) + "{}" + "]" * (depth - 1)


def test_the_depth_limit_is_exact() -> None:
    assert strictjson.loads(nested(64), max_depth=64) is not None
    with pytest.raises(strictjson.NotStrictJSON, match="nested deeper than 64 levels"):
        strictjson.loads(nested(65), max_depth=64)
    with pytest.raises(strictjson.NotStrictJSON, match="nested deeper than 64 levels"):
        strictjson.loads(nested(65).encode(), max_depth=64)


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
