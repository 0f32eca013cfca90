"""The clinesync versions a repository expects (`requires:` in clinesync.yaml, as Terraform's
`required_version`): PEP 440 specifiers of release numbers, `>=0.3,<0.4`, `~=0.3.1`, `==0.3.*`, `!=0.3.2`."""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"\s*(~=|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?\s*")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")


def allows(requires: str, version: str) -> bool:
    """Whether `version` meets every clause of `requires`; ValueError, saying how to write it, when a clause
    is not one this reads."""
    found = _RELEASE.match(version)
    if found is None:
        raise ValueError(f"clinesync's own version {version!r} is not a release number")
    have = _numbers(found.group())
    clauses = requires.split(",")
    if not requires.strip():
        raise ValueError("requires is empty: write the versions this repository expects, e.g. '>=0.3,<0.4'")
    return all(_meets(have, clause) for clause in clauses)


def _meets(have: tuple[int, ...], clause: str) -> bool:
    parsed = _CLAUSE.fullmatch(clause)
    if parsed is None:
        raise ValueError(
            f"requires: {clause.strip()!r} is not a version clause: write OPERATOR VERSION (>=, <=, >, <, ==, "
            "!=, ~=), several joined by commas, e.g. '>=0.3,<0.4'"
        )
    operator, number, wildcard = parsed.groups()
    want = _numbers(number)
    if wildcard and operator not in ("==", "!="):
        raise ValueError(f"requires: {clause.strip()!r}: only == and != take a '.*'")
    if operator == "~=" and len(want) < 2:
        raise ValueError(f"requires: {clause.strip()!r}: ~= needs at least two numbers, e.g. ~=0.3")
    if wildcard:
        matched = have[: len(want)] == want
        return matched if operator == "==" else not matched
    size = max(len(have), len(want))
    left, right = _padded(have, size), _padded(want, size)
    if operator == "~=":
        return left >= right and have[: len(want) - 1] == want[:-1]
    return {
        "==": left == right,
        "!=": left != right,
        "<=": left <= right,
        ">=": left >= right,
        "<": left < right,
        ">": left > right,
    }[operator]


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _padded(numbers: tuple[int, ...], size: int) -> tuple[int, ...]:
    return numbers + (0,) * (size - len(numbers))
