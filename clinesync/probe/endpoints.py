"""What `probe` checks: the endpoints organization files configure, as members' Cline calls them (URL,
headers, `api-version` where Cline adds it), and the credentials members would send that files do not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from clinesync import urls
from clinesync.cline import is_azure_host
from clinesync.files.desired import Desired
from clinesync.files.problems import Problem
from clinesync.files.project import Project
from clinesync.records import field, record
from clinesync.scrub import Redactor

Status = Literal["ok", "warn", "fail"]


@record
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""
    latency_ms: float | None = None


@record
class Endpoint:
    """One provider's endpoint in one organization, as Cline will call it."""

    organization: str
    file: str
    provider: str
    base_url: str
    headers: dict[str, str]
    models: list[str]
    azure: bool = False
    api_version: str | None = None
    azure_identity: bool = False
    sensitive_url: bool = False
    own_api: bool = False  # Cline calls it through the provider's own API (Anthropic, Bedrock), not OpenAI's
    picker_url: str = ""  # the base URL as stored, which the extension's model picker lists at
    checks: list[Check] = field(default_factory=list)

    @property
    def shown_url(self) -> str:
        return "(sensitive)" if self.sensitive_url else self.base_url

    @property
    def passed(self) -> bool:
        return all(check.status != "fail" for check in self.checks)


def endpoints(desired: Desired) -> list[Endpoint]:
    """The endpoints an organization configures: OpenAI Compatible, LiteLLM, and Anthropic's or Bedrock's
    when the file sets one (without, Cline calls the vendor's own, which is not this organization's to probe).
    Anthropic and Bedrock speak their own APIs: only DNS, TCP and TLS are probed there."""
    settings = desired.document.config.get("providerSettings") or {}
    found = []
    for provider, field_name in (
        ("OpenAiCompatible", "openAiBaseUrl"),
        ("LiteLLM", "baseUrl"),
        ("Anthropic", "baseUrl"),
        ("AwsBedrock", "awsBedrockEndpoint"),
    ):
        block = settings.get(provider)
        if not isinstance(block, dict) or not block.get(field_name):
            continue
        stored = block[field_name].rstrip("/")
        url = _with_default_path(provider, stored)
        host = urls.host(url) or ""
        version = block.get("azureApiVersion")
        azure = provider == "OpenAiCompatible" and (bool(version) or is_azure_host(host))
        found.append(
            Endpoint(
                organization=desired.organization,
                file=desired.file,
                provider=provider,
                base_url=url,
                headers=dict(block.get("openAiHeaders") or {}),
                models=[model["id"] for model in block.get("models") or [] if isinstance(model, dict)],
                azure=azure,
                api_version=version or None,  # none set, none sent: as Cline's runtime does (CS122)
                azure_identity=bool(block.get("azureIdentity")),
                sensitive_url=("remoteConfig", "providerSettings", provider, field_name) in desired.sensitive,
                own_api=provider in ("Anthropic", "AwsBedrock"),
                picker_url=stored,
            )
        )
    return found


def _with_default_path(provider: str, url: str) -> str:
    """A base URL with no path gets its provider's default one, /v1 for OpenAI Compatible and LiteLLM, as the
    extension gives it for chat (`normalizeSdkBaseUrl`, apps/vscode/src/sdk/cline-session-factory.ts,
    Cline 2026-08)."""
    parts = urlsplit(url)
    if provider not in ("OpenAiCompatible", "LiteLLM") or parts.path not in ("", "/"):
        return url
    return urlunsplit((parts.scheme, parts.netloc, "/v1", parts.query, parts.fragment))


def cline_url(endpoint: Endpoint, suffix: str) -> str:
    """`{base}/suffix`, with `api-version` added only where Cline adds it: Azure mode, and a base URL whose path
    starts with /openai/deployments/ (one ending in /openai gets none, hence 'Resource not found')."""
    parts = urlsplit(f"{endpoint.base_url}/{suffix}")
    query = parts.query
    deployment = urlsplit(endpoint.base_url).path.startswith("/openai/deployments/")
    if endpoint.azure and endpoint.api_version and deployment and "api-version=" not in query:
        query = "&".join(filter(None, [query, f"api-version={endpoint.api_version}"]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@record
class Credentials:
    """What members would send that the file does not hold: their API key."""

    api_key: str | None = None
    # Every secret the run knows: an endpoint's echoed error is scrubbed of them before it is cut.
    redact: Redactor = field(default_factory=Redactor)


@record
class Collected:
    """What the files say to probe: their endpoints, the files that could not be read, every problem found,
    and the secrets the endpoints' settings hold (for output to scrub)."""

    endpoints: list[Endpoint] = field(default_factory=list)
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)


def collect(files: list[str], environ: Mapping[str, str], project: Project | None = None) -> Collected:
    """Check and resolve each file, as plan does, and list the endpoints its members' Cline calls."""
    from clinesync.files.batch import iter_checked

    collected = Collected()
    for checked in iter_checked(files, project, environ):
        desired = checked.desired
        collected.problems += checked.problems
        if desired is None:
            errors = [problem for problem in checked.problems if problem.is_error]
            where = f"{errors[0].message} ({errors[0].line}:{errors[0].column})"
            collected.failed_files.append((checked.path, where))
            continue
        collected.secrets |= desired.secrets
        collected.endpoints += endpoints(desired)
    return collected
