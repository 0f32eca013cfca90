from __future__ import annotations

import pytest

from clinesync.files import envref


def test_references_alone_and_inside_text() -> None:
    assert envref.resolve("${env:KEY}", {"KEY": "s3cr3t"}) == ("s3cr3t", ["s3cr3t"])
    assert envref.resolve("Bearer ${env:TOKEN}!", {"TOKEN": "t"}) == ("Bearer t!", ["t"])
    assert envref.names("${env:A}-${env:B_2}") == ["A", "B_2"]


def test_plain_text_is_not_sensitive() -> None:
    assert envref.resolve("acme", {}) == ("acme", [])


def test_double_dollar_writes_a_literal() -> None:
    assert envref.resolve("cost $${env:X} and $5", {}) == ("cost ${env:X} and $5", [])


@pytest.mark.parametrize("text", ["a${env:X", "${X}", "${env:}", "${env:1X}", "${env:A-B}"])
def test_malformed_references(text: str) -> None:
    with pytest.raises(envref.MalformedReference):
        envref.parse(text)


def test_unset_variable_names_itself() -> None:
    with pytest.raises(envref.UnsetVariable) as raised:
        envref.resolve("x ${env:MISSING_ONE}", {})
    assert raised.value.name == "MISSING_ONE"


@pytest.mark.parametrize("text", ["plain", "a ${b", "$${x}", "${env:X}", "$", "$$", "${"])
def test_escape_round_trips(text: str) -> None:
    assert envref.resolve(envref.escape(text), {}) == (text, [])
