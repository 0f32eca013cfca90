"""Export: a live document written as an organization file, so an existing organization can be adopted.

A console cannot say which of its values came from `${env:...}`, so export is conservative: every header value
and every S3-style key becomes a `${env:NAME}` reference (the names and live values are returned so the
caller can list the names); literal `${` is escaped as `$${`; and live fields this version does not know are left out
(apply keeps them), so `export` then `plan` with the variables set shows no changes.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from clinesync import envref
from clinesync.document import Document
from clinesync.fields import Item, Path, dotted, identified_paths, is_header_path, is_sensitive_path, walk
from clinesync.loader import CORE_STR, core_tag
from clinesync.unknown import unknown_fields

_SKIPPED_IN_NAMES = {"remoteConfig", "providerSettings", "enterpriseTelemetry", "promptUploading"}


@dataclass
class Exported:
    text: str
    variables: dict[str, str] = field(default_factory=dict)  # name -> live value; never printed
    left_out: list[str] = field(default_factory=list)


def export_organization(
    organization: str, live: Document, console: str, include_secrets: bool = False
) -> Exported:
    tree = copy.deepcopy(live.tree())
    left_out = unknown_fields(tree)
    for path in sorted(left_out, key=len, reverse=True):
        _delete(tree, path)
    identified = identified_paths(tree)
    variables: dict[str, str] = {}
    for path, value in list(walk(tree)):
        if not isinstance(value, str):
            continue
        where = identified[path]
        if (is_sensitive_path(where) or is_header_path(where)) and not include_secrets:
            name = _unique(_variable_name(where), variables)
            variables[name] = value
            _set(tree, path, envref.reference(name))
        else:
            _set(tree, path, envref.escape(value))
    header = [f"# Exported from {console} by clinesync export."]
    if variables:
        header.append(f"# Set these environment variables before plan or apply: {', '.join(variables)}")
    if include_secrets:
        header.append("# This file holds secrets in clear: do not commit it.")
    document = {"apiVersion": "clinesync/v1", "organization": organization, **tree}
    text = "\n".join(header) + "\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return Exported(text, variables, [dotted(path) for path in left_out])


def _variable_name(path: Path) -> str:
    parts = [
        part.value if isinstance(part, Item) else str(part) for part in path if part not in _SKIPPED_IN_NAMES
    ]
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()
    return name if name and not name[0].isdigit() else f"_{name}"


def _unique(name: str, taken: dict[str, str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _set(tree: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


def _delete(tree: Any, path: Path) -> None:
    for part in path[:-1]:
        if isinstance(part, Item):
            tree = next(item for item in tree if isinstance(item, dict) and item.get(part.key) == part.value)
        else:
            tree = tree[part]
    tree.pop(path[-1], None)


class _Dumper(yaml.SafeDumper):
    """Multi-line text (rules, skills) as readable `|` blocks; text that YAML 1.2 would read as something
    else (`08`, `1e3`) quoted, as PyYAML's YAML 1.1 rules alone would not."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else '"' if core_tag(value) != CORE_STR else None
    return dumper.represent_scalar(CORE_STR, value, style=style)


_Dumper.add_representer(str, _represent_str)
