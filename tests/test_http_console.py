"""The HTTP console client: Cline's envelope, retries, and every failure as one line that says what to do.

Protocol-level faults use httpx handlers (support.mocked); socket-level ones (server down, connection dropped, a stalled
server) use real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable

import httpx
import pytest

from clinesync.consoles import http as http_module
from clinesync.consoles.base import (
    Conflict,
    ConsoleDown,
    ConsoleError,
    HistoryUnsupported,
    NotAttempted,
    WritesUnsupported,
)
from clinesync.consoles.http import HttpConsole
from clinesync.document import Document

from support import TOKEN, cline_payload, mocked

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps are recorded, not slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http_module.time, "sleep", recorded.append)
    return recorded


def console(handler: Handler, retries: int = 3) -> HttpConsole:
    return HttpConsole("https://console.example.test", TOKEN, retries=retries, exchange=mocked(handler))


def envelope(data: object, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data}, headers=headers)


def failure(status: int, error: str, code: str | None = None, **headers: str) -> httpx.Response:
    body = {"success": False, "error": error} | ({"code": code} if code else {})
    return httpx.Response(status, json=body, headers=headers)


def sequence(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler, seen


def test_the_recorded_production_response_parses() -> None:
    recorded = cline_payload("recorded-production-remote-config-response.json")
    handler, seen = sequence(httpx.Response(recorded["status"], json=recorded["response"]))
    live = console(handler).read(ORG)
    assert live.document is not None and live.document.enabled is True
    assert (
        live.document.config["enterpriseTelemetry"]["promptUploading"]["s3AccessSettings"]["region"]
        == "us-west-2"
    )
    assert live.revision is None  # Cline's console sends no ETag
    [request] = seen
    assert request.url.path == f"/api/v1/organizations/{ORG}/remote-config"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"].startswith("clinesync/")


def test_no_configuration_yet_is_data_null() -> None:
    handler, _ = sequence(envelope(None))
    assert console(handler).read(ORG).document is None


def test_a_write_sends_cline_shape_and_if_match() -> None:
    handler, seen = sequence(envelope({"enabled": True, "value": '{"version":"v1"}'}, ETag='"2"'))
    live = console(handler).write(ORG, Document(True, {"version": "v1"}), '"1"')
    assert live.revision == '"2"'
    [request] = seen
    assert (request.method, request.headers["If-Match"]) == ("PUT", '"1"')
    assert json.loads(request.content) == {"enabled": True, "value": '{"version":"v1"}'}


def test_5xx_are_retried_with_backoff_then_succeed(waits: list[float]) -> None:
    handler, seen = sequence(failure(502, "bad gateway"), failure(503, "busy"), envelope(None))
    assert console(handler).read(ORG).document is None
    assert len(seen) == 3 and len(waits) == 2 and waits[1] > 0


def test_retries_are_bounded() -> None:
    handler, seen = sequence(failure(503, "busy"))
    with pytest.raises(
        ConsoleError,
        match="answered 503 \\(busy\\), after 3 attempts \\(CLINESYNC_RETRIES=2\\): try again later",
    ):
        console(handler, retries=2).read(ORG)
    assert len(seen) == 3


def test_429_honours_retry_after(waits: list[float]) -> None:
    handler, _ = sequence(failure(429, "slow down", **{"Retry-After": "7"}), envelope(None))
    console(handler).read(ORG)
    assert waits == [7.0]


def test_a_console_asking_to_wait_past_the_longest_wait_ends_the_runs_requests_at_once(
    waits: list[float],
) -> None:
    handler, seen = sequence(failure(429, "slow down", **{"Retry-After": "3600"}), envelope(None))
    limited = console(handler)
    with pytest.raises(
        ConsoleError, match="answered 429 \\(slow down\\), asking to wait 3600 s: try again later"
    ):
        limited.read(ORG)
    with pytest.raises(NotAttempted, match="console unreachable"):
        limited.read(ORG)
    assert waits == [] and len(seen) == 1


def test_a_retried_failure_that_outlasts_the_retries_is_the_whole_consoles(waits: list[float]) -> None:
    """A hung, rate-limited or unavailable console: the requests in flight wait out their retries, and once a
    second has, the rest of the fleet is not attempted instead of each waiting out its own. One alone may be
    its organization's own (a document its gateway keeps timing out)."""
    handler, seen = sequence(failure(503, "unavailable"))
    down = console(handler, retries=2)
    for _ in range(2):
        with pytest.raises(
            ConsoleError,
            match="answered 503 \\(unavailable\\), after 3 attempts \\(CLINESYNC_RETRIES=2\\): try again",
        ):
            down.read(ORG)
    with pytest.raises(NotAttempted):
        down.read(ORG)
    assert len(seen) == 6 and len(waits) == 4


