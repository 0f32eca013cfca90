"""`clinesync probe` against a local OpenAI-compatible server on 127.0.0.1: found, missing and extra models,
wrong keys, unreachable and unresolvable hosts, a slow endpoint, Azure-style URLs with api-version, chat, TLS
trusted or not, and Entra ID. No planted secret reaches the output."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_llm import KEY, FakeLLM
from support import run, self_signed_certificate, serve_tls, write

ORG = "org-01JZPE4CHW5XTP73W95762121P"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


def org_file(directory: Path, base_url: str, models: list[str], extra: str = "") -> Path:
    listed = "".join(f"        - id: {model}\n" for model in models)
    return write(
        directory / "org.yaml",
        f"""\
organization: {ORG}
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: {base_url}
{extra}      models:
{listed}""",
    )


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_found_missing_and_undeclared_models(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o", "gpt-5-nowhere"])
    result = run("probe", "org.yaml", "--api-key-env", "MEMBER_KEY", env={"MEMBER_KEY": KEY})
    assert result.exit_code == 1
    shown = lines(result.stdout)
    assert any(line.startswith("ok dns: 127.0.0.1 resolves") for line in shown)
    assert any(line.startswith(f"ok tcp: port {llm.port} accepts connections") for line in shown)
    assert any(line.startswith("ok models: HTTP 200, 3 models offered") for line in shown)
    assert "ok model gpt-4o: offered" in shown
    assert "fail model gpt-5-nowhere: declared but not offered by the endpoint" in shown
    assert "warn undeclared models: offered but not declared: gpt-4o-mini, llama-3.3-70b" in shown
    assert (
        "try: the endpoint's model list has gpt-4o, gpt-4o-mini, llama-3.3-70b: correct the id under models:, or "
        "deploy the model on the endpoint (members pick from what it serves: no Cline client offers or enforces "
        "models:)"
    ) in shown
    assert shown[-1] == "Probe: 1 endpoints, 0 passed, 1 failed (4 checks ok, 1 warnings, 1 failed)."
    assert KEY not in result.output


def test_every_model_found_passes(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o", "gpt-4o-mini", "llama-3.3-70b"])
    result = run("probe", "org.yaml", "--api-key-env", "MEMBER_KEY", env={"MEMBER_KEY": KEY})
    assert result.exit_code == 0, result.output


def test_a_wrong_key_fails_with_the_endpoints_words_and_no_secret(in_tmp: Path, llm: FakeLLM) -> None:
    planted = "sk-planted-wrong-key-5555"
    org_file(
        in_tmp,
        f"http://127.0.0.1:{llm.port}/v1",
        ["gpt-4o"],
        "      openAiHeaders:\n        Authorization: Bearer ${env:GATEWAY_KEY}\n",
    )
    result = run("probe", "org.yaml", env={"GATEWAY_KEY": planted})
    assert result.exit_code == 1
    shown = lines(result.stdout)
    failure = next(line for line in shown if line.startswith("fail models: HTTP 401"))
    assert "Incorrect API key provided" in failure and "(sensitive)" in failure
    assert any(line.startswith("try: if members use API keys, verify the key") for line in shown)
    # The endpoint echoes the whole key: scrubbed. Its own masked form (6 + 4 characters, as OpenAI writes it)
    # is the endpoint's words, left as they are.
    assert "You passed (sensitive)." in failure
    assert planted not in result.output
    _, path, headers = llm.requests[-1]
    assert path == "/v1/models" and headers["Authorization"] == f"Bearer {planted}"  # sent as configured


def test_an_unreachable_port(in_tmp: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: refused
        org_file(in_tmp, f"http://127.0.0.1:{port}/v1", ["gpt-4o"])
        result = run("probe", "org.yaml")
    assert result.exit_code == 1
    assert any(line.startswith(f"fail tcp: cannot connect to port {port}") for line in lines(result.stdout))
    assert "try: verify the Base URL is correct and reachable from your team's machines" in result.stdout


def test_an_unresolvable_host(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolver(host: str, *args: object, **kwargs: object) -> object:
        if host == "inference.unknown.example":
            raise socket.gaierror(-2, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    org_file(in_tmp, "https://inference.unknown.example/v1", ["gpt-4o"])
    result = run("probe", "org.yaml")
    assert result.exit_code == 1
    assert "fail dns: cannot resolve inference.unknown.example (Name or service not known)" in lines(
        result.stdout
    )


def test_a_slow_endpoint_past_the_timeout(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/slow/v1", ["gpt-4o"])
    result = run("probe", "org.yaml", "--timeout", "0.5", "--api-key-env", "K", env={"K": KEY})
    assert result.exit_code == 1
    assert "fail models: no answer within 0.5 s" in lines(result.stdout)


AZURE = '      azureApiVersion: "2024-06-01"\n      openAiHeaders:\n        api-key: ${env:AZURE_KEY}\n'


def test_an_azure_deployment_is_probed_with_api_version_as_cline_sends_it(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/openai/deployments/gpt-4o", ["gpt-4o"], AZURE)
    result = run("probe", "org.yaml", "--chat", env={"AZURE_KEY": KEY})
    assert result.exit_code == 0, result.output
    paths = [path for _, path, _ in llm.requests]
    assert paths == [
        "/openai/deployments/gpt-4o/models",  # the model picker's request carries no api-version
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
    ]
    shown = lines(result.stdout)
    assert any(line.startswith("warn models: HTTP 404: a deployment serves no model list") for line in shown)
    assert any(line.startswith("ok chat gpt-4o: HTTP 200, answered") for line in shown)


def test_an_unknown_azure_deployment(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/openai/deployments/gpt-4-typo", ["gpt-4-typo"], AZURE)
    result = run("probe", "org.yaml", "--chat", env={"AZURE_KEY": KEY})
    shown = lines(result.stdout)
    assert result.exit_code == 1
    assert any(
        line.startswith(
            "fail chat gpt-4-typo: HTTP 404: The API deployment for this resource does not exist."
        )
        for line in shown
    )
    assert any("check the deployment name in the Base URL" in line for line in shown)


def test_an_azure_base_url_ending_in_openai_gets_no_api_version_as_in_cline(
    in_tmp: Path, llm: FakeLLM
) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/openai", ["gpt-4o"], AZURE)
    result = run("probe", "org.yaml", env={"AZURE_KEY": KEY})
    assert result.exit_code == 1
    assert llm.requests[-1][1] == "/openai/models"
    assert any(line.startswith("fail models: HTTP 404: Resource not found") for line in lines(result.stdout))


def test_chat_reports_the_endpoints_error_verbatim(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o", "gpt-5-nowhere"])
    result = run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY})
    shown = lines(result.stdout)
    assert any(line.startswith("ok chat gpt-4o: HTTP 200") for line in shown)
    assert any(
        line.startswith("fail chat gpt-5-nowhere: HTTP 404: The model `gpt-5-nowhere` does not exist")
        for line in shown
    )
    # The Base URL answered: the hint is the model list, not the URL's path.
    failed = shown.index(next(line for line in shown if line.startswith("fail chat gpt-5-nowhere")))
    assert shown[failed + 1].startswith("try: the endpoint's model list has gpt-4o, gpt-4o-mini")
    assert "Base URL" not in shown[failed + 1]
    chats = [request for request in llm.requests if request[0] == "POST"]
    assert len(chats) == 2


@needs_openssl
def test_tls_untrusted_then_trusted_through_ssl_cert_file(in_tmp: Path, llm: FakeLLM, tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path / "certificate", days=30)
    serve_tls(llm, cert, key)
    org_file(in_tmp, f"https://127.0.0.1:{llm.port}/v1", ["gpt-4o"])
    untrusted = run("probe", "org.yaml", "--api-key-env", "K", env={"K": KEY, "SSL_CERT_FILE": ""})
    assert untrusted.exit_code == 1
    assert any(
        line.startswith("fail tls: certificate not accepted: self-signed certificate")
        for line in lines(untrusted.stdout)
    )
    trusted = run("probe", "org.yaml", "--api-key-env", "K", env={"K": KEY, "SSL_CERT_FILE": str(cert)})
    assert trusted.exit_code == 0, trusted.output
    assert any(
        line.startswith("ok tls: certificate valid for 127.0.0.1, expires in 29 days")
        for line in lines(trusted.stdout)
    )


@needs_openssl
def test_tls_for_another_host_and_expired(in_tmp: Path, llm: FakeLLM, tmp_path: Path) -> None:
    other, other_key = self_signed_certificate(tmp_path / "other", names="DNS:other.example.com", days=30)
    serve_tls(llm, other, other_key)
    org_file(in_tmp, f"https://127.0.0.1:{llm.port}/v1", ["gpt-4o"])
    mismatched = run("probe", "org.yaml", env={"SSL_CERT_FILE": str(other)})
    assert any(
        line.startswith("fail tls: certificate not accepted: IP address mismatch")
        for line in lines(mismatched.stdout)
    ), mismatched.stdout


@needs_openssl
def test_an_expired_certificate(in_tmp: Path, tmp_path: Path) -> None:
    expired, key = self_signed_certificate(tmp_path / "expired", days=0)
    server = FakeLLM()
    serve_tls(server, expired, key)
    server.start()
    try:
        org_file(in_tmp, f"https://127.0.0.1:{server.port}/v1", ["gpt-4o"])
        result = run("probe", "org.yaml", env={"SSL_CERT_FILE": str(expired)})
    finally:
        server.stop()
    assert any(
        line.startswith("fail tls: certificate not accepted: certificate has expired")
        for line in lines(result.stdout)
    ), result.stdout


IDENTITY = '      azureApiVersion: "2024-06-01"\n      azureIdentity: true\n'


def test_azure_identity_sends_no_entra_id_token_as_clines_runtime_sends_none(
    in_tmp: Path, llm: FakeLLM
) -> None:
    """Cline's runtime carries useIdentity and never reads it (openai-compatible.ts, 2026-08): members send
    their own key, or nothing. The probe says so and sends what they send."""
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/openai/deployments/gpt-4o", ["gpt-4o"], IDENTITY)
    without = run("probe", "org.yaml", "--chat")
    assert without.exit_code == 1
    shown = lines(without.stdout)
    assert any(
        line.startswith("warn auth: azureIdentity is on, but Cline's runtime obtains no Entra ID token")
        for line in shown
    )
    assert any(line.startswith("fail chat gpt-4o: HTTP 401") for line in shown)
    assert "Authorization" not in llm.requests[-1][2]
    member = run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY})
    assert member.exit_code == 0, member.output
    assert llm.requests[-1][2]["Authorization"] == f"Bearer {KEY}" and KEY not in member.output


def test_a_members_key_goes_as_a_bearer_token_to_azure_too(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(
        in_tmp,
        f"http://127.0.0.1:{llm.port}/openai/deployments/gpt-4o",
        ["gpt-4o"],
        '      azureApiVersion: "2024-06-01"\n',
    )
    assert run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY}).exit_code == 0
    headers = llm.requests[-1][2]
    assert (
        headers["Authorization"] == f"Bearer {KEY}" and "api-key" not in headers
    )  # as createOpenAICompatible


def test_a_key_an_http_library_refuses_is_not_printed_in_its_error(in_tmp: Path, llm: FakeLLM) -> None:
    planted = "sk-planted-ctl-key-7e1d\x02 "
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o"])
    for output_format in ("text", "json"):
        result = run("probe", "org.yaml", "--format", output_format, "--api-key-env", "K", env={"K": planted})
        assert result.exit_code == 1
        assert "sk-planted-ctl-key-7e1d" not in result.output


def test_json_and_no_requests_anywhere_else(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o"])
    write(in_tmp / "broken.yaml", f"organization: {ORG[:-1]}Q\nenabled: maybe\n")
    result = run("probe", ".", "--format", "json", "--api-key-env", "K", env={"K": KEY})
    report = json.loads(result.stdout)
    assert report["format_version"] == "1" and result.exit_code == 1
    [endpoint] = report["endpoints"]
    assert (endpoint["provider"], endpoint["passed"]) == ("OpenAiCompatible", True)
    assert [check["check"] for check in endpoint["checks"]] == [
        "dns",
        "tcp",
        "models",
        "model gpt-4o",
        "undeclared models",
    ]
    assert report["failed_files"] == [
        {"file": "broken.yaml", "error": 'enabled: expected true or false, got "maybe" (2:10)'}
    ]
    assert {path for _, path, _ in llm.requests} == {"/v1/models"}


def test_one_client_per_endpoint_made_before_any_request_is_timed(
    in_tmp: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client loads a CA bundle (tens of ms) that no member's request pays: made once, outside the timing."""
    import httpx

    made: list[object] = []

    class Counted(httpx.Client):
        def __init__(self, **options: object) -> None:
            made.append(self)
            super().__init__(**options)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Client", Counted)
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o", "gpt-4o-mini"])
    result = run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY})
    assert result.exit_code == 0, result.output
    assert len([request for request in llm.requests if request[0] == "POST"]) == 2
    assert len(made) == 1  # the model list and both chats on one client


