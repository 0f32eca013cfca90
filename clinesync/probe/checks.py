"""The probe itself: from where it runs, check that each configured endpoint answers as Cline will call it,
before every member is locked to it.

Per endpoint: DNS, TCP, TLS (trusted, valid for the host, days to expiry), then the model listing Cline's
client would make (`GET {base}/models`, with `api-version` exactly where Cline adds it), and optionally one
minimal chat completion per declared model. Requests go to the configured endpoints only, and follow no
redirect. Each failed check says what to try, after the admin guide's troubleshooting section.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from clinesync import urls
from clinesync.clients import CLINE_CHECKED
from clinesync.probe.endpoints import Check, Credentials, Endpoint, Status, cline_url
from clinesync.records import evolve
from clinesync.scrub import Redactor, clipped

_EXPIRY_WARNING_DAYS = 14

FIX_CONNECT = (
    "verify the Base URL is correct and reachable from your team's machines; check that firewalls "
    "and security groups allow access from developer IP addresses"
)
FIX_TLS = (
    "use a certificate trusted by members' machines and valid for this host (SSL_CERT_FILE for a private CA)"
)
FIX_AUTH = "if members use API keys, verify the key (probe with --api-key-env NAME)"


def probe_all(
    found: list[Endpoint], credentials: Credentials, timeout: float, chat: bool, parallelism: int
) -> list[Endpoint]:
    """Every endpoint probed, at most `parallelism` at once; whatever stopped a probe is its failed check."""
    from clinesync.consoles.fleet import concurrently

    outcomes = concurrently(
        lambda endpoint: probe_endpoint(endpoint, credentials, timeout, chat), found, parallelism
    )
    results = []
    for endpoint, outcome in zip(found, outcomes, strict=True):
        if not isinstance(outcome, Endpoint):
            endpoint.checks.append(Check("probe", "fail", str(outcome), FIX_CONNECT))
            outcome = endpoint
        results.append(outcome)
    return results


def probe_endpoint(endpoint: Endpoint, credentials: Credentials, timeout: float, chat: bool) -> Endpoint:
    parts = urls.read(endpoint.base_url)  # as members' Cline reads it
    if parts is None or urls.misreading(endpoint.base_url) is not None:  # CS111, where a file suppressed it
        raise ValueError("the base URL is not one Cline reads as written")
    host, secure = parts.host.removeprefix("[").removesuffix("]"), parts.scheme == "https"
    port = int(parts.port) if parts.port else (443 if secure else 80)
    addresses = _dns(endpoint, host, port)
    if addresses is None or not _tcp(endpoint, addresses, port, timeout):
        return endpoint
    if secure and not _tls(endpoint, host, port, timeout):
        return endpoint
    if endpoint.own_api:
        endpoint.checks.append(
            Check(
                "api",
                "warn",
                f"not probed past TLS: Cline calls {endpoint.provider} through its own API, which probe does not speak",
            )
        )
        return endpoint
    headers = _headers(endpoint, credentials)
    import httpx  # only a probe that got this far pays for it

    # One client for the endpoint, made before any timing: making one loads a CA bundle (tens of ms), which
    # no member's request pays, and which made the latencies shown 10-50x the requests'.
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        listing = _listing_headers(endpoint, credentials)
        offered = _models(endpoint, client, listing, timeout, credentials.redact, chat)
        # Cline's chat never lists models first (the listing fills the extension's model picker): a listing
        # that failed is said, and chat is still tried; where every chat answers, members chat all the same.
        if chat:
            listed = len(endpoint.checks)
            for model in endpoint.models:
                _chat(endpoint, client, headers, model, offered, credentials.redact)
            if (
                offered is None
                and endpoint.models
                and all(c.status == "ok" for c in endpoint.checks[listed:])
            ):
                _picker_only(endpoint)
    return endpoint


def _on_the_wire(headers: dict[str, str]) -> dict[str, bytes]:
    """Header values as Node sends them, Latin-1 bytes (the HTTP library would send ASCII only); a value
    beyond Latin-1 is refused before any request (CS130, and the key's own check)."""
    return {name: value.encode("latin-1") for name, value in headers.items()}


def _listing_headers(endpoint: Endpoint, credentials: Credentials) -> dict[str, str]:
    """The model picker's request (refreshOpenAiModels.ts): the file's headers, then the member's key as a
    bearer token over any Authorization among them, the reverse of chat's order."""
    headers = {"User-Agent": "clinesync-probe", **endpoint.headers}
    if credentials.api_key:
        headers = {name: value for name, value in headers.items() if name.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {credentials.api_key}"
    return headers


def _picker_only(endpoint: Endpoint) -> None:
    """A listing that failed where every chat answered: what members miss is the model picker, not Cline."""
    for index, check in enumerate(endpoint.checks):
        if check.name == "models" and check.status == "fail":
            endpoint.checks[index] = evolve(
                check,
                status="warn",
                detail=f"{check.detail}: members' model picker stays empty; chat answers all the same",
                fix="members type the model id themselves; serve the model list at the Base URL to fill the picker",
            )


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


def _dns(endpoint: Endpoint, host: str, port: int) -> list[Any] | None:
    infos: list[Any]
    try:
        infos, elapsed = _timed(lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    except (socket.gaierror, UnicodeError) as error:
        endpoint.checks.append(
            Check("dns", "fail", f"cannot resolve {_host(endpoint, host)} ({_reason(error)})", FIX_CONNECT)
        )
        return None
    endpoint.checks.append(
        Check("dns", "ok", f"{_host(endpoint, host)} resolves ({len(infos)} addresses)", latency_ms=elapsed)
    )
    return infos


def _tcp(endpoint: Endpoint, infos: list[Any], port: int, timeout: float) -> bool:
    family, kind, protocol, _, address = infos[0]
    try:
        with socket.socket(family, kind, protocol) as connection:
            connection.settimeout(timeout)
            _, elapsed = _timed(lambda: connection.connect(address))
    except OSError as error:
        endpoint.checks.append(
            Check("tcp", "fail", f"cannot connect to port {port} ({_reason(error)})", FIX_CONNECT)
        )
        return False
    endpoint.checks.append(Check("tcp", "ok", f"port {port} accepts connections", latency_ms=elapsed))
    return True


def _tls(endpoint: Endpoint, host: str, port: int, timeout: float) -> bool:
    context = ssl.create_default_context()  # verifies; honours SSL_CERT_FILE and SSL_CERT_DIR
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as secure,
        ):
            certificate = secure.getpeercert() or {}
    except ssl.SSLCertVerificationError as error:
        endpoint.checks.append(
            Check("tls", "fail", f"certificate not accepted: {error.verify_message}", FIX_TLS)
        )
        return False
    except (OSError, ssl.SSLError) as error:
        endpoint.checks.append(Check("tls", "fail", f"TLS handshake failed ({_reason(error)})", FIX_TLS))
        return False
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(certificate["notAfter"])), timezone.utc)
    days = (expires - datetime.now(timezone.utc)).days
    status: Status = "warn" if days < _EXPIRY_WARNING_DAYS else "ok"
    endpoint.checks.append(
        Check(
            "tls",
            status,
            f"certificate valid for {_host(endpoint, host)}, expires in {days} days",
            "renew the certificate before members are cut off" if status == "warn" else "",
        )
    )
    return True


