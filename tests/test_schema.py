"""The packaged schema: valid against its meta-schema, documented field by field, and true to Cline's payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from clinesync.contract import schema, schema_path
from clinesync.fields import walk
from clinesync.files.schema import remote_config_errors
from clinesync.files.validate import check_file

from support import REPO, cline_remote_configs


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_runtime_validates_with_jsonschema_so_any_keyword_the_schema_gains_is_enforced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import copy

    from clinesync.files import schema as schema_module
    from clinesync.files.loader import load_bytes

    grown = copy.deepcopy(schema())
    grown["properties"]["name"]["maxLength"] = 5  # a keyword no code in clinesync names
    monkeypatch.setattr(schema_module, "schema", lambda: grown)
    schema_module._validator.cache_clear()
    schema_module._quick_file_check.cache_clear()  # a keyword it does not know: no quick path
    try:
        loaded = load_bytes(b"organization: org-01JZPE4CHW5XTP73W95762121Y\nname: far too long\n", "org.yaml")
        [problem] = schema_module.schema_problems(loaded)
    finally:
        schema_module._validator.cache_clear()
        schema_module._quick_file_check.cache_clear()
    assert isinstance(schema_module._compiled(grown), Draft202012Validator)
    assert (problem.rule, problem.line, problem.column) == ("CS100", 2, 7)
    assert "maxLength" in problem.message


def test_packaged_schema_is_the_top_level_file() -> None:
    assert (REPO / "schemas" / "org.schema.json").read_text() == Path(schema_path()).read_text()


def _property_schemas() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, node in walk(schema()):
        if len(path) >= 2 and path[-2] == "properties" and isinstance(node, dict):
            found.append((".".join(map(str, path)), node))
    return found


def test_every_field_has_a_console_label_and_a_description() -> None:
    definitions = schema()["$defs"]
    undocumented = []
    for where, node in _property_schemas():
        target = node
        if "$ref" in node and "title" not in node:
            target = definitions[node["$ref"].rsplit("/", 1)[1]]
        if not target.get("title") or not target.get("description"):
            undocumented.append(where)
    assert undocumented == []


def test_every_remote_config_field_of_cline_is_known() -> None:
    remote = schema()["$defs"]["RemoteConfig"]["properties"]
    cline_fields = [
        "version",
        "providerSettings",
        "telemetryEnabled",
        "kanbanEnabled",
        "mcpMarketplaceEnabled",
        "allowedMCPServers",
        "remoteMCPServers",
        "blockPersonalRemoteMCPServers",
        "yoloModeAllowed",
        "openTelemetryEnabled",
        "openTelemetryMetricsExporter",
        "openTelemetryLogsExporter",
        "openTelemetryOtlpProtocol",
        "openTelemetryOtlpEndpoint",
        "openTelemetryOtlpHeaders",
        "openTelemetryOtlpMetricsProtocol",
        "openTelemetryOtlpMetricsEndpoint",
        "openTelemetryOtlpMetricsHeaders",
        "openTelemetryOtlpLogsProtocol",
        "openTelemetryOtlpLogsEndpoint",
        "openTelemetryOtlpLogsHeaders",
        "openTelemetryMetricExportInterval",
        "openTelemetryOtlpInsecure",
        "openTelemetryLogBatchSize",
        "openTelemetryLogBatchTimeout",
        "openTelemetryLogMaxQueueSize",
        "enterpriseTelemetry",
        "globalRules",
        "globalWorkflows",
        "globalSkills",
    ]
    assert sorted(remote) == sorted(cline_fields)
    providers = schema()["$defs"]["RemoteConfig"]["properties"]["providerSettings"]["properties"]
    assert sorted(providers) == sorted(
        ["OpenAiCompatible", "AwsBedrock", "Vertex", "LiteLLM", "Anthropic", "Cline"]
    )


@pytest.mark.parametrize("name", sorted(cline_remote_configs()))
def test_real_cline_payloads_are_valid_remote_configs(name: str) -> None:
    assert remote_config_errors(cline_remote_configs()[name]) == []


def test_a_limit_lists_the_first_errors_found_without_looking_for_the_rest() -> None:
    many = {"version": "v1", "globalRules": [{"x": 1}] * 20_000}  # 80,000 errors
    first = remote_config_errors(many, limit=10)
    assert len(first) == 10 and first == sorted(first)
    assert all(error.startswith("globalRules[") for error in first)


def test_a_stored_document_needs_its_version() -> None:
    assert remote_config_errors({}) == ["value: missing 'version'"]


def test_console_errors_name_fields_never_values() -> None:
    errors = remote_config_errors(
        {"version": "v1", "telemetryEnabled": "s3cr3t-value", "extra": "s3cr3t-value"}
    )
    assert errors == ["telemetryEnabled: must be true or false", "value: unknown fields 'extra'"]


def test_unknown_fields_are_rejected_at_every_level() -> None:
    errors = remote_config_errors(
        {
            "version": "v1",
            "providerSettings": {
                "OpenAiCompatible": {
                    "openAiBaseUrl": "https://x.example",
                    "models": [{"id": "a", "maxTokenz": 1}],
                }
            },
        }
    )
    assert errors == ["providerSettings.OpenAiCompatible.models[0]: unknown fields 'maxTokenz'"]


def test_a_valid_file_first_never_hides_an_error_in_a_later_one() -> None:
    from clinesync.files import schema as schema_module
    from clinesync.files.loader import load_bytes

    model = b"        - id: gpt-4o\n          contextWindow: 128000\n"
    head = b"organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
    url = b"      openAiBaseUrl: https://x.example.com/v1\n      models:\n"
    valid = load_bytes(head + url + model, "a.yaml")
    assert schema_module.schema_problems(valid) == []
    for name in ("b.yaml", "c.yaml"):  # the same valid model beside a broken one, twice
        broken = load_bytes(head + url + model + b"        - id: o1\n          maxTokens: -1\n", name)
        [problem] = schema_module.schema_problems(broken)
        assert (problem.file, problem.line, problem.rule) == (name, 10, "CS100")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # Quoting helps where the field takes text, and only there: a quoted 3 is no more a boolean.
        ("  telemetryEnabled: 3", "remoteConfig.telemetryEnabled: expected true or false, got 3"),
        (
            "  telemetryEnabled: null",
            "remoteConfig.telemetryEnabled: expected true or false, got nothing (null)",
        ),
        ("  telemetryEnabled: 1.5", "remoteConfig.telemetryEnabled: expected true or false, got 1.5"),
        (
            "  version: 1",
            'remoteConfig.version: expected a string, got 1 (YAML reads the unquoted 1 as a number): quote it, "1"',
        ),
    ],
)
def test_the_fix_a_type_error_suggests_is_one_the_field_takes(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(f"organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n{line}\n")
    [problem] = [problem for problem in check_file(str(path)).problems if problem.rule == "CS100"]
    assert problem.message == message