def test_chat_asks_as_clines_runtime_asks_streamed_with_the_reasoning_models_limit(
    in_tmp: Path, llm: FakeLLM
) -> None:
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o"])
    result = run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY})
    assert result.exit_code == 0, result.output
    [body] = llm.bodies
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 1 and "max_completion_tokens" not in body
    from clinesync.probe.checks import _REASONING_ERA

    # model-facts.ts: o1, o3, o4 and gpt-5 ids get max_completion_tokens; others keep max_tokens.
    assert [
        bool(_REASONING_ERA.search(m))
        for m in ("o3-mini", "azure-gpt-5-mini", "gpt5", "gpt-4o", "o2", "pro1")
    ] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_an_endpoint_that_answers_chat_without_a_stream_fails_as_clines_would() -> None:
    server = FakeLLM(streams=False).start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            org_file(Path(folder), f"http://127.0.0.1:{server.port}/v1", ["gpt-4o"])
            result = run(
                "probe", str(Path(folder) / "org.yaml"), "--chat", "--api-key-env", "K", env={"K": KEY}
            )
    finally:
        server.stop()
    assert result.exit_code == 1
    assert any(
        line.startswith("fail chat gpt-4o: HTTP 200, but not as a stream") for line in lines(result.stdout)
    )


def test_chat_is_tried_where_the_model_listing_is_not_served_as_clines_chat_never_lists() -> None:
    server = FakeLLM(lists=False).start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            org_file(Path(folder), f"http://127.0.0.1:{server.port}", ["gpt-4o"])  # no path: Cline's /v1
            result = run(
                "probe", str(Path(folder) / "org.yaml"), "--chat", "--api-key-env", "K", env={"K": KEY}
            )
    finally:
        server.stop()
    shown = lines(result.stdout)
    assert result.exit_code == 0, result.output  # members chat all the same: their picker is empty
    assert any(
        line.startswith(
            "warn models: HTTP 404: Resource not found: members' model picker stays empty"
        )  # at the URL as stored
        for line in shown
    )
    assert any(line.startswith("ok chat gpt-4o: HTTP 200, answered") for line in shown)
    assert [path for _, path, _ in server.requests] == ["/models", "/v1/chat/completions"]


