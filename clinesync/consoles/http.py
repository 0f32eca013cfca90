"""The HTTP console: Cline's API (`https://api.cline.bot`) or a clinesync console server (SPEC §6).

Reads are Cline's documented `GET /api/v1/organizations/{id}/remote-config`; writes are the mirroring PUT.
Connection failures, 429, 502, 503 and 504 are retried with exponential backoff and jitter, honouring
Retry-After, a bounded number of times; a TLS or DNS failure is not (it will not heal). `timeout` bounds each
whole answer, not each read, and an answer over 8 MiB is refused unread. A failure that holds for the whole
console (unreachable, TLS not trusted, token refused, a second request failing through every retry, a
Retry-After past a minute) is remembered, so the rest of a fleet is reported not attempted at once instead of
each retrying on its own; a request already sent is failed, never "not attempted", and a write that may have
landed says so. Every failure becomes one ConsoleError line that says
what to do; no message carries the token, a header or a body.
"""

from __future__ import annotations

import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from clinesync import __version__, strictjson
from clinesync.cline import is_organization_id
from clinesync.consoles.base import (
    NOT_ATTEMPTED,
    Administered,
    Conflict,
    ConsoleDown,
    ConsoleError,
    HistoryUnsupported,
    Live,
    NotAttempted,
    NotFound,
    Revision,
    WritesUnsupported,
    stored_document,
)
from clinesync.consoles.trust import environment_proxy, tls_context
from clinesync.consoles.wire import Answer, Wire, WireError
from clinesync.document import Document
from clinesync.fields import HEADER_MAPS, SECRET_FIELDS
from clinesync.masking import masked_url
from clinesync.scrub import Redactor, clipped

_RETRIED_STATUSES = frozenset({429, 502, 503, 504})
_FROM_A_GATEWAY = frozenset({502, 504})  # the request may have reached the console behind it
_LONGEST_WAIT = 60.0  # seconds between attempts at most; a console asking for longer ends the run's requests

# One exchange: (method, path, headers, body) to the whole answer. The wire's by default; tests give their own.
Exchange = Callable[[str, str, dict[str, str], bytes | None], Answer]


