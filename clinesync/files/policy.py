"""Policy rules (SPEC §10): what every organization must satisfy, declared in `clinesync.yaml`'s `policy:`.

Each rule has an id, a level, optional file patterns and exactly one condition. A violation is a located problem
named by the rule's id. The same rules run on the file as written (`validate`, where a value from
`${env:...}` is not known yet) and on its resolved view (`plan`, `apply`, `drift`, `probe`), so neither a
variable nor a base routes around them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from clinesync import urls
from clinesync.cline import is_azure_host
from clinesync.fields import Path, dotted, identified, is_url_path
from clinesync.files.loader import LoadedFile, Mark
from clinesync.files.problems import Level, Problem

CONDITIONS = (
    "allowHosts",
    "denyProviders",
    "allowProviders",
    "allowModels",
    "requireHeaders",
    "requireHttps",
    "requireAzureIdentity",
    "requireEnabled",
)


class PolicyRule(NamedTuple):
    id: str
    condition: str
    value: Any
    level: Level = Level.ERROR
    message: str | None = None
    paths: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        return self.message or f"policy: {self.condition} {_describe(self.value)}"


def policy_rule(entry: Mapping[str, Any]) -> PolicyRule:
    """A rule from its (schema-checked) entry in `policy:`."""
    condition = next(name for name in CONDITIONS if name in entry)
    return PolicyRule(
        entry["id"],
        condition,
        entry[condition],
        Level(entry.get("level", "error")),
        entry.get("message"),
        tuple(entry.get("paths", ())),
    )


def policy_problems(loaded: LoadedFile, rules: tuple[PolicyRule, ...]) -> list[Problem]:
    """Every violation of `rules` in the file (merged over its bases, variables substituted)."""
    if not isinstance(loaded.data, dict):
        return []
    problems = []
    for rule in rules:
        for mark, detail in _CHECKS[rule.condition](loaded, rule.value):
            message = f"{rule.message}: {detail}" if rule.message else f"policy {rule.condition}: {detail}"
            problems.append(
                Problem.of(rule.id, mark.file or loaded.path, mark.line, mark.column, message, rule.level)
            )
    return problems


Violations = Iterator[tuple[Mark, str]]


def _remote(loaded: LoadedFile) -> dict[str, Any]:
    remote = loaded.data.get("remoteConfig")
    return remote if isinstance(remote, dict) else {}


def _providers(loaded: LoadedFile) -> dict[str, Any]:
    settings = _remote(loaded).get("providerSettings")
    return settings if isinstance(settings, dict) else {}


def _endpoints(loaded: LoadedFile) -> Iterator[tuple[Path, str]]:
    """Every URL a member's requests go to, known now (a `${env:...}` waits for the resolved view)."""
    for path, value in loaded.nodes:
        known = isinstance(value, str) and not loaded.deferred(value)
        if known and path[:1] == ("remoteConfig",) and is_url_path(path):
            yield path, value


def _named(loaded: LoadedFile, path: Path) -> str:
    """A value's path as plans name it: list items by identity (`remoteMCPServers[name=docs]`)."""
    return dotted(identified(loaded.data, path))


def _allow_hosts(loaded: LoadedFile, patterns: list[str]) -> Violations:
    for path, url in _endpoints(loaded):
        host = urls.host(url)  # as Node reads it: an IPv6 host in brackets, matched without them
        if host is None:  # where CS111 is suppressed, a URL Cline cannot read still goes nowhere allowed
            yield (
                loaded.value_mark(path),
                f"{_named(loaded, path)} has no host Cline can read, so none that is allowed",
            )
            continue
        host = host.removeprefix("[").removesuffix("]")
        if not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns):
            yield (
                loaded.value_mark(path),
                f"{_named(loaded, path)} goes to {loaded.shown(path, host)}, not an allowed host",
            )