def test_anthropic_and_bedrock_endpoints_are_probed_to_tls_and_say_the_rest_is_not(
    in_tmp: Path, llm: FakeLLM
) -> None:
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n"
        f"    Anthropic:\n      baseUrl: http://127.0.0.1:{llm.port}/v1\n"
        "    AwsBedrock:\n      awsRegion: us-east-1\n      awsBedrockEndpoint: https://bedrock.invalid\n",
    )
    result = run("probe", "org.yaml", "--format", "json")
    report = json.loads(result.stdout)
    checks = {
        endpoint["provider"]: [(check["check"], check["status"]) for check in endpoint["checks"]]
        for endpoint in report["endpoints"]
    }
    assert checks["Anthropic"][-1] == ("api", "warn") and checks["AwsBedrock"] == [("dns", "fail")]
    assert result.exit_code == 1 and not llm.requests  # no OpenAI request to an Anthropic endpoint


def test_a_long_secret_in_a_library_error_is_scrubbed_before_it_is_cut() -> None:
    from clinesync.scrub import Redactor, clipped

    secret = "A" * 150 + "QZXJ7corePLMW" + "B" * 100 + "\x01"
    said = clipped(f"Illegal header value {('Bearer ' + secret).encode()!r}", Redactor({secret}), 200)
    assert "QZXJ7corePLMW" not in said and "AAAAAAAAAA" not in said


