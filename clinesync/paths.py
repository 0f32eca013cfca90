"""Turning PATH arguments into organization files: a directory means every *.yaml / *.yml below it."""

from __future__ import annotations

import os
from pathlib import Path

SUFFIXES = (".yaml", ".yml")


class PathError(Exception):
    pass


def expand(arguments: list[str] | tuple[str, ...]) -> list[str]:
    """Files in argument order, each directory's files sorted by path; hidden files and folders skipped
    (`.github/`, `.pre-commit-config.yaml` and `.clinesync/` are not organizations)."""
    files: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(
                str(candidate)
                for candidate in path.rglob("*")
                if candidate.suffix in SUFFIXES
                and candidate.is_file()
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
            )
            files.extend(found)
        elif path.is_file():
            files.append(str(path))
        else:
            raise PathError(f"{argument}: no such file or directory")
    return list(dict.fromkeys(os.path.normpath(name) for name in files))
