"""The quick schema check never says yes where jsonschema finds an error, and says yes to valid files.

Documents are drawn valid from the schema, then broken at random: a value replaced by one of another type or
out of range, a key removed or added, an item appended."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from clinesync.contract import schema
from clinesync.fields import walk
from clinesync.files.fastcheck import compile_schema
from clinesync.files.schema import stored_document_schema

from strategies import remote_configs
from support import REPO

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(min_value=-2, max_value=2, allow_nan=False),
    st.sampled_from(["", "v1", "2024-06-01", "x", "json", "http", "grpc", "https://x.example.com", "1"]),
    st.just([]),
    st.just({}),
    st.just({"id": "m"}),
    st.just([{"name": "n"}]),
)


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {
        "organization": "org-01JZPE4CHW5XTP73W95762121Y",
        "remoteConfig": draw(remote_configs()),
    }
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        places = [node for _, node in walk(document) if isinstance(node, (dict, list))]
        node = draw(st.sampled_from(places))
        if isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node)))
            if draw(st.booleans()):
                del node[key]
            else:
                node[key] = copy.deepcopy(draw(_VALUES))
        elif isinstance(node, dict):
            key = draw(st.sampled_from(["id", "name", "version", "enabled", "extra", "openAiBaseUrl"]))
            node[key] = copy.deepcopy(draw(_VALUES))
        else:
            node.append(copy.deepcopy(draw(_VALUES)))
    return document


FILE_CHECK = compile_schema(schema())
DOCUMENT_CHECK = compile_schema(stored_document_schema())
FILE_JUDGE = Draft202012Validator(schema())
DOCUMENT_JUDGE = Draft202012Validator(stored_document_schema())


@given(broken())
def test_the_quick_check_agrees_with_jsonschema(document: dict[str, Any]) -> None:
    assert FILE_CHECK is not None and DOCUMENT_CHECK is not None
    assert FILE_CHECK(document) == FILE_JUDGE.is_valid(document)
    remote = document.get("remoteConfig")
    assert DOCUMENT_CHECK(remote) == DOCUMENT_JUDGE.is_valid(remote)


def test_a_schema_with_a_keyword_it_does_not_know_gets_no_quick_check() -> None:
    grown = {**schema(), "properties": {**schema()["properties"], "name": {"type": "string", "maxLength": 5}}}
    assert compile_schema(grown) is None
    assert compile_schema({"$ref": "#/$defs/Missing"}) is None
    assert compile_schema({"type": "integer"}) is not None


def test_numbers_and_booleans_are_told_apart_as_jsonschema_does() -> None:
    check = compile_schema({"type": "integer", "minimum": 0})
    assert check is not None
    for value in (0, 3, 2.0, True, -1, 1.5, "1", None):
        assert check(value) == Draft202012Validator({"type": "integer", "minimum": 0}).is_valid(value), value
    enum = compile_schema({"enum": [1, "a", None]})
    assert enum is not None and enum(1.0) and not enum(True) and enum(None) and not enum("b")


PROJECT_VALID = {
    "paths": ["orgs/"],
    "variables": {"gateway": "https://llm.corp.example.com/v1"},
    "rules": {"CS110": "error"},
    "publicHeaders": ["x-tenant-id"],
    "massChange": {"share": 0.25, "disable": 1, "removeProvider": 5},
    "policy": [
        {"id": "corp-hosts", "allowHosts": ["*.corp.example.com"]},
        {"id": "tenant", "requireHeaders": {"x-tenant-id": "^acme$"}, "until": "2027-01-31"},
    ],
    "rollout": [
        {
            "name": "canary",
            "organizations": ["org-01JZPE4CHW5XTP73W95762121Y"],
            "hold": "2h",
            "checks": ["probe"],
        },
        {"name": "early", "share": 0.1, "checks": [{"command": "true"}, {"probe": {"apiKeyEnv": "KEY"}}]},
        {"name": "rest"},
    ],
}


@pytest.mark.parametrize(
    ("change", "keyword"),
    [
        ({}, None),
        ({"massChange": {"share": 2}}, "maximum"),
        ({"publicHeaders": ["x-a", "x-a"]}, "uniqueItems"),
        ({"variables": {"bad-name": "x"}}, "propertyNames"),
        ({"policy": [{"id": "CS110", "allowHosts": ["a"]}]}, "not"),
        ({"policy": [{"id": "two", "allowHosts": ["a"], "denyProviders": ["Anthropic"]}]}, "oneOf"),
        ({"policy": [{"id": "none"}]}, "oneOf"),
        ({"policy": [{"id": "empty", "requireHeaders": {}}]}, "minProperties"),
        ({"rollout": [{"name": "none", "share": 0}]}, "exclusiveMinimum"),
        ({"rollout": [{"name": "x", "checks": ["smoke"]}]}, "oneOf"),
    ],
)
def test_the_project_schema_has_the_quick_check_and_it_agrees_with_jsonschema(
    change: dict[str, Any], keyword: str | None
) -> None:
    """The project configuration takes the quick path too (no jsonschema import for a valid one): each keyword
    it adds to the organization schema's is judged as jsonschema judges it."""
    project = json.loads((REPO / "schemas" / "project.schema.json").read_text())
    quick = compile_schema(project)
    assert quick is not None
    document = {**PROJECT_VALID, **change}
    errors = list(Draft202012Validator(project).iter_errors(document))
    assert quick(document) == (not errors)
    assert (keyword is None) == (not errors)
    if keyword is not None:
        assert any(keyword == error.validator or keyword in error.schema_path for error in errors), errors


def test_a_valid_project_configuration_costs_no_jsonschema_import(in_tmp: Path) -> None:
    (in_tmp / "clinesync.yaml").write_text(json.dumps(PROJECT_VALID))
    probe = "import sys; from clinesync.files.project import load; load('clinesync.yaml'); print('jsonschema' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    (in_tmp / "clinesync.yaml").write_text(json.dumps({**PROJECT_VALID, "massChange": {"share": 2}}))
    broken = "from clinesync.files.project import ProjectError, load\ntry:\n    load('clinesync.yaml')\nexcept ProjectError as error:\n    print(error.problems[0])"
    located = subprocess.run([sys.executable, "-c", broken], capture_output=True, text=True, check=True)
    assert "clinesync.yaml:1:" in located.stdout and "2" in located.stdout
