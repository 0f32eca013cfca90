"""URLs read as Cline reads them: the WHATWG reading Node's `URL` makes, checked against Node itself, and every
place a URL's host matters (CS111, policy, impacts, masks, export) seeing the host members' requests go to."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from clinesync.diff import Change
from clinesync.masking import masked_url
from clinesync.plans.impacts import impacts
from clinesync.urls import misreading, read

from support import run, write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
BASE_URL = ("remoteConfig", "providerSettings", "OpenAiCompatible", "openAiBaseUrl")

# The forms a reader and Node read differently, and plain ones that must read the same.
FORMS = [
    "https://evil.example.net\\@llm.corp.example.com/v1",
    "https://evil.example.net\\.corp.example.com/v1",
    "https://llm.corp.example.com\\v1",
    "https:\\\\evil.example.net/v1",
    "https:/\\evil.example.net/v1",
    "ht\ttp://llm.corp.example.com/v1",
    "https://llm.corp.\nexample.com/v1",
    "https://llm.corp.example.com/v\r1",
    " https://llm.corp.example.com/v1",
    "https://llm.corp.example.com/v1\x01",
    "https:evil.example.net/v1",
    "https:///evil.example.net/v1",
    "https://evil%2Eexample.net/v1",
    "https://evil.example.net%40llm.corp.example.com/v1",
    "http://127.1/v1",
    "http://0x7f.0.0.1/v1",
    "http://2130706433/v1",
    "https://EVIL.example.NET/v1",
    "https://evil。example。net/v1",
    "https://bücher.example/v1",
    "https://user:pass@llm.corp.example.com/v1?key=abc#frag",
    "https://llm.corp.example.com:443/v1",
    "https://llm.corp.example.com:99999/v1",
    "http://[::1]:8080/v1",
    "http://[::FFFF:127.0.0.1]/v1",
    "https://llm.corp.example.com./v1",
    "https://llm.corp.example.com/a/../v1/./x",
    "https://llm.corp.example.com/v1 space",
    "https://",
    "not a url",
    "HTTPS://llm.corp.example.com/v1",
    "https://evil.example.net%2F@llm.corp.example.com/v1",
]


def _generated(count: int) -> list[str]:
    """URLs built from the characters where readings part ways, drawn with a fixed seed (reproducible)."""
    pieces = [
        "\\",
        "/",
        "@",
        ":",
        ".",
        "%2E",
        "%40",
        "\t",
        "\n",
        " ",
        "evil.example.net",
        "corp.example.com",
        "v1",
    ]
    draw = random.Random(20261206)
    return [
        draw.choice(["https://", "http://", "https:", "HTTP://", "https:\\\\"])
        + "".join(draw.choice(pieces) for _ in range(draw.randint(1, 6)))
        for _ in range(count)
    ]


def _node_reads(texts: list[str]) -> list[dict[str, str] | None]:
    script = (
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(texts.map(t => { try { const u = new URL(t);"
        " return {protocol: u.protocol, hostname: u.hostname, port: u.port, username: u.username,"
        " password: u.password, pathname: u.pathname, search: u.search, hash: u.hash}; }"
        " catch (e) { return null; } })));"
    )
    node = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer: list[dict[str, str] | None] = json.loads(node.stdout)
    return answer


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is the reference; the python machine has it")
def test_clinesync_reads_every_form_as_node_does() -> None:
    texts = FORMS + _generated(400)
    for text, node in zip(texts, _node_reads(texts), strict=True):
        ours = read(text)
        if node is None:
            assert ours is None, text
            continue
        assert ours is not None, text
        assert (ours.scheme + ":", ours.host, ours.port, ours.username, ours.password, ours.path) == (
            node["protocol"],
            node["hostname"],
            node["port"],
            node["username"],
            node["password"],
            node["pathname"],
        ), text
        assert (ours.query, ours.fragment) == (node["search"][1:], node["hash"][1:]), text


@pytest.mark.parametrize("text", [form for form in FORMS[:17] if read(form) is not None])
def test_a_url_node_reads_otherwise_than_written_is_a_misreading(text: str) -> None:
    assert misreading(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "https://llm.corp.example.com/v1",
        "https://EVIL.example.NET/v1",
        "https://bücher.example/v1",
        "http://[::1]:8080/v1",
        "https://user:pass@llm.corp.example.com/v1?key=abc#frag",
        "http://localhost:4000",
    ],
)
def test_a_url_node_reads_as_written_is_not(text: str) -> None:
    assert misreading(text) is None


def organization(base_url: str) -> str:
    return (
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        f"      openAiBaseUrl: {json.dumps(base_url)}\n"
    )


def test_validate_refuses_a_backslash_url_and_says_where_node_sends_requests(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", organization("https://evil.example.net\\@llm.corp.example.com/v1"))
    result = run("validate", "org.yaml")
    assert result.exit_code == 1
    assert result.stdout.startswith("org.yaml:5:22: error: remoteConfig.providerSettings.OpenAiCompatible")
    assert "Node reads '\\' as '/', so the host is evil.example.net" in result.stdout
    assert "[CS111]" in result.stdout


def test_an_allow_hosts_policy_sees_the_host_node_reads(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", 'policy:\n  - id: corp-hosts\n    allowHosts: ["*.corp.example.com"]\n')
    write(in_tmp / "org.yaml", organization("https://evil.example.net\\.corp.example.com/v1"))
    result = run("validate", "org.yaml")
    assert result.exit_code == 1
    assert "goes to evil.example.net, not an allowed host [corp-hosts]" in result.stdout


def test_require_https_sees_a_tab_in_the_scheme_as_node_does(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "policy:\n  - id: tls-only\n    requireHttps: true\n")
    write(in_tmp / "org.yaml", organization("ht\ttp://llm.corp.example.com/v1"))
    result = run("validate", "org.yaml")
    assert result.exit_code == 1
    assert "is plain http://: use https:// [tls-only]" in result.stdout
    assert "Node removes tabs and newlines" in result.stdout


@pytest.mark.parametrize("how", ["var", "env"])
def test_a_misread_url_from_a_variable_is_refused_before_anything_is_written(in_tmp: Path, how: str) -> None:
    evil = "https://evil.example.net\\@llm.corp.example.com/v1"
    env = {"GATEWAY": evil} if how == "env" else {}
    extra = ["--var", f"GATEWAY={evil}"] if how == "var" else []
    write(in_tmp / "org.yaml", organization(f"${{{how}:GATEWAY}}"))
    result = run("apply", "org.yaml", "--auto-approve", *extra, env=env)
    assert result.exit_code == 1
    assert "[CS111]" in result.output
    if how == "env":  # the value of a secret is never shown, not even the host inside it
        assert "evil.example.net" not in result.output
        assert "the value of ${env:GATEWAY}" in result.output
    history = run("history", ORG).output  # nothing was written: no revision, or not even a database
    assert "has no revisions" in history or "there is no local console" in history


def test_masks_show_the_host_node_reads_never_hide_it() -> None:
    assert masked_url("https://evil.example.net\\@llm.corp.example.com/v1") == (
        "https://evil.example.net/@llm.corp.example.com/v1"
    )
    assert masked_url("https://user:pw@llm.corp.example.com/v1?key=abc&x") == (
        "https://(sensitive)@llm.corp.example.com/v1?key=(sensitive)&x"
    )
    assert masked_url("http://127.0.0.1:8787") == "http://127.0.0.1:8787"


def test_an_impact_names_the_host_a_live_misread_url_really_went_to() -> None:
    live_url, fixed = "https://evil.example.net\\@llm.corp.example.com/v1", "https://llm.corp.example.com/v1"
    change = Change("change", BASE_URL, live_url, fixed)
    tree = {"enabled": True, "remoteConfig": {}}
    lines = impacts(tree, tree, [change], frozenset())
    assert any("moves from evil.example.net to llm.corp.example.com" in impact.line for impact in lines)


def test_export_writes_a_live_misread_url_as_a_reference(in_tmp: Path) -> None:
    from clinesync.document import Document
    from clinesync.plans.export import export_organization

    live = {
        "providerSettings": {"OpenAiCompatible": {"openAiBaseUrl": "https://e.example\\@corp.example/v1"}}
    }
    exported = export_organization(ORG, Document(True, live), "local")
    assert "e.example" not in exported.text
    assert "${env:" in exported.text


def test_a_console_url_node_reads_otherwise_is_refused_before_the_token_is_sent(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", organization("https://llm.corp.example.com/v1"))
    result = run(
        "plan", "org.yaml", "--console", "https://corp.example\\@127.0.0.1:9/", env={"CLINE_API_KEY": "t"}
    )
    assert result.exit_code == 1
    assert "the console URL reads differently as written and as a URL" in result.output
