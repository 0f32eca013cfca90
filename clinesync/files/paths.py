"""Turning PATH arguments into organization files: a directory means every *.yaml / *.yml below it.

Hidden files and folders are skipped (`.github/`, `.pre-commit-config.yaml`, `.clinesync/` are not
organizations), and so is whatever a `.clinesyncignore` in the directory names: one pattern a line, relative
to that directory, `*` and `?` as in the shell, a trailing `/` for a whole folder, `#` for comments.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

SUFFIXES = (".yaml", ".yml")
IGNORE_FILE = ".clinesyncignore"


class PathError(Exception):
    pass


def expand(arguments: list[str] | tuple[str, ...]) -> list[str]:
    """Files in argument order, each directory's files sorted by path. A file named explicitly is always taken."""
    files: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files.extend(_organization_files(path))
        elif path.is_file():
            files.append(str(path))
        else:
            raise PathError(f"{argument}: no such file or directory")
    return list(dict.fromkeys(os.path.normpath(name) for name in files))


def _organization_files(directory: Path) -> list[str]:
    ignored = _ignore_patterns(directory)
    found = []
    for candidate in directory.rglob("*"):
        relative = candidate.relative_to(directory)
        if candidate.suffix not in SUFFIXES or any(part.startswith(".") for part in relative.parts):
            continue
        if _matches(relative.as_posix(), ignored) or not candidate.is_file():
            continue
        found.append(str(candidate))
    return sorted(found)


def _ignore_patterns(directory: Path) -> list[str]:
    try:
        lines = (directory / IGNORE_FILE).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _matches(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("/"):
            if relative.startswith(pattern) or fnmatch.fnmatch(relative.split("/", 1)[0] + "/", pattern):
                return True
        elif fnmatch.fnmatch(relative, pattern):
            return True
    return False