def _headers(endpoint: Endpoint, credentials: Credentials) -> dict[str, str]:
    """What members' Cline sends (its runtime's OpenAI-compatible provider, `probe` in clients.py's sources): the
    file's headers, and the member's own key as a bearer token (Azure too) unless the file sets Authorization.
    No Entra ID token: Cline's runtime obtains none, whatever azureIdentity says."""
    headers = {"User-Agent": "clinesync-probe", **endpoint.headers}
    if endpoint.azure_identity:
        endpoint.checks.append(
            Check(
                "auth",
                "warn",
                f"azureIdentity is on, but Cline's runtime obtains no Entra ID token ({CLINE_CHECKED}): members' "
                "requests carry their own API key, or none, as this probe's do",
                "give members a key (openAiHeaders: api-key: ${env:...}), or their own; then probe with it",
            )
        )
    # createOpenAICompatible sends the key as a bearer token beside the file's headers, of which only an
    # Authorization header takes its place.
    if credentials.api_key and not any(name.lower() == "authorization" for name in headers):
        headers["Authorization"] = f"Bearer {credentials.api_key}"
    return headers


def _models(
    endpoint: Endpoint, client: Any, headers: dict[str, str], timeout: float, redact: Redactor, chat: bool
) -> set[str] | None:
    import httpx

    url = f"{endpoint.picker_url}/models"  # as the picker asks: the URL as stored, no api-version
    try:
        response, elapsed = _timed(lambda: client.get(url, headers=_on_the_wire(headers)))
    except httpx.TimeoutException:
        endpoint.checks.append(Check("models", "fail", f"no answer within {timeout:g} s", FIX_CONNECT))
        return None
    except httpx.HTTPError as error:
        endpoint.checks.append(
            Check("models", "fail", f"request failed ({clipped(str(error), redact, 200)})", FIX_CONNECT)
        )
        return None
    status = response.status_code
    if status == 404 and endpoint.azure and "/openai/deployments/" in endpoint.base_url:
        # Azure lists no models under a deployment, known or not: only a chat tells them apart.
        endpoint.checks.append(
            Check(
                "models",
                "warn" if chat else "fail",
                "HTTP 404: a deployment serves no model list, so members' model picker stays empty"
                + ("" if chat else "; whether the deployment answers is not checked"),
                "probe with --chat to check that the deployment answers, as Cline's chat calls it",
                elapsed,
            )
        )
        return None
    if status >= 300:
        endpoint.checks.append(
            Check(
                "models",
                "fail",
                f"HTTP {status}: {_endpoint_error(response, redact)}",
                _fix_for(status, endpoint),
                elapsed,
            )
        )
        return None
    offered = _model_ids(response)
    if offered is None:
        endpoint.checks.append(
            Check("models", "fail", "the answer is not an OpenAI model list", FIX_CONNECT, elapsed)
        )
        return None
    endpoint.checks.append(
        Check("models", "ok", f"HTTP {status}, {len(offered)} models offered", latency_ms=elapsed)
    )
    for model in endpoint.models:
        if model in offered:
            endpoint.checks.append(Check(f"model {model}", "ok", "offered"))
        else:
            endpoint.checks.append(
                Check(
                    f"model {model}", "fail", "declared but not offered by the endpoint", _fix_model(offered)
                )
            )
    extra = sorted(offered - set(endpoint.models))
    if extra:
        shown = ", ".join(extra[:10]) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
        endpoint.checks.append(
            Check(
                "undeclared models",
                "warn",
                f"offered but not declared: {shown}",
                "members can pick them already (no Cline client offers or enforces models:); declare them "
                "to keep the file a true record",
            )
        )
    return offered