def _deny_providers(loaded: LoadedFile, names: list[str]) -> Violations:
    for name in _providers(loaded):
        if name in names:
            yield (
                loaded.key_mark(("remoteConfig", "providerSettings", name)),
                f"provider {name} is not allowed",
            )


def _allow_providers(loaded: LoadedFile, names: list[str]) -> Violations:
    for name in _providers(loaded):
        if name not in names:
            yield (
                loaded.key_mark(("remoteConfig", "providerSettings", name)),
                f"provider {name} is not one of {', '.join(names)}",
            )


def _allow_models(loaded: LoadedFile, patterns: list[str]) -> Violations:
    for path, value in loaded.nodes:
        if len(path) < 3 or path[-3] != "models" or path[-1] != "id" or not isinstance(value, str):
            continue
        if not loaded.deferred(value) and not any(
            fnmatch.fnmatchcase(value, pattern) for pattern in patterns
        ):
            yield loaded.value_mark(path), f"model {loaded.shown(path, value)} is not an allowed model"


def _require_headers(loaded: LoadedFile, required: Mapping[str, str]) -> Violations:
    provider = _providers(loaded).get("OpenAiCompatible")
    if not isinstance(provider, dict):
        return
    where: Path = ("remoteConfig", "providerSettings", "OpenAiCompatible")
    headers = provider.get("openAiHeaders")
    sent = (
        {str(name).lower(): (name, value) for name, value in headers.items()}
        if isinstance(headers, dict)
        else {}
    )
    for name, pattern in required.items():
        found = sent.get(name.lower())
        if found is None:
            mark = (
                loaded.key_mark(where + ("openAiHeaders",)) if headers is not None else loaded.key_mark(where)
            )
            yield mark, f"the endpoint does not send the header {name}"
            continue
        written, value = found
        path = where + ("openAiHeaders", written)
        if isinstance(value, str) and not loaded.deferred(value) and not re.fullmatch(pattern, value):
            shown = loaded.shown(path, "its value")
            yield loaded.value_mark(path), f"header {name}: {shown} does not match {pattern!r}"


def _require_https(loaded: LoadedFile, required: bool) -> Violations:
    if not required:
        return
    for path, url in _endpoints(loaded):
        parsed = urls.read(url)  # as Node reads it: "ht\ttp://" is http:// to Node
        if parsed is not None and parsed.scheme != "https":
            yield loaded.value_mark(path), f"{_named(loaded, path)} is plain http://: use https://"


def _require_azure_identity(loaded: LoadedFile, required: bool) -> Violations:
    provider = _providers(loaded).get("OpenAiCompatible")
    if not required or not isinstance(provider, dict):
        return
    url = provider.get("openAiBaseUrl")
    host = urls.host(url) if isinstance(url, str) and not loaded.deferred(url) else None
    if host is not None and is_azure_host(host) and provider.get("azureIdentity") is not True:
        where: Path = ("remoteConfig", "providerSettings", "OpenAiCompatible")
        mark = (
            loaded.value_mark(where + ("azureIdentity",))
            if "azureIdentity" in provider
            else loaded.key_mark(where)
        )
        yield (
            mark,
            f"{loaded.shown(where + ('openAiBaseUrl',), host)} is an Azure host: set azureIdentity: true",
        )


def _require_enabled(loaded: LoadedFile, required: bool) -> Violations:
    if required and loaded.data.get("enabled") is False:
        yield loaded.value_mark(("enabled",)), "enabled must be true"


_CHECKS: dict[str, Callable[[LoadedFile, Any], Violations]] = {
    "allowHosts": _allow_hosts,
    "denyProviders": _deny_providers,
    "allowProviders": _allow_providers,
    "allowModels": _allow_models,
    "requireHeaders": _require_headers,
    "requireHttps": _require_https,
    "requireAzureIdentity": _require_azure_identity,
    "requireEnabled": _require_enabled,
}


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{name} ~ {pattern}" for name, pattern in value.items())
    return str(value).lower()
