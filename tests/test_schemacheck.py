"""clinesync's small validator agrees with jsonschema, the reference, and the schema uses nothing it lacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from clinesync.loader import load_file
from clinesync.schema import schema, stored_document_schema
from clinesync.schemacheck import _TYPES, ANNOTATIONS, KEYWORDS, Validator

from conftest import EXAMPLES, FILES, cline_remote_configs


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(node, dict):
        return
    yield node
    for key in ("properties", "$defs"):
        for child in node.get(key, {}).values():
            yield from schema_nodes(child)
    for key in ("items", "additionalProperties"):
        yield from schema_nodes(node.get(key))


def test_the_schema_uses_only_implemented_keywords_and_types() -> None:
    for node in schema_nodes(schema()):
        assert set(node) <= KEYWORDS | ANNOTATIONS, node
        assert node.get("type", "object") in _TYPES


def verdicts(validator: Any, document: Any) -> set[tuple[tuple[Any, ...], str]]:
    return {(tuple(error.absolute_path), error.validator) for error in validator.iter_errors(document)}


def agree(document: Any, target: dict[str, Any] | None = None) -> None:
    target = target or schema()
    assert verdicts(Validator(target), document) == verdicts(Draft202012Validator(target), document)


@pytest.mark.parametrize(
    "path",
    sorted((FILES / "invalid").glob("*.yaml"))
    + sorted((FILES / "valid").glob("*.yaml"))
    + sorted(EXAMPLES.glob("*.yaml")),
    ids=lambda path: path.stem,
)
def test_agreement_on_every_fixture_file(path: Path) -> None:
    loaded = load_file(path)
    if loaded.data is not None:
        agree(loaded.data)


@pytest.mark.parametrize("name", sorted(cline_remote_configs()))
def test_agreement_on_the_real_cline_payloads(name: str) -> None:
    agree(cline_remote_configs()[name], stored_document_schema())


def _field_names() -> list[str]:
    names = {key for node in schema_nodes(schema()) for key in node.get("properties", {})}
    return sorted(names | {"X-Api-Key", "unknownField"})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(
        ["v1", "grpc", "http", "otlp", "console,otlp", "s3_access_keys", "org-01AB", "2024-06-01"]
    )
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_field_names()), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_field_names()), json_values, max_size=8))
def test_agreement_on_generated_remote_configs(config: dict[str, Any]) -> None:
    agree(config, stored_document_schema())
    agree({"organization": "org-01AB", "remoteConfig": config})
