from __future__ import annotations

import json
from urllib.parse import quote

from clinesync.diff import Change
from clinesync.fields import Item
from clinesync.masking import Mask, masked, masked_url
from clinesync.plans.display import change_line
from clinesync.scrub import Redactor, clipped

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
    line = change_line(Change("change", path, "old-tenant", "acme"), Mask(frozenset({path})))
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
    assert change_line(Change("add", path, after="Bearer t0ken"), Mask()).endswith(": (sensitive)")


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


PROVIDER = ("remoteConfig", "providerSettings", "OpenAiCompatible")


def test_a_live_value_is_shown_only_where_the_field_never_holds_a_secret() -> None:
    live = {
        "openAiBaseUrl": "https://user:pa55@gw.example.com/v1?api-key=k3y&tenant=acme",
        "openAiHeaders": {"X-Tenant": "acme", "X-Signature": "s1g"},
        "azureApiVersion": "2024-06-01",
        "azureIdentity": True,
        "models": [{"id": "gpt-4o", "maxTokens": 8192}],
        "laterField": "who knows",
    }
    assert Mask().before(live, PROVIDER) == {
        "openAiBaseUrl": "https://(sensitive)@gw.example.com/v1?api-key=(sensitive)&tenant=(sensitive)",
        "openAiHeaders": {"X-Tenant": "(sensitive)", "X-Signature": "(sensitive)"},
        "azureApiVersion": "2024-06-01",
        "azureIdentity": True,
        "models": [{"id": "gpt-4o", "maxTokens": 8192}],
        "laterField": "(sensitive)",
    }
    # the file's side shows what the file writes, but never a credential inside a URL
    assert Mask().after(live, PROVIDER)["openAiHeaders"] == {"X-Tenant": "acme", "X-Signature": "s1g"}
    assert Mask().after(live, PROVIDER)["openAiBaseUrl"] == Mask().before(live, PROVIDER)["openAiBaseUrl"]
    # a rollback's desired side is a stored revision: live rules
    assert Mask(after_is_live=True).after(live, PROVIDER) == Mask().before(live, PROVIDER)


def test_a_header_written_as_a_literal_shows_its_new_value_but_not_the_old_live_one() -> None:
    path = HEADERS + ("X-Tenant",)
    line = change_line(Change("change", path, "old-live-value", "acme"), Mask())
    assert line == f'~ {".".join(path)}: (sensitive) -> "acme"'


def test_a_live_url_that_is_not_a_url_is_not_shown() -> None:
    assert masked_url("not a url") == "(sensitive)"
    assert masked_url("https://host.example.com/v1") == "https://host.example.com/v1"


def test_text_that_could_forge_lines_is_escaped() -> None:
    path = (
        "remoteConfig",
        "providerSettings",
        "OpenAiCompatible",
        "models",
        Item("id", "a\n+ b\x1b[2K"),
        "maxTokens",
    )
    line = change_line(Change("change", path, 1, 2), Mask())
    assert "\n" not in line and "\x1b" not in line
    assert "[id=a\\x0a+ b\\x1b[2K]" in line


def test_an_echo_is_scrubbed_before_it_is_cut() -> None:
    secret = "s" * 39
    echo = "x" * 280 + secret  # the cut at 300 falls inside the secret
    shown = clipped(echo, Redactor([secret]))
    assert "sss" not in shown and len(shown) <= 300


def test_an_echo_is_scrubbed_as_written_and_after_each_json_unescaping() -> None:
    """A secret holding what reads as an escape (`\\n`, `\\w`) or two spaces is found as written; one a console
    escaped (`\\/`, `\\u0073`) is found once read."""
    from clinesync.scrub import Redactor, clipped

    secrets = {"pa\\nss\\word99", "two  spaces-secret", "echo/s3+secret==9c", "sk-abc123"}
    echoed = 'got pa\\nss\\word99, two  spaces-secret, "echo\\/s3+secret==9c" and \\u0073\\u006b-abc123'
    shown = clipped(echoed, Redactor(secrets))
    assert shown == 'got (sensitive), (sensitive), "(sensitive)" and (sensitive)'
