"""Export: a live document written as an organization file, so an existing organization can be adopted.

No credential is written in clear: credential headers, S3-style keys, and the userinfo and query values of
URLs become `${env:NAME}` references (the names and live values are returned so the caller can list the
names). A value that is not a credential is written as it is, so `export` then `plan` needs only the
variables of real secrets. Variable names carry the organization, so files exported into one directory never
share a name for different values (a fleet's export gives a value several organizations hold the first
holder's name: adopt.py). Literal `${` is escaped as `$${`; live fields this version does not know
are left out (apply keeps them), so `export` then `plan` with the variables set shows no changes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from clinesync.document import Document
from clinesync.fields import (
    Item,
    Path,
    dotted,
    find,
    identified_paths,
    is_credential_value,
    is_header_path,
    is_sensitive_path,
    is_url_path,
    plain_copy,
    set_at,
    walk,
)
from clinesync.files import envref
from clinesync.files.style import StyleError, restyled
from clinesync.masking import is_public_header, looks_like_a_token
from clinesync.plans.unknown import unknown_fields
from clinesync.records import field, record
from clinesync.urls import misreading
from clinesync.yaml12 import CORE_STR, core_tag

_SKIPPED_IN_NAMES = {"remoteConfig", "providerSettings", "enterpriseTelemetry", "promptUploading"}


@record
class Exported:
    organization: str
    console: str
    include_secrets: bool
    name: str | None  # the console's name for the organization
    variables: dict[str, str] = field(default_factory=dict)  # name -> live value; never printed
    left_out: list[str] = field(default_factory=list)
    tree: dict[str, Any] = field(default_factory=dict, repr=False)  # `enabled` and `remoteConfig`, as written

    @functools.cached_property
    def text(self) -> str:
        """The organization file, made when asked for: a fleet's export never asks (it writes each file once
        the fleet's names and base are shared), and formatting one costs more than reading it."""
        return organization_text(
            self.organization,
            None,
            self.tree,
            self.console,
            list(self.variables),
            self.include_secrets,
            self.name,
        )


def export_organization(
    organization: str,
    live: Document,
    console: str,
    include_secrets: bool = False,
    public_headers: frozenset[str] = frozenset(),
    name: str | None = None,
) -> Exported:
    """The live document as an organization file. Every value plan would not show live becomes a reference
    (header values unless the project lists them under `publicHeaders`, credential fields, URL userinfo and
    query values), unless `include_secrets`."""
    tree = plain_copy(live.tree())
    left_out = unknown_fields(tree)
    for path in sorted(left_out, key=len, reverse=True):
        _delete(tree, path)
    identified = identified_paths(tree)
    variables: dict[str, str] = {}

    def variable(where: Path, value: str, part: str = "") -> str:
        name = unique_name(_variable_name(organization, where, part), variables)
        variables[name] = value
        return envref.reference(name)

    for path, value in list(walk(tree)):
        if not isinstance(value, str):
            continue
        where = identified[path]
        if include_secrets or not value:  # an empty value is no secret, and an empty variable is unset
            set_at(tree, path, envref.escape(value))
        elif _secret_as_a_whole(where, public_headers):
            set_at(tree, path, variable(where, value))
        elif is_url_path(where):
            set_at(tree, path, _url_with_references(value, functools.partial(variable, where)))
        else:
            set_at(tree, path, envref.escape(value))
    left = [dotted(path) for path in left_out]
    return Exported(organization, console, include_secrets, name, variables, left, tree)


