"""A small OpenAI-compatible server for the probe's tests, on 127.0.0.1: model listing, chat completions, an
Azure-style deployment path with api-version, a key check that answers 401 like OpenAI does (echoing part of
the key), and a path that stalls."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEY = "sk-fake-llm-key-0123456789"
MODELS = ["gpt-4o", "gpt-4o-mini", "llama-3.3-70b"]
DEPLOYMENTS = {"gpt-4o": "gpt-4o"}


class FakeLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, streams: bool = True, lists: bool = True) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[dict[str, Any]] = []  # each POST's JSON body, in order
        self.streams = streams  # answers `stream: true` with server-sent events, as OpenAI's API does
        self.lists = lists  # serves the model listing (a deployment path on Azure does not)
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> FakeLLM:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    """Answers JSON and keeps quiet: the base of the tests' own small servers."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        self._answer_bytes(status, json.dumps(body).encode())

    def _answer_bytes(self, status: int, payload: bytes, **headers: str) -> None:
        self.send_response(status)
        if "Content_Type" not in headers:
            self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A test server on a free 127.0.0.1 port with `handler`, stopped on leaving; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Handler(JsonHandler):
    server: FakeLLM

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.server.requests.append((method, self.path, dict(self.headers)))
        body = (
            json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if method == "POST"
            else {}
        )
        if method == "POST":
            self.server.bodies.append(body)
        segments = parts.path.strip("/").split("/")
        if segments[0] == "slow":
            time.sleep(2)
            segments = segments[1:]
        if segments[:2] == ["openai", "deployments"]:
            self._azure(segments[2:], parse_qs(parts.query), body)
        elif segments[:1] == ["v1"]:
            if self._authorized(self.headers.get("Authorization", "").removeprefix("Bearer ")):
                self._openai(segments[1:], body)
        else:
            self._answer(404, {"error": {"code": "404", "message": "Resource not found"}})

    def _authorized(self, key: str) -> bool:
        if key == KEY:
            return True
        self._answer(
            401,
            {
                "error": {
                    "message": f"Incorrect API key provided: {key[:6]}...{key[-4:]}. You passed {key}.",
                    "code": "invalid_api_key",
                }
            },
        )
        return False

    def _openai(self, rest: list[str], body: dict[str, Any]) -> None:
        if rest == ["models"] and self.server.lists:
            self._answer(
                200, {"object": "list", "data": [{"id": model, "object": "model"} for model in MODELS]}
            )
        elif rest == ["chat", "completions"] and body.get("model") in MODELS:
            self._completion(body)
        elif rest == ["chat", "completions"]:
            self._answer(404, {"error": {"message": f"The model `{body.get('model')}` does not exist"}})
        else:
            self._answer(404, {"error": {"message": "Not found"}})

    def _completion(self, body: dict[str, Any]) -> None:
        """A chat completion: server-sent events when asked to stream, as OpenAI's API answers."""
        if not body.get("stream") or not self.server.streams:
            self._answer(200, {"choices": [{"message": {"role": "assistant", "content": "Hi"}}]})
            return
        chunk = json.dumps({"choices": [{"delta": {"role": "assistant", "content": "Hi"}}]})
        self._answer_bytes(
            200, f"data: {chunk}\n\ndata: [DONE]\n\n".encode(), Content_Type="text/event-stream"
        )

    def _azure(self, rest: list[str], query: dict[str, list[str]], body: dict[str, Any]) -> None:
        if rest[1:] == ["models"]:  # Azure lists models at /openai/models, never under a deployment
            self._answer(404, {"error": {"code": "404", "message": "Resource not found"}})
            return
        if not query.get("api-version"):
            self._answer(404, {"error": {"code": "404", "message": "Resource not found"}})
            return
        if self.headers.get("api-key") != KEY and self.headers.get("Authorization") != f"Bearer {KEY}":
            self._answer(
                401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key"}}
            )
            return
        if not rest or rest[0] not in DEPLOYMENTS:
            self._answer(
                404,
                {
                    "error": {
                        "code": "DeploymentNotFound",
                        "message": "The API deployment for this resource does not exist.",
                    }
                },
            )
        elif rest[1:] == ["chat", "completions"]:
            self._completion(body)
        else:
            self._answer(404, {"error": {"code": "404", "message": "Resource not found"}})