def test_a_members_key_goes_beside_an_api_key_header_as_createopenaicompatible_sends_it(
    in_tmp: Path, llm: FakeLLM
) -> None:
    header = "      openAiHeaders:\n        api-key: ${env:GW}\n"
    org_file(in_tmp, f"http://127.0.0.1:{llm.port}/v1", ["gpt-4o"], header)
    env = {"K": f"  {KEY}\n", "GW": "gw-key-0001"}  # the member's key trimmed, as Cline's runtime trims it
    result = run("probe", "org.yaml", "--chat", "--api-key-env", "K", env=env)
    assert result.exit_code == 0, result.output
    headers = llm.requests[-1][2]
    assert headers["api-key"] == "gw-key-0001" and headers["Authorization"] == f"Bearer {KEY}"


def test_a_latin1_header_is_sent_as_node_sends_it(in_tmp: Path, llm: FakeLLM) -> None:
    org_file(
        in_tmp,
        f"http://127.0.0.1:{llm.port}/v1",
        ["gpt-4o"],
        "      openAiHeaders:\n        X-Team: équipe\n",
    )
    result = run("probe", "org.yaml", "--api-key-env", "K", env={"K": KEY})
    assert result.exit_code == 0, result.output
    refused = run("probe", "org.yaml", "--api-key-env", "K", env={"K": "sk-\x01-key"})
    assert refused.exit_code == 1 and "Node refuses to send in a header" in refused.output


