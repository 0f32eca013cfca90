"""Shared bases (SPEC §9): an organization file that says `extends: [bases/azure.yaml, ...]` is merged over
them, and every value keeps the file and line where it was set.

Mappings merge deeply; lists whose items have an identity (SPEC §1) merge by identity; other lists and values
are replaced. Later bases win over earlier ones and the organization's own file wins over all; `null` removes
an inherited key and `- {id: x, $patch: delete}` an inherited item. A base is parsed once per run however many
files extend it. A `$patch` item that matched nothing is left in place, for the schema to report (CS105).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from clinesync.fields import IDENTITY_KEYS, Path, walk
from clinesync.files.loader import LoadedFile, Mark, YamlMark, as_mark, load_file
from clinesync.files.problems import Problem
from clinesync.records import evolve

PATCH = "$patch"

# Keys of a base that are not inherited: its own `extends` was merged already, and a base names no organization.
_NOT_INHERITED = ("extends", "organization")

Prepare = Callable[[LoadedFile], LoadedFile]  # what every file gets once loaded (variables substituted)


def extended(
    loaded: LoadedFile, cache: dict[str, LoadedFile], prepare: Prepare, roots: tuple[str, ...]
) -> LoadedFile:
    """`loaded` merged over the bases it names, or `loaded` itself when it names none. Bases are read only
    from inside `roots` (real paths of folders)."""
    if not isinstance(loaded.data, dict) or not loaded.data.get("extends"):
        return loaded
    return _Bases(cache, prepare, roots).extend(loaded, (os.path.realpath(loaded.path),))


def inherited(loaded: LoadedFile, cache: dict[str, LoadedFile]) -> Any:
    """What the bases an organization file names add up to (its data, merged), from a run's cache once the file
    has been extended; None when it names none."""
    names = loaded.data.get("extends") if isinstance(loaded.data, dict) else None
    if not isinstance(names, list) or not names:
        return None
    found = cache.get(_folded(loaded, names))
    return found.data if found is not None else None


def chain(loaded: LoadedFile, cache: dict[str, LoadedFile]) -> frozenset[str]:
    """The real paths of every base a file extends, at any depth, from a run's cache once it was extended."""
    found: set[str] = set()
    todo = [loaded]
    while todo:
        current = todo.pop()
        names = current.data.get("extends") if isinstance(current.data, dict) else None
        for name in names if isinstance(names, list) else []:
            real = _real(current, name) if isinstance(name, str) else None
            if real is not None and real not in found:
                found.add(real)
                if real in cache:
                    todo.append(cache[real])
    return frozenset(found)


def _folded(loaded: LoadedFile, names: list[Any]) -> str:
    """The cache's key for a list of bases: what it adds up to is the same for every file that names it."""
    return "extends:" + "\0".join(_real(loaded, name) for name in names)


class _Bases:
    def __init__(self, cache: dict[str, LoadedFile], prepare: Prepare, roots: tuple[str, ...]) -> None:
        self.cache = cache
        self.prepare = prepare
        self.roots = roots

    def extend(self, loaded: LoadedFile, chain: tuple[str, ...]) -> LoadedFile:
        data = loaded.data
        names = data.get("extends") if isinstance(data, dict) else None
        if not isinstance(names, list) or not names:
            return loaded
        problems: list[Problem] = []
        folded = _folded(loaded, names)  # merged once a run
        inherited = self.cache.get(folded)
        if inherited is None:
            inherited = LoadedFile(loaded.path, {})
            for index, name in enumerate(names):
                if not isinstance(name, str) or not name:
                    continue  # the schema says what is wrong with it
                base = self._base(loaded, ("extends", index), name, chain, problems)
                if base is not None and isinstance(base.data, dict):
                    inherited = _merged(inherited, base, base.path)
            if not problems:  # a fold with problems (a cycle through this very file) is made again
                self.cache[folded] = inherited
        found = list(dict.fromkeys([*loaded.problems, *problems]))  # a base shared twice: once
        return evolve(_merged(inherited, loaded, None), problems=found)

    def _base(
        self, loaded: LoadedFile, where: Path, name: str, chain: tuple[str, ...], problems: list[Problem]
    ) -> LoadedFile | None:
        path = os.path.normpath(os.path.join(os.path.dirname(loaded.path), name))
        real = _real(loaded, name)
        mark = loaded.value_mark(where)
        if real in chain:
            cycle = " -> ".join([*(os.path.relpath(step) for step in chain), os.path.relpath(real)])
            problems.append(loaded.problem("CS105", mark, f"extends {name}: a cycle of bases ({cycle})"))
            return None
        if not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots):
            problems.append(
                loaded.problem(
                    "CS105",
                    mark,
                    f"extends {name}: outside the repository ({os.path.relpath(self.roots[0])}): not read; "
                    "list its folder under baseFolders: in clinesync.yaml to allow it",
                )
            )
            return None
        if real not in self.cache:
            if not os.path.isfile(path):
                problems.append(
                    loaded.problem(
                        "CS105",
                        mark,
                        f"extends {name}: no such file ({path}, relative to this file's folder)",
                    )
                )
                return None
            base = self.prepare(load_file(path))
            if isinstance(base.data, dict) and "organization" in base.data:
                base.problems.append(
                    base.problem(
                        "CS105",
                        base.key_mark(("organization",)),
                        "a base names no organization: the organization files that extend it do",
                    )
                )
            self.cache[real] = self.extend(base, (*chain, real))
        base = self.cache[real]
        problems.extend(base.problems)
        return base