# o1, o3, o4 and gpt-5 model ids (sdk/packages/llms/src/providers/model-facts.ts, Cline 2026-08).
_REASONING_ERA = re.compile(r"(^|[^a-z0-9])(o[134]|gpt-?5)(?=$|[^a-z0-9])")


def _chat(
    endpoint: Endpoint,
    client: Any,
    headers: dict[str, str],
    model: str,
    offered: set[str] | None,
    redact: Redactor,
) -> None:
    """One completion, asked as Cline's runtime asks (`probe` in clients.py's sources): streamed, with usage,
    and `max_completion_tokens` for the reasoning-era models that refuse `max_tokens`."""
    import httpx

    limit = "max_completion_tokens" if _REASONING_ERA.search(model.strip().lower()) else "max_tokens"
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Reply with one word."}],
        limit: 1,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    try:
        response, elapsed = _timed(
            lambda: client.post(
                cline_url(endpoint, "chat/completions"), headers=_on_the_wire(headers), json=body
            )
        )
    except httpx.TimeoutException:
        endpoint.checks.append(
            Check(f"chat {model}", "fail", f"no answer within {client.timeout.read:g} s", FIX_CONNECT)
        )
        return
    except httpx.HTTPError as error:
        endpoint.checks.append(
            Check(
                f"chat {model}", "fail", f"request failed ({clipped(str(error), redact, 200)})", FIX_CONNECT
            )
        )
        return
    if response.status_code >= 300:
        endpoint.checks.append(
            Check(
                f"chat {model}",
                "fail",
                f"HTTP {response.status_code}: {_endpoint_error(response, redact)}",
                _fix_model(offered)
                if offered is not None and model not in offered
                else _fix_for(response.status_code, endpoint),
                elapsed,
            )
        )
    elif (wrong := _not_a_completion_stream(response, redact)) is not None:
        endpoint.checks.append(
            Check(
                f"chat {model}",
                "fail",
                f"HTTP {response.status_code}, but {wrong}: Cline reads every answer as a stream of completions",
                "serve streamed chat completions (stream: true, server-sent events) on this endpoint",
                elapsed,
            )
        )
    else:
        endpoint.checks.append(
            Check(f"chat {model}", "ok", f"HTTP {response.status_code}, answered", latency_ms=elapsed)
        )


