from __future__ import annotations

import json
from urllib.parse import quote

from clinesync.diff import Change
from clinesync.fields import Item
from clinesync.masking import Redactor, masked
from clinesync.render.lines import change_line

HEADERS = ("remoteConfig", "providerSettings", "OpenAiCompatible", "openAiHeaders")


def test_credentials_are_masked_by_name_wherever_they_came_from() -> None:
    value = {"Authorization": "Bearer abc", "X-Tenant": "acme", "x-api-key": "k", "X-Auth-Token": "t"}
    assert masked(value, HEADERS, frozenset()) == {
        "Authorization": "(sensitive)",
        "X-Tenant": "acme",
        "x-api-key": "(sensitive)",
        "X-Auth-Token": "(sensitive)",
    }


def test_values_from_the_environment_are_masked_by_path() -> None:
    path = HEADERS + ("X-Tenant",)
    assert masked("acme", path, frozenset({path})) == "(sensitive)"
    line = change_line(Change("change", path, "old-tenant", "acme"), frozenset({path}))
    assert line == f"~ {'.'.join(path)}: (sensitive value changed)"


def test_s3_keys_inside_an_added_block_are_masked() -> None:
    path = ("remoteConfig", "enterpriseTelemetry", "promptUploading", "s3AccessSettings")
    block = {"bucket": "b", "accessKeyId": "AKIA", "secretAccessKey": "s3cr3t"}
    assert masked(block, path, frozenset()) == {
        "bucket": "b",
        "accessKeyId": "(sensitive)",
        "secretAccessKey": "(sensitive)",
    }


def test_mcp_headers_inside_identity_lists_are_masked() -> None:
    path = ("remoteConfig", "remoteMCPServers", Item("name", "docs"), "headers", "Authorization")
    assert change_line(Change("add", path, after="Bearer t0ken"), frozenset()).endswith(": (sensitive)")


def test_the_redactor_scrubs_known_secrets_longest_first() -> None:
    redact = Redactor(["s3cr3t-value", "s3cr3t", "abc"])
    assert redact("a s3cr3t-value and s3cr3t, abc") == "a (sensitive) and (sensitive), abc"


def test_the_redactor_scrubs_escaped_and_encoded_forms_too() -> None:
    secret = 'sk"with\\odd/chars'
    redact = Redactor([secret])
    once = json.dumps(secret)[1:-1]
    assert redact(f"raw {secret}") == "raw (sensitive)"
    assert redact(f"json {once}") == "json (sensitive)"
    assert redact(f"twice {json.dumps(once)[1:-1]}") == "twice (sensitive)"
    assert redact(f"url {quote(secret, safe='')}") == "url (sensitive)"