def test_a_stream_that_carries_an_error_fails(in_tmp: Path) -> None:
    server = FakeLLM().start()
    original = server.RequestHandlerClass._completion  # type: ignore[attr-defined]

    def overloaded(handler: object, body: dict[str, object]) -> None:
        handler._answer_bytes(  # type: ignore[attr-defined]
            200, b'data: {"error": {"message": "upstream overloaded"}}\n\n', Content_Type="text/event-stream"
        )

    server.RequestHandlerClass._completion = overloaded  # type: ignore[attr-defined]
    try:
        org_file(in_tmp, f"http://127.0.0.1:{server.port}/v1", ["gpt-4o"])
        result = run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY})
    finally:
        server.RequestHandlerClass._completion = original  # type: ignore[attr-defined]
        server.stop()
    assert result.exit_code == 1
    assert any("the stream carries an error: upstream overloaded" in line for line in lines(result.stdout))


def test_a_litellm_base_url_with_no_path_is_called_at_v1_as_cline_calls_it(
    in_tmp: Path, llm: FakeLLM
) -> None:
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n"
        f"    LiteLLM:\n      baseUrl: http://127.0.0.1:{llm.port}\n      models:\n        - id: gpt-4o\n",
    )
    run("probe", "org.yaml", "--chat", "--api-key-env", "K", env={"K": KEY})
    assert llm.requests[-1][1] == "/v1/chat/completions"