def _real(loaded: LoadedFile, name: object) -> str:
    """The real path of a base named in `loaded`, relative to its folder."""
    if not isinstance(name, str) or not name:
        return ""
    return os.path.realpath(os.path.join(os.path.dirname(loaded.path), name))


def _merged(base: LoadedFile, own: LoadedFile, own_file: str | None) -> LoadedFile:
    """`own` over `base`, with the marks of both. Marks without a file are tagged with `own_file` (a base's
    path); None keeps them untagged: the organization's own file."""
    merge = _Merge(base, own, own_file)
    data = merge.mapping((), base.data, (), own.data, (), top=True)
    return LoadedFile(
        own.path,
        data,
        values=merge.values,
        keys=merge.keys,
        converted=merge.converted,
        suppressions=[*base.suppressions, *own.suppressions],
    )


def _tagged(mark: Mark | YamlMark, file: str | None) -> Mark | YamlMark:
    if file is None:
        return mark
    located = as_mark(mark)
    return located if located.file else located._replace(file=file)


class _Merge:
    def __init__(self, base: LoadedFile, own: LoadedFile, own_file: str | None) -> None:
        self.base, self.own, self.own_file = base, own, own_file
        self.values: dict[Path, Mark | YamlMark] = {}
        self.keys: dict[Path, Mark | YamlMark] = {}
        self.converted: dict[Path, str] = {}

    def take(self, from_own: bool, source: Path, node: Any, target: Path) -> Any:
        """`node` placed whole at `target`, with the marks of all it holds."""
        loaded, file = (self.own, self.own_file) if from_own else (self.base, None)
        for relative, _ in walk(node):
            self._mark(loaded, file, source + relative, target + relative)
        return node

    def _mark(self, loaded: LoadedFile, file: str | None, source: Path, target: Path) -> None:
        mark = loaded.values.get(source)
        if mark is not None:
            self.values[target] = _tagged(mark, file)
        key = loaded.keys.get(source)
        if key is not None:
            self.keys[target] = _tagged(key, file)
        text = loaded.converted.get(source)
        if text is not None:
            self.converted[target] = text

    def node(self, base_path: Path, base: Any, own_path: Path, own: Any, target: Path) -> Any:
        if isinstance(base, dict) and isinstance(own, dict):
            return self.mapping(base_path, base, own_path, own, target)
        name = target[-1] if target else None
        if (
            isinstance(name, str)
            and name in IDENTITY_KEYS
            and isinstance(base, list)
            and isinstance(own, list)
        ):
            return self.identity_list(IDENTITY_KEYS[name], base_path, base, own_path, own, target)
        return self.take(True, own_path, own, target)

    def mapping(
        self,
        base_path: Path,
        base: dict[str, Any],
        own_path: Path,
        own: dict[str, Any],
        target: Path,
        top: bool = False,
    ) -> dict[str, Any]:
        self._mark(self.own, self.own_file, own_path, target)
        merged: dict[str, Any] = {}
        for key, value in base.items():
            if top and key in _NOT_INHERITED:
                continue
            if key not in own:
                merged[key] = self.take(False, base_path + (key,), value, target + (key,))
            elif own[key] is not None:  # null removes what was inherited
                self._mark(self.own, self.own_file, own_path + (key,), target + (key,))
                if top and key == "unmanaged":
                    merged[key] = self.union(
                        base_path + (key,), value, own_path + (key,), own[key], target + (key,)
                    )
                else:
                    merged[key] = self.node(
                        base_path + (key,), value, own_path + (key,), own[key], target + (key,)
                    )
        for key, value in own.items():
            if key not in merged and not (key in base and value is None):
                merged[key] = self.take(True, own_path + (key,), value, target + (key,))
        return merged

    def identity_list(
        self, identity: str, base_path: Path, base: list[Any], own_path: Path, own: list[Any], target: Path
    ) -> list[Any]:
        self._mark(self.own, self.own_file, own_path, target)
        inherited = {_identity(item, identity) for item in base} - {None}
        overrides: dict[str, int] = {}
        added: list[int] = []
        for index, item in enumerate(own):
            key = _identity(item, identity)
            if key is not None and key in inherited and key not in overrides:
                overrides[key] = index
            else:
                added.append(index)  # new, or a `$patch` that matches nothing: the schema reports it
        merged: list[Any] = []
        for index, item in enumerate(base):
            key = _identity(item, identity)
            at = target + (len(merged),)
            if key is None or key not in overrides:
                merged.append(self.take(False, base_path + (index,), item, at))
                continue
            mine = overrides.pop(key)
            if own[mine].get(PATCH) == "delete":
                continue
            merged.append(self.node(base_path + (index,), item, own_path + (mine,), own[mine], at))
        for index in added:
            merged.append(self.take(True, own_path + (index,), own[index], target + (len(merged),)))
        return merged

    def union(self, base_path: Path, base: Any, own_path: Path, own: Any, target: Path) -> Any:
        """`unmanaged:` adds up: what a base leaves unmanaged stays so."""
        if not (isinstance(base, list) and isinstance(own, list)):
            return self.take(True, own_path, own, target)
        merged = [
            self.take(False, base_path + (index,), item, target + (index,)) for index, item in enumerate(base)
        ]
        for index, item in enumerate(own):
            if item not in merged:
                merged.append(self.take(True, own_path + (index,), item, target + (len(merged),)))
        return merged


def _identity(item: Any, identity: str) -> str | None:
    key = item.get(identity) if isinstance(item, dict) else None
    return key if isinstance(key, str) else None