def test_a_write_sent_before_the_console_went_down_is_failed_never_not_attempted(waits: list[float]) -> None:
    """Its answer is lost (502), and by its retry another request has found the console down: the write may
    have landed, so it is not reported as never tried."""

    def lost_then_down(request: httpx.Request) -> httpx.Response:
        down._down = down._down or ConsoleDown("connection refused")  # another thread found it down meanwhile
        return failure(502, "bad gateway")

    down = console(lost_then_down)
    with pytest.raises(ConsoleError, match="the write may have landed: plan again to see") as raised:
        down.write(ORG, Document(True, {"version": "v1"}), None)
    assert not isinstance(raised.value, NotAttempted)


def test_a_write_whose_landing_cannot_be_read_back_says_it_may_have_landed(waits: list[float]) -> None:
    """Refused by its own If-Match on the retry (412), and the read that would tell whether it landed fails:
    never "not attempted"."""
    handler, _ = sequence(failure(412, "precondition failed"), failure(401, "unauthorized"))
    with pytest.raises(ConsoleError, match=r"refused the token.*the write may have landed") as raised:
        console(handler).write(ORG, Document(True, {"version": "v1"}), '"1"')
    assert not isinstance(raised.value, NotAttempted)


def test_a_live_credential_the_console_echoes_in_an_error_is_scrubbed() -> None:
    """Read from one organization's live document (not a secret of the run's files), echoed in another's
    error: never printed."""
    live = {
        "enabled": True,
        "value": json.dumps(
            {
                "providerSettings": {
                    "OpenAiCompatible": {"openAiHeaders": {"api-key": "sk-live-OLD-111-abcdef"}}
                }
            }
        ),
    }
    handler, _ = sequence(envelope(live), failure(500, "boom: api-key was sk-live-OLD-111-abcdef"))
    echoing = console(handler)
    echoing.read(ORG)
    with pytest.raises(ConsoleError) as raised:
        echoing.read(ORG)
    assert "sk-live-OLD-111-abcdef" not in str(raised.value) and "(sensitive)" in str(raised.value)


def test_500_is_not_retried() -> None:
    handler, seen = sequence(failure(500, "internal error"))
    with pytest.raises(ConsoleError, match="answered 500 \\(internal error\\)"):
        console(handler).read(ORG)
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (failure(401, "unauthorized"), "refused the token \\(401\\): check CLINE_API_KEY or --token-file"),
        (failure(403, "forbidden"), "the token's account must be an admin of the organization"),
        (
            failure(404, "not found"),
            "not found at .* check the id and that the token's account is an admin",
        ),
        (httpx.Response(200, text="<html>oops</html>"), "answered with something that is not JSON"),
        (
            envelope({"enabled": True, "value": "{not json"}),
            f"the console's value for {ORG} is not a JSON object",
        ),
        (httpx.Response(200, json={"data": {"enabled": "yes"}}), "has no enabled/value"),
        (httpx.Response(200, json=[1, 2]), "without Cline's envelope"),
        (httpx.Response(200, json={"success": False, "error": "x"}), "the request failed \\(success: false"),
        (failure(400, "bad org id"), "rejected the request \\(400\\): bad org id"),
    ],
)
def test_failures_are_one_line_that_says_what_to_do(response: httpx.Response, message: str) -> None:
    handler, _ = sequence(response)
    with pytest.raises(ConsoleError, match=message) as raised:
        console(handler).read(ORG)
    assert "\n" not in str(raised.value) and TOKEN not in str(raised.value)


def test_a_403_is_the_organizations_alone_and_a_401_the_whole_consoles() -> None:
    """An account is an admin of some organizations, not all: the next organization is still asked."""
    handler, seen = sequence(failure(403, "forbidden"), envelope(None))
    forbidding = console(handler)
    with pytest.raises(ConsoleError, match="forbids this \\(403\\)") as raised:
        forbidding.read(ORG)
    assert not isinstance(raised.value, NotAttempted)
    assert forbidding.read(ORG.replace("Y", "Z")).document is None and len(seen) == 2
    handler, seen = sequence(failure(401, "unauthorized"), envelope(None))
    refusing = console(handler)
    with pytest.raises(ConsoleError, match="401"):
        refusing.read(ORG)
    with pytest.raises(NotAttempted, match="console unreachable"):
        refusing.read(ORG)
    assert len(seen) == 1


