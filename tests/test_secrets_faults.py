"""Secrets under failure: a hostile console that echoes the request's token, headers and body back in its
error messages, failing at every step (the read, the write, the verifying read), with and without --verbose.
Neither the token nor any planted value may reach stdout, stderr or a file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from fake_llm import JsonHandler, serving
from support import run, write

TOKEN = "tok-echoed-back-99ab"
SECRETS = {
    "OPENAI_KEY": 'sk-echo"openai\\1a2b',  # a quote and a backslash: JSON escapes them, once or twice
    "GATEWAY_TOKEN": "echo-gateway-3c4d",
    "OTEL_KEY": "echo-otel-5e6f",
    "MCP_TOKEN": "echo-mcp-7a8b",
    "S3_ID": "AKIAECHO00000001",
    "S3_SECRET": "echo/s3+secret==9c",
}
FILE = """\
organization: org-01JZPE4CHW5XTP73W95762121E
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://inference.example.com/v1
      openAiHeaders:
        api-key: ${env:OPENAI_KEY}
        X-Route: Bearer ${env:GATEWAY_TOKEN}
  openTelemetryOtlpHeaders:
    x-otel: ${env:OTEL_KEY}
  remoteMCPServers:
    - name: docs
      url: https://mcp.example.com
      headers:
        Authorization: Bearer ${env:MCP_TOKEN}
  enterpriseTelemetry:
    promptUploading:
      s3AccessSettings:
        bucket: prompts
        accessKeyId: ${env:S3_ID}
        secretAccessKey: ${env:S3_SECRET}
"""


class EchoingConsole(ThreadingHTTPServer):
    """Fails at `step` (read, write, verify), echoing everything it was sent into the error message."""

    daemon_threads = True

    def __init__(self, step: str) -> None:
        self.step, self.stored, self.reads = step, None, 0
        super().__init__(("127.0.0.1", 0), _Echo)


class _Echo(JsonHandler):
    server: EchoingConsole

    def do_GET(self) -> None:
        self.server.reads += 1
        failing = (self.server.step == "read") or (self.server.step == "verify" and self.server.reads > 1)
        if failing:
            self._answer(500, {"success": False, "error": f"cannot serve {dict(self.headers)}"})
        else:
            self._answer(200, {"success": True, "data": self.server.stored})

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.server.step == "write":
            self._answer(
                400, {"success": False, "error": f"rejected {body} from {self.headers['Authorization']}"}
            )
        else:
            self.server.stored = json.loads(body)
            self._answer(200, {"success": True, "data": self.server.stored})


@pytest.fixture(params=["read", "write", "verify"])
def echoing(request: pytest.FixtureRequest) -> Iterator[EchoingConsole]:
    server = EchoingConsole(request.param)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("verbose", [(), ("-v",)], ids=["quiet", "verbose"])
def test_no_secret_escapes_through_a_console_that_echoes_it(
    in_tmp: Path, echoing: EchoingConsole, verbose: tuple[str, ...]
) -> None:
    write(in_tmp / "org.yaml", FILE)
    env = {
        **SECRETS,
        "CLINESYNC_CONSOLE": f"http://127.0.0.1:{echoing.server_address[1]}",
        "CLINE_API_KEY": TOKEN,
        "CLINESYNC_RETRIES": "0",
    }
    outputs = []
    for command in (
        ("plan", "org.yaml"),
        ("plan", "org.yaml", "--format", "json"),
        ("drift", "org.yaml", "--format", "markdown"),
        ("apply", "org.yaml", "--auto-approve"),
        ("export", "org-01JZPE4CHW5XTP73W95762121E"),
    ):
        result = run(*verbose, *command, env=env)
        outputs.append(result.output)
    apply_output = outputs[3]
    if echoing.step != "verify":
        assert apply_output.count("(sensitive)") >= 1, apply_output  # the echo was there, and was scrubbed
    once = {name: json.dumps(secret)[1:-1] for name, secret in SECRETS.items()}
    twice = {name: json.dumps(secret)[1:-1] for name, secret in once.items()}  # the value is JSON inside JSON
    for text in outputs:
        assert TOKEN not in text
        for forms in (SECRETS, once, twice):
            assert not [name for name, secret in forms.items() if secret in text], text


class _EscapingEcho(JsonHandler):
    """Refuses every write, echoing what it was sent as other JSON encoders write it: the token with every
    character a `\\u` escape, and the S3 secret inside the value with `/` as `\\/` (PHP's json_encode)."""

    def do_GET(self) -> None:
        self._answer(200, {"success": True, "data": None})

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        value = json.loads(body["value"])
        s3 = value["enterpriseTelemetry"]["promptUploading"]["s3AccessSettings"]["secretAccessKey"]
        spelled = "".join(f"\\u{ord(char):04x}" for char in self.headers["Authorization"])
        slashed = json.dumps({"secretAccessKey": s3}).replace("/", "\\/")
        self._answer(400, {"success": False, "error": f"rejected {spelled} {slashed}"})


def test_no_secret_escapes_in_any_json_escaping_of_it(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", FILE)
    with serving(_EscapingEcho) as console:
        env = {**SECRETS, "CLINESYNC_CONSOLE": console, "CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "0"}
        result = run("apply", "org.yaml", "--auto-approve", env=env)
    assert result.exit_code == 1 and "rejected" in result.output
    assert "Bearer (sensitive)" in result.output and '{"secretAccessKey": "(sensitive)"}' in result.output
    assert SECRETS["S3_SECRET"].replace("/", "\\/") not in result.output
    assert "\\u0074\\u006f\\u006b" not in result.output  # "tok", spelt out, was read before scrubbing
