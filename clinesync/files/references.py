"""Every `${env:NAME}` a run's files can resolve, found from their text before any of them is checked: the
files themselves and every base they extend, at any depth. A plan streamed to stdout and to a plan file
scrubs the values of all of them from its first line, as a plan held whole did: one organization's live
document may hold another's secret in a value it shows.

Files are read as bytes, not parsed: only a top-level `extends:` (the key and its indented or `-` lines) is
read as YAML, once per distinct text and folder, so a fleet whose files all extend one base costs a scan.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import yaml

# Not after a `$`: `$${env:NAME}` is a literal `${env:NAME}`, for members' machines to expand, not a secret here.
_NAME = re.compile(rb"(?<!\$)\$\{env:([A-Za-z_][A-Za-z0-9_]*)")
_EXTENDS = re.compile(rb"^extends:[^\n]*(?:\n(?:[ \t]|-)[^\n]*)*", re.MULTILINE)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_BYTES = 1024 * 1024  # as the loader reads: more is refused, never resolved
_FIRST_READ = 64 * 1024


def environment_names(files: Iterable[str]) -> set[str]:
    """The names every `files` and the bases they extend reference with `${env:...}`."""
    names: set[str] = set()
    seen: set[str] = set()
    targets: _Targets = {}
    # Absolute paths, not real ones: a realpath costs more than reading a small file, and a base reached by
    # two names is only read twice.
    waiting = [os.path.abspath(name) for name in files]
    while waiting:
        path = waiting.pop()
        if path in seen:
            continue
        seen.add(path)
        text = _read(path)
        if text is None:
            continue  # checking says why, located
        names.update(name.decode() for name in _NAME.findall(text))
        waiting += _extends(path, text, targets)
    return names


def extended(files: Iterable[str]) -> set[str]:
    """The real paths of the bases `files` extend directly."""
    found: set[str] = set()
    targets: _Targets = {}
    real: dict[str, str] = {}  # a fleet that extends one base resolves it once
    for name in files:
        path = os.path.abspath(name)
        text = _read(path)
        for base in _extends(path, text, targets) if text is not None else ():
            if base not in real:
                real[base] = os.path.realpath(base)
            found.add(real[base])
    return found


_Targets = dict[tuple[str, bytes], list[str]]  # (folder, extends text) -> the bases it names


def _read(path: str) -> bytes | None:
    """The file's text as the loader reads it (up to its limit); None where it cannot be read."""
    try:
        with open(path, "rb") as stream:
            text = stream.read(_FIRST_READ)  # asking for the limit at once allocates it, for every file
            if len(text) == _FIRST_READ:
                text += stream.read(_MAX_BYTES - _FIRST_READ)
    except OSError:
        return None
    return text


def _extends(path: str, text: bytes, targets: _Targets) -> list[str]:
    """The absolute paths of the bases the file at `path` extends, its `extends:` text parsed once a folder."""
    found = _EXTENDS.search(text) if b"extends:" in text else None
    if found is None:
        return []
    key = (os.path.dirname(path), found.group())
    if key not in targets:
        targets[key] = [os.path.normpath(os.path.join(key[0], name)) for name in _named(found.group())]
    return targets[key]


def _named(region: bytes) -> list[str]:
    try:
        data = yaml.load(region, Loader=_LOADER)
    except yaml.YAMLError:
        return []  # not YAML: checking reports it, and nothing is resolved from it
    listed = data.get("extends") if isinstance(data, dict) else None
    return [name for name in listed if isinstance(name, str) and name] if isinstance(listed, list) else []
