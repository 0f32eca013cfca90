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


def test_an_environment_reference_may_give_a_default_which_is_not_a_secret() -> None:
    assert envref.resolve("${env:REGION:-eastus}", {}) == ("eastus", [])
    assert envref.resolve("${env:REGION:-eastus}", {"REGION": "westus"}) == ("westus", ["westus"])
    assert envref.resolve("${env:EMPTY:-}", {}) == ("", [])


def test_variables_are_substituted_as_literal_text_and_environment_references_stay() -> None:
    variables = {"gateway": "https://llm.example.com", "odd": "cost ${x}"}
    text = "${var:gateway}/v1 $${kept} ${env:KEY:-none} ${var:odd}"
    substituted = envref.substitute_variables(text, variables)
    assert substituted == "https://llm.example.com/v1 $${kept} ${env:KEY:-none} cost $${x}"
    assert envref.resolve(substituted, {}) == ("https://llm.example.com/v1 ${kept} none cost ${x}", [])
    with pytest.raises(envref.UnsetVariable) as raised:
        envref.substitute_variables("${var:missing}", variables)
    assert (raised.value.source, raised.value.name) == ("var", "missing")


@pytest.mark.parametrize("text", ["${var:A:-x}", "${var:}", "${vars:A}", "${env}"])
def test_malformed_variable_references(text: str) -> None:
    with pytest.raises(envref.MalformedReference):
        envref.parse(text)


def test_a_variable_never_reads_the_environment() -> None:
    with pytest.raises(envref.UnsetVariable):
        envref.resolve("${var:HOME}", {"HOME": "/root"})


def test_an_empty_variable_is_unset_as_a_ci_secret_a_job_cannot_see_is() -> None:
    """GitHub gives a job an empty string for a secret it cannot see (a fork's pull request): written, that
    would be an empty credential in every organization."""
    with pytest.raises(envref.UnsetVariable):
        envref.resolve("Bearer ${env:TOKEN}", {"TOKEN": ""})
    assert envref.resolve("${env:REGION:-eastus}", {"REGION": ""}) == ("eastus", [])
    assert envref.resolve("${env:REGION:-eastus}", {"REGION": "westus"}) == ("westus", ["westus"])