def _not_a_completion_stream(response: Any, redact: Redactor) -> str | None:
    """Why an answer is not a streamed chat completion (server-sent events carrying `choices`), or None. An
    event that carries an error fails as Cline's runtime fails it."""
    import json

    events = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    chunks = []
    for event in events:
        if event == "[DONE]":
            continue
        try:
            chunks.append(json.loads(event))
        except ValueError:
            return "an event of the stream is not JSON"
    for chunk in chunks:
        error = chunk.get("error") if isinstance(chunk, dict) else None
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            return f"the stream carries an error: {clipped(str(message), redact)}"
    if not any(isinstance(chunk, dict) and "choices" in chunk for chunk in chunks):
        return "not as a stream of completions" if not events else "the stream carries no completion"
    return None


def _model_ids(response: Any) -> set[str] | None:
    try:
        document = response.json()
    except ValueError:
        return None
    entries = document.get("data") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return None
    return {entry["id"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)}


def _endpoint_error(response: Any, redact: Redactor) -> str:
    """The endpoint's own error message, scrubbed of secrets, then on one line and bounded."""
    try:
        document = response.json()
        error = document.get("error") if isinstance(document, dict) else None
        message = error.get("message") or error.get("code") if isinstance(error, dict) else error
    except ValueError:
        message = response.text
    return clipped(str(message or response.reason_phrase or ""), redact) or "no message"


def _fix_for(status: int, endpoint: Endpoint) -> str:
    if status in (401, 403):
        return FIX_AUTH
    if status == 404 and endpoint.azure:
        return (
            "check the deployment name in the Base URL (…/openai/deployments/<name>) and azureApiVersion; "
            "a Base URL ending in /openai gives 'Resource not found'"
        )
    if status == 404:
        return "check the Base URL's path (many servers serve the API under /v1)"
    if 300 <= status < 400:
        return "the endpoint redirects: use the final URL as the Base URL (Cline does not follow redirects)"
    return FIX_CONNECT


def _fix_model(offered: set[str]) -> str:
    """A declared model the endpoint does not serve: the fix is in `models:`, or on the endpoint, never in the
    Base URL, which answered."""
    listed = sorted(offered)
    shown = ", ".join(listed[:10]) + (f" and {len(listed) - 10} more" if len(listed) > 10 else "")
    return (
        f"the endpoint's model list has {shown or 'no model'}: correct the id under models:, or deploy the "
        "model on the endpoint (members pick from what it serves: no Cline client offers or enforces models:)"
    )


def _host(endpoint: Endpoint, host: str) -> str:
    return "the host" if endpoint.sensitive_url else host


def _reason(error: BaseException) -> str:
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())[:200]