@pytest.mark.parametrize("status", [404, 405])
def test_a_console_without_a_write_endpoint(status: int) -> None:
    handler, _ = sequence(failure(status, "method not allowed"))
    with pytest.raises(WritesUnsupported, match="apply --manual"):
        console(handler).write(ORG, Document(True, {"version": "v1"}), None)


def test_a_refused_if_match_is_a_conflict() -> None:
    handler, _ = sequence(
        failure(412, "precondition failed"), envelope({"enabled": False, "value": '{"version":"v1"}'})
    )
    with pytest.raises(Conflict):
        console(handler).write(ORG, Document(True, {"version": "v1"}), '"1"')


def test_a_retried_write_that_had_landed_is_not_a_conflict() -> None:
    """The first PUT is stored but its answer lost (502); the retry's If-Match is then refused (412). Live is
    what was written, so the write happened once and apply goes on."""
    stored = {"enabled": True, "value": '{"version":"v1","kanbanEnabled":true}'}
    handler, seen = sequence(
        failure(502, "bad gateway"), failure(412, "precondition failed"), envelope(stored, ETag='"2"')
    )
    live = console(handler).write(ORG, Document(True, {"version": "v1", "kanbanEnabled": True}), '"1"')
    assert live.revision == '"2"'
    assert [request.method for request in seen] == ["PUT", "PUT", "GET"]


def test_history_on_a_console_without_it() -> None:
    handler, _ = sequence(failure(404, "no such route", "unknown_path"))  # the code decides, not the words
    with pytest.raises(HistoryUnsupported):
        console(handler).history(ORG)
    handler, _ = sequence(failure(404, "unknown path"))  # the words alone: an organization not found
    with pytest.raises(ConsoleError, match="not found"):
        console(handler).history(ORG)


def test_an_odd_organization_id_never_reaches_the_network() -> None:
    handler, seen = sequence(envelope(None))
    with pytest.raises(ConsoleError, match="is not an organization id"):
        console(handler).read("org-x/../../users/me")
    assert seen == []


# Socket-level faults, on real sockets.


def test_server_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(
            ConsoleError,
            match=r"cannot reach .* \(connection refused\), after 2 attempts \(CLINESYNC_RETRIES=1\): try again later",
        ):
            HttpConsole(f"http://127.0.0.1:{port}", TOKEN, retries=1).read(ORG)


def test_connection_dropped_mid_response(raw_server: Callable[..., str]) -> None:
    def half_answer(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"success": tr')

    url = raw_server(half_answer)
    with pytest.raises(ConsoleError, match="closed mid-answer"):
        HttpConsole(url, TOKEN, retries=1).read(ORG)


def test_a_slow_server_past_the_timeout(raw_server: Callable[..., str]) -> None:
    release = threading.Event()

    def stall(connection: socket.socket) -> None:
        connection.recv(65536)
        release.wait(5)

    url = raw_server(stall)
    hung = HttpConsole(url, TOKEN, timeout=0.3, retries=0)
    try:
        for _ in range(2):
            with pytest.raises(
                ConsoleError,
                match=r"did not answer within the timeout \(\S+ s, CLINESYNC_TIMEOUT\), after 1 attempt \(CLINESYNC_RETRIES=0\):",
            ):
                hung.read(ORG)
        with pytest.raises(NotAttempted):  # hung: the rest of a fleet does not wait out its own timeouts
            hung.read(ORG)
    finally:
        release.set()


@pytest.mark.parametrize(
    ("url", "proxy", "trusts_cas"),
    [
        ("http://127.0.0.1:8765", None, False),  # no TLS anywhere: no CA bundle is loaded
        ("https://console.example.test", None, True),
        ("http://console.example.test", "https://proxy.example.test:3128", True),
    ],
)
def test_a_ca_bundle_is_loaded_only_where_tls_is_used(
    monkeypatch: pytest.MonkeyPatch, url: str, proxy: str | None, trusts_cas: bool
) -> None:
    import ssl

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    from clinesync.consoles.trust import environment_proxy, tls_context

    context = tls_context(url, environment_proxy(url))
    # Never a context that trusts every certificate; a bundle of CAs only where TLS is used.
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert (context.cert_store_stats()["x509_ca"] > 0) is trusts_cas