class HttpConsole:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        exchange: Exchange | None = None,
        redact: Redactor | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        # Credentials in the console URL are never printed (`url` is what output names) and never sent: the
        # protocol authenticates with the bearer token, which URL userinfo would replace.
        self.url = masked_url(url.rstrip("/"), live=False)
        self._token = token
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._down: ConsoleDown | None = None  # the failure that settled the whole console, once seen
        # Requests that ran out of retries on the console's failures: the second settles it.
        self._exhausted = 0
        # Errors echoed by the console are scrubbed of every secret known to the run, then cut to a line.
        self._redact = redact if redact is not None else Redactor()
        self._redact.add({token})
        # Credentials read from live (`_credentials`): scrubbed from what the console echoes, and only there:
        # they are no secret of this run's files, whose plan shows them masked already.
        self._read_credentials = Redactor()
        self._base = _without_userinfo(url.rstrip("/"))
        self._headers = {
            "Authorization": f"Bearer {token}",
            "User-Agent": f"clinesync/{__version__}",
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
        }
        self._given = exchange  # a test's exchange, used for every request
        self._proxy = environment_proxy(self._base)
        self._tls = tls  # made with the wire, if not given
        self._wire: Wire | None = None
        self._wire_lock = threading.Lock()

    @property
    def description(self) -> str:
        return self.url

    @property
    def identity(self) -> str:
        return self.url

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset({self._token})

    @property
    def inline(self) -> bool:
        return False  # the network wait is what threads overlap

    def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Answer:
        if self._given is not None:
            return self._given(method, path, headers, body)
        with self._wire_lock:  # made on the first request: a run that never asks loads no CA bundle
            if self._wire is None:
                self._tls = self._tls or tls_context(self._base, self._proxy)
                self._wire = Wire(self._base, self.timeout, self._tls, self._proxy)
            wire = self._wire
        return wire.exchange(method, path, headers, body)

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()

    def read(self, organization: str, like: Document | None = None) -> Live:
        answer = self._request("GET", _config_path(organization), organization)
        live = _live(answer, organization, self.url, like)
        if live.document is not None:
            self._read_credentials.add(_credentials(live.document.config))
        return live

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
        body = {"enabled": document.enabled, "value": document.wire_value()}
        headers = {"If-Match": if_match} if if_match else {}
        try:
            response = self._request("PUT", _config_path(organization), organization, body, headers)
        except Conflict:
            # A PUT that reached the console but whose answer was lost is retried with the same If-Match and
            # refused. If live is what we wrote, it landed (once): nothing was lost or overwritten.
            try:
                live = self.read(organization)
            except ConsoleError as error:  # NotAttempted too: the write was sent all the same
                raise ConsoleError(f"{error}{_maybe('PUT', landed=True)}") from None
            if live.document is not None and live.document.canonical() == document.canonical():
                return live
            raise
        return _live(response, organization, self.url)

    def organizations(self) -> list[Administered]:
        """The organizations the token administers: those `GET /api/v1/users/me` lists with the role `admin`
        or `owner`. (The member-side discovery says which one configures the caller, not which it manages.)"""
        profile = _data(self._request("GET", _PROFILE, "the token's account"), self.url)
        listed = profile.get("organizations") if isinstance(profile, dict) else []
        if profile is not None and not isinstance(listed, list):
            raise ConsoleError(f"{self.url}: the profile's organizations is not a list")
        found = []
        for entry in listed or []:
            organization = entry.get("organizationId") if isinstance(entry, dict) else None
            if not isinstance(organization, str) or not is_organization_id(organization):
                raise ConsoleError(f"{self.url}: the profile lists an organization without a valid id")
            roles = entry.get("roles")
            managing = {"admin", "owner"} & set(map(str, roles)) if isinstance(roles, list) else set()
            if not managing:
                continue
            name = entry.get("name")
            role = "owner" if "owner" in managing else "admin"
            found.append(Administered(organization, name if isinstance(name, str) else None, role))
        return found

    def history(self, organization: str) -> list[Revision]:
        try:
            response = self._request("GET", _config_path(organization) + "/revisions", organization)
        except _PathNotFound:
            raise HistoryUnsupported(f"{self.url} keeps no revision history") from None
        entries = _data(response, self.url)
        if not isinstance(entries, list):
            raise ConsoleError(f"{self.url}: the revisions answer is not a list")
        try:
            return [
                Revision(
                    int(entry["revision"]),
                    Document(bool(entry["enabled"]), _config(entry["value"], organization)),
                    str(entry.get("createdAt", "")),
                )
                for entry in entries
            ]
        except (KeyError, TypeError, ValueError):
            raise ConsoleError(f"{self.url}: a revision in the answer is malformed") from None

    def _request(
        self,
        method: str,
        path: str,
        organization: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        attempt, failure = 0, ""
        landed = False  # whether an attempt may have reached the console (a write may then have landed)
        while True:
            if attempt and self._down is not None:  # sent once already: it may have reached the console
                raise ConsoleError(
                    f"{failure}; then the console became unreachable ({self._down}){_maybe(method, landed)}"
                )
            self._raise_if_down()
            consoles = True  # the console's state once the retries run out, not this organization's answer
            refused = False  # nothing listens: the console's state at once, whatever was asked
            try:
                response = self._answer(method, path, body, headers)
            except WireError as failed:
                failure, wait = f"cannot reach {self.url} ({failed})", None
                if failed.timed_out:
                    failure = f"{self.url} did not answer within the timeout ({self.timeout:g} s, CLINESYNC_TIMEOUT)"
                if failed.final and failed.whole_console:
                    self._settle(ConsoleDown(failure))
                if failed.final:
                    raise ConsoleError(failure) from None
                consoles = failed.whole_console or failed.timed_out  # not an answer garbled on its way
                refused = failed.whole_console
                landed = landed or failed.sent
            else:
                if response.status not in _RETRIED_STATUSES:
                    try:
                        _raise_for_status(response, method, organization, self.url, self._scrubbed)
                    except ConsoleDown as down:
                        self._settle(down)
                    return response
                failure = f"{self.url} answered {response.status} ({_error_text(response, self._scrubbed)})"
                landed = landed or response.status in _FROM_A_GATEWAY
                wait = _retry_after(response)
                if wait is not None and wait > _LONGEST_WAIT:  # come back in an hour: not within this run
                    self._settle(ConsoleDown(f"{failure}, asking to wait {wait:.0f} s: try again later"))
            if attempt >= self.retries:
                attempts = f"{attempt + 1} attempt{'s' if attempt else ''}"
                # A CI job's owner facing a console that is merely slow learns what to raise.
                given_up = f"{failure}, after {attempts} (CLINESYNC_RETRIES={self.retries}): try again later"
                # Refused through every retry, or timed out, rate-limited or unavailable for a second request:
                # the console's state, not one organization's (a document its gateway keeps timing out). The
                # rest of a fleet is then not attempted, rather than each waiting out its own retries (a hung
                # console would take hours over a fleet).
                settled = False
                if consoles:
                    with self._wire_lock:
                        self._exhausted += 1
                        settled = refused or self._exhausted >= 2
                if settled:  # the rest are told the console's failure, without this request's own note
                    self._down = self._down or ConsoleDown(given_up)
                raise (ConsoleDown if settled else ConsoleError)(given_up + _maybe(method, landed))
            time.sleep(wait if wait is not None else self._backoff(attempt))
            attempt += 1

    def _scrubbed(self, text: str) -> str:
        return self._read_credentials(self._redact(text))

    def _answer(self, method: str, path: str, body: Any, headers: dict[str, str] | None) -> Answer:
        content = None
        all_headers = {**self._headers, **(headers or {})}
        if body is not None:
            content = strictjson.dumps(body, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        return self._exchange(method, path, all_headers, content)

    def _settle(self, down: ConsoleDown) -> None:
        self._down = self._down or down
        raise down

    def _raise_if_down(self) -> None:
        if self._down is not None:
            raise NotAttempted(f"{NOT_ATTEMPTED}console unreachable ({self._down})")

    def _backoff(self, attempt: int) -> float:
        return float(min(_LONGEST_WAIT, self.backoff * 2**attempt) * random.uniform(0.5, 1.0))


def _maybe(method: str, landed: bool) -> str:
    """What a failed write that may have reached the console leaves to find out."""
    return "; the write may have landed: plan again to see" if method == "PUT" and landed else ""


class _PathNotFound(ConsoleError):
    pass


_PROFILE = "/api/v1/users/me"


def _config_path(organization: str) -> str:
    if not is_organization_id(organization):
        raise ConsoleError(f"{organization!r} is not an organization id")
    return f"/api/v1/organizations/{quote(organization, safe='')}/remote-config"


def _raise_for_status(
    response: Answer, method: str, organization: str, url: str, redact: Callable[[str], str]
) -> None:
    status = response.status
    if status < 300:
        return
    reason = _error_text(response, redact)
    if status == 401:
        raise ConsoleDown(f"{url} refused the token (401): check CLINE_API_KEY or --token-file")
    if status == 403:  # the organization's alone: an account is an admin of some organizations, not all
        raise ConsoleError(
            f"{url} forbids this (403): the token's account must be an admin of the organization"
        )
    if method == "PUT" and status in (404, 405):
        raise WritesUnsupported(
            f"{url} does not accept writes of remote configuration (HTTP {status}): Cline's hosted console has "
            "no write endpoint today. Use `clinesync apply --manual` for the console steps"
        )
    if status == 404:
        if _error_code(response) == "unknown_path":  # clinesync serve's code: this console lacks the path
            raise _PathNotFound(f"{url}: {reason}")
        raise NotFound(
            f"not found at {url} (404): check the id and that the token's account is an admin of it"
        )
    if status == 412:
        raise Conflict(f"{organization} changed in the console since it was read (412): plan again")
    if status == 413:
        raise ConsoleError(f"{url} refused the document as too large (413)")
    if status == 400:
        what = "the document" if method == "PUT" else "the request"
        raise ConsoleError(f"{url} rejected {what} (400): {reason}")
    raise ConsoleError(f"{url} answered {status} ({reason})")


def _error_text(response: Answer, redact: Callable[[str], str]) -> str:
    """The `error` of Cline's envelope, scrubbed, one line and bounded; never the raw body."""
    try:
        error = strictjson.loads(response.body).get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, str) or not error:
        return response.reason or "no reason given"
    return clipped(error, redact)


def _error_code(response: Answer) -> str | None:
    try:
        code = strictjson.loads(response.body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def _data(response: Answer, url: str) -> Any:
    try:
        envelope = strictjson.loads(response.body)
    except ValueError:
        raise ConsoleError(
            f"{url} answered with something that is not JSON (HTTP {response.status})"
        ) from None
    if isinstance(envelope, dict) and envelope.get("success") is False:  # its error text is not echoed
        raise ConsoleError(f"{url} answered that the request failed (success: false, HTTP {response.status})")
    if not isinstance(envelope, dict) or "data" not in envelope:
        raise ConsoleError(f"{url} answered without Cline's envelope ({{success, data}})")
    return envelope["data"]


def _live(response: Answer, organization: str, url: str, like: Document | None = None) -> Live:
    data = _data(response, url)
    revision = response.header("ETag")
    if data is None:
        return Live(None, revision)
    if not isinstance(data, dict) or not isinstance(data.get("enabled"), bool) or "value" not in data:
        raise ConsoleError(f"the console's answer for {organization} has no enabled/value")
    value = data["value"]
    document = stored_document(data["enabled"], value, like, lambda: _config(value, organization))
    return Live(document, revision)


def _credentials(node: Any, found: list[str] | None = None, headers: bool = False) -> list[str]:
    """The credentials a live document holds (keys, header values): learnt as the run reads them, so that a
    console echoing one in an error (its own, or another organization's) never has it printed. Found by key,
    without building paths: every read over HTTP pays for it (a tenth of `fields.walk`'s cost)."""
    found = [] if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if headers or key in SECRET_FIELDS:
                    found.append(value)
            elif isinstance(value, dict | list):
                _credentials(value, found, key in HEADER_MAPS)
    elif isinstance(node, list):
        for value in node:
            _credentials(value, found)
    return found


def _config(value: Any, organization: str) -> dict[str, Any]:
    try:
        config = strictjson.loads(value, strictjson.MAX_DEPTH) if isinstance(value, str) else None
    except strictjson.NotStrictJSON as error:
        raise ConsoleError(
            f"the console's value for {organization} is not JSON that Cline can read ({error}): members "
            "would keep a stale copy; fix it in the console"
        ) from None
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise ConsoleError(f"the console's value for {organization} is not a JSON object")
    return config


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


def _retry_after(response: Answer) -> float | None:
    header = response.header("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    import email.utils  # only an answer that asks to wait until a date pays for importing it

    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