def organization_text(
    organization: str | None,
    extends: str | None,
    tree: dict[str, Any],
    console: str,
    variables: list[str],
    include_secrets: bool = False,
    name: str | None = None,
) -> str:
    """An organization file (or, without `organization`, a base) holding `tree`, with a header that says
    where it came from and which variables to set."""
    header = [f"# Exported from {console} by clinesync export."]
    if variables:
        header.append(f"# Set these environment variables before plan or apply: {', '.join(variables)}")
    if include_secrets:
        header.append("# This file holds secrets in clear: do not commit it.")
    document: dict[str, Any] = {"apiVersion": "clinesync/v1"}
    if organization is not None:
        document["organization"] = organization
    if name is not None:  # the console's name for it, as plans show it
        document["name"] = name
    if extends is not None:
        document["extends"] = [extends]
    document.update(tree)
    text = "\n".join(header) + "\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    try:
        return restyled(text, "(export)")  # the one style fmt writes
    except StyleError:
        return text  # the same meaning in PyYAML's style: never seen, but never a lost export


def _variable_name(organization: str, path: Path, part: str = "") -> str:
    key = re.sub(r"[^A-Za-z0-9]", "", organization.removeprefix("org-"))[-6:]
    parts = [
        part.value if isinstance(part, Item) else str(part) for part in path if part not in _SKIPPED_IN_NAMES
    ]
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(["CLINE", key, *parts, part])).strip("_").upper()
    return name


def holds_secret(where: Path, value: Any, public_headers: frozenset[str]) -> bool:
    """Whether a live text holds what no file writes in clear: what export makes a reference (a credential
    field, a header the project does not list as public, a URL's userinfo, query values, token-like path
    segments and fragment). `pull` writes none of it."""
    if not isinstance(value, str) or not value:
        return False
    if _secret_as_a_whole(where, public_headers) or (is_header_path(where) and is_credential_value(value)):
        return True  # a header listed as public that carries `Bearer ...` is a credential all the same
    return is_url_path(where) and _url_with_references(value, lambda text, part: "") != envref.escape(value)


def _secret_as_a_whole(where: Path, public_headers: frozenset[str]) -> bool:
    return is_sensitive_path(where) or (is_header_path(where) and not is_public_header(where, public_headers))


def _url_with_references(url: str, reference: Callable[[str, str], str]) -> str:
    """The URL with its userinfo, each query value, each path segment that looks like a token and its
    fragment as a reference (what plans do not show live); the rest written as it is. A URL that does not split cleanly, or
    that Node reads differently from its text, is a reference as a whole."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return reference(url, "")
    if misreading(url) is not None:
        return reference(url, "")
    tokens = [segment for segment in parts.path.split("/") if looks_like_a_token(segment)]
    if "@" not in parts.netloc and not parts.query and not tokens and not parts.fragment:
        return envref.escape(url)
    if urlunsplit(parts) != url:
        return reference(url, "")
    netloc = envref.escape(parts.netloc)
    if "@" in parts.netloc:
        userinfo, host = parts.netloc.rsplit("@", 1)
        netloc = f"{reference(userinfo, 'userinfo')}@{envref.escape(host)}"
    pairs = []
    for pair in parts.query.split("&") if parts.query else []:
        key, equals, value = pair.partition("=")
        pairs.append(
            f"{envref.escape(key)}={reference(value, key)}" if equals and value else envref.escape(pair)
        )
    path = "/".join(
        reference(segment, "path") if looks_like_a_token(segment) else envref.escape(segment)
        for segment in parts.path.split("/")
    )
    fragment = reference(parts.fragment, "fragment") if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, path, "&".join(pairs), fragment))


def unique_name(name: str, taken: dict[str, str]) -> str:
    """`name`, or `name_2`, `name_3`, ...: the first not taken."""
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _delete(tree: Any, path: Path) -> None:
    parent = find(tree, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


class _Dumper(yaml.SafeDumper):
    """Multi-line text (rules, skills) as readable `|` blocks; text that YAML 1.2 would read as something
    else (`08`, `1e3`) quoted, as PyYAML's YAML 1.1 rules alone would not."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else '"' if core_tag(value) != CORE_STR else None
    return dumper.represent_scalar(CORE_STR, value, style=style)


_Dumper.add_representer(str, _represent_str)
