"""The project configuration, `clinesync.yaml` (SPEC §9): found in the current folder or the nearest parent,
checked against its own JSON Schema, and what it gives every command: the console, default paths, ignore
patterns, `${var:...}` values and unmanaged paths.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from clinesync.fields import Path, dotted, parse_dotted
from clinesync.files.guardrails import Guardrails, Override
from clinesync.files.loader import LoadedFile, load_file
from clinesync.files.policy import policy_rule
from clinesync.files.problems import RULES, Level, Problem
from clinesync.records import field, record

if TYPE_CHECKING:
    from clinesync.files.waves import Wave

FILE_NAME = "clinesync.yaml"
SCHEMA_FILE = "project.schema.json"


class MassChange(NamedTuple):
    """`massChange:`: `share`, the largest fraction of the managed organizations one plan may update, judged
    where the project manages `share_from` or more (None: at any size); `disable`, the most organizations it
    may switch remote configuration off in; `remove_provider`, the most it may remove a provider from. None:
    no limit."""

    share: float | None = None
    disable: int | None = None
    remove_provider: int | None = None
    share_from: int | None = None

    @property
    def limited(self) -> bool:
        """Whether any threshold is set (none: no limit at all)."""
        return any(limit is not None for limit in (self.share, self.disable, self.remove_provider))


@record(frozen=True)
class Project:
    """What the project configuration says, plus what this run adds (`--var`, `--org`). Without a
    configuration file every field is empty and every command behaves as it always has."""

    file: str | None = None  # the clinesync.yaml used
    console: str | None = None
    paths: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    unmanaged: tuple[Path, ...] = ()
    public_headers: frozenset[str] = frozenset()  # lower-cased names whose values are not secret
    base_folders: tuple[str, ...] = ()  # real paths outside the repository that `extends:` may read
    guardrails: Guardrails = field(default_factory=Guardrails)
    mass_change: MassChange = field(default_factory=MassChange)
    rollout: tuple[Wave, ...] = ()
    notices: tuple[Problem, ...] = ()  # warnings about the configuration itself: exceptions that expired
    organizations: frozenset[str] | None = None  # --org: only these

    @property
    def directory(self) -> str:
        return os.path.dirname(self.file) if self.file else os.curdir

    def base_roots(self, organization_file: str) -> tuple[str, ...]:
        """The folders `extends:` may read from for `organization_file`: its repository (or, outside one, the
        current folder's and this configuration's), and the configuration's `baseFolders`. Never the rest of
        the machine: a file under review must not make clinesync read the runner's own files."""
        here = os.getcwd()  # the cache below is keyed by absolute paths: a process may change folders
        folder = os.path.join(here, os.path.dirname(organization_file))
        return _base_roots(folder, os.path.join(here, self.directory), here, self.base_folders)

    def selects(self, organization: str | None) -> bool:
        return self.organizations is None or organization in self.organizations


class ProjectError(Exception):
    """The configuration file cannot be used: its problems, located in it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def find(start: str = os.curdir) -> str | None:
    """The nearest clinesync.yaml, as git finds its repository: in `start` or the closest folder above it, never
    above the repository root (the folder holding `.git`). A file another user could have written is refused
    (`UnsafeConfiguration`): its `console:` would receive this user's token."""
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, FILE_NAME)
        if os.path.isfile(candidate):
            _refuse_if_unsafe(candidate)
            return candidate
        parent = os.path.dirname(here)
        if parent == here or os.path.exists(os.path.join(here, ".git")):
            return None
        here = parent


@functools.lru_cache(maxsize=1024)
def _base_roots(folder: str, directory: str, current: str, base_folders: tuple[str, ...]) -> tuple[str, ...]:
    """Once a folder a run (absolute paths): a fleet's files share a few folders."""
    here = repository_root(folder) or repository_root(current) or os.path.realpath(current)
    return (here, os.path.realpath(directory), *base_folders)


@functools.lru_cache(maxsize=1024)
def repository_root(folder: str) -> str | None:
    """The real path of the repository holding the absolute path `folder` (the nearest folder with `.git`),
    or None."""
    here = os.path.realpath(folder)
    while not os.path.exists(os.path.join(here, ".git")):
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
    return here


def in_this_repository(path: str) -> bool:
    """Whether `path` (its real path) is inside the repository the current folder is in, or inside the current
    folder outside any: a base elsewhere is shared with fleets this run cannot see."""
    here = repository_root(os.getcwd()) or os.path.realpath(os.curdir)
    real = os.path.realpath(path)
    return real == here or real.startswith(here.rstrip(os.sep) + os.sep)


class VersionRefused(Exception):
    """The repository expects another clinesync (`requires:`): nothing is read or done with this one."""


def _unmet_requirement(loaded: LoadedFile) -> list[Problem]:
    """`requires:` checked against this clinesync: VersionRefused when it does not allow it, a located
    problem when it cannot be read."""
    from clinesync import __version__
    from clinesync.files.requires import allows

    requires = loaded.data.get("requires") if isinstance(loaded.data, dict) else None
    if not isinstance(requires, str):
        return []  # absent, or not text: the schema says so
    mark = loaded.value_mark(("requires",))
    try:
        allowed = allows(requires, __version__)
    except ValueError as error:
        return [loaded.problem("CS100", mark, str(error))]
    if not allowed:
        raise VersionRefused(
            f"{loaded.path}:{mark.line}:{mark.column}: this repository requires clinesync {requires}, and this "
            f"is clinesync {__version__}: install a version it allows (pip install 'clinesync{requires}'); "
            "nothing was done"
        )
    return []


class UnsafeConfiguration(Exception):
    """A clinesync.yaml that someone other than this user could have written (as git's `safe.directory`)."""


def _refuse_if_unsafe(path: str) -> None:
    """As git's `safe.directory`, with its escape hatch: CLINESYNC_SAFE_DIRECTORY names folders (separated as
    PATH is, `*` for any) whose configuration is used whoever owns it, e.g. a CI container running as root
    over a checkout owned by the runner's user."""
    trusted = os.environ.get("CLINESYNC_SAFE_DIRECTORY", "").split(os.pathsep)
    folder = os.path.realpath(os.path.dirname(path))
    if "*" in trusted or any(name and os.path.realpath(name) == folder for name in trusted):
        return
    status = os.stat(path)
    shown = os.path.relpath(path)
    if hasattr(os, "geteuid") and status.st_uid != os.geteuid():
        raise UnsafeConfiguration(
            f"{shown} belongs to another user (uid {status.st_uid}): refusing to use it, since its console: "
            "would receive your token; take the file over, or trust its folder with CLINESYNC_SAFE_DIRECTORY"
        )
    if status.st_mode & 0o022:
        raise UnsafeConfiguration(
            f"{shown} is writable by group or others: refusing to use it, since anyone who can change it "
            f"chooses where your token goes; run chmod go-w {shown}, or trust its folder with "
            "CLINESYNC_SAFE_DIRECTORY"
        )


def load(path: str, variables: Mapping[str, str] | None = None) -> Project:
    """The project a configuration file describes, `variables` (from --var) overriding its own.
    ProjectError when the file is not valid."""
    shown = os.path.relpath(path)
    loaded = load_file(shown)  # its problems name it as it is shown, relative to here
    problems = list(loaded.problems)
    # Before anything else: a repository written for another clinesync may hold keys this one does not know.
    problems += _unmet_requirement(loaded)
    if loaded.data is not None:
        quick = _quick_check()
        if quick is None or not quick(loaded.data):  # jsonschema judges, and locates, every error
            problems += [_located(error, loaded) for error in _validator().iter_errors(loaded.data)]
    data: dict[str, Any] = loaded.data if isinstance(loaded.data, dict) else {}
    unmanaged = []
    for index, text in enumerate(data.get("unmanaged", []) if not problems else []):
        try:
            unmanaged.append(parse_dotted(text))
        except ValueError as error:
            problems.append(loaded.problem("CS100", loaded.value_mark(("unmanaged", index)), str(error)))
    if not problems:
        problems += _guardrail_problems(loaded, data)
    if problems:
        raise ProjectError(sorted(problems, key=Problem.sort_key))
    data, notices = _in_force(loaded, data, datetime.date.today())
    directory = os.path.dirname(shown)
    console = data.get("console")
    if console and "://" not in console and not console.startswith("sqlite:"):
        console = os.path.normpath(os.path.join(directory, console))  # a database, beside the configuration
    return Project(
        file=shown,
        console=console,
        paths=tuple(os.path.normpath(os.path.join(directory, name)) for name in data.get("paths", [])),
        ignore=tuple(data.get("ignore", [])),
        variables={**data.get("variables", {}), **(variables or {})},
        unmanaged=tuple(unmanaged),
        public_headers=frozenset(name.lower() for name in data.get("publicHeaders", [])),
        base_folders=tuple(
            os.path.realpath(os.path.join(directory, name)) for name in data.get("baseFolders", [])
        ),
        guardrails=_guardrails(data, directory),
        mass_change=_mass_change(data.get("massChange", {})),
        rollout=_rollout(data.get("rollout", ())),
        notices=tuple(notices),
    )


def _in_force(
    loaded: LoadedFile, data: dict[str, Any], today: datetime.date
) -> tuple[dict[str, Any], list[Problem]]:
    """The configuration without the policy rules and overrides whose `until:` has passed, and a warning at
    each: an exception written "for now" ends on its day, and says so."""
    notices, kept = [], dict(data)
    for key, what in (("policy", "policy rule {id}"), ("overrides", "this exception")):
        entries = []
        for index, entry in enumerate(data.get(key, [])):
            if "until" in entry and datetime.date.fromisoformat(entry["until"]) < today:
                mark = loaded.value_mark((key, index, "until"))
                said = what.format(id=entry.get("id"))
                message = (
                    f"{said} expired on {entry['until']}: it no longer applies; remove it, or extend until:"
                )
                notices.append(loaded.problem("CS107", mark, message))
            else:
                entries.append(entry)
        kept[key] = entries
    return kept, notices


def _rollout(entries: Any) -> tuple[Wave, ...]:
    from clinesync.files.waves import wave

    return tuple(map(wave, entries))


def _guardrail_problems(loaded: LoadedFile, data: dict[str, Any]) -> list[Problem]:
    """What the schema cannot say: levels for rules that do not exist, policy ids used twice, patterns that
    are not regular expressions, a share of a fleet that is not named."""
    problems = []
    if "share" in data.get("massChange", {}) and not data.get("paths"):
        mark = loaded.key_mark(("massChange", "share"))
        message = (
            "massChange.share needs paths: the organizations it is a share of (a pull request plans a few)"
        )
        problems.append(loaded.problem("CS100", mark, message))
    policy_ids: list[str] = []
    for index, entry in enumerate(data.get("policy", [])):
        if entry["id"] in policy_ids:
            mark = loaded.value_mark(("policy", index, "id"))
            problems.append(loaded.problem("CS100", mark, f"policy id {entry['id']} is used twice"))
        policy_ids.append(entry["id"])
        for name, pattern in entry.get("requireHeaders", {}).items():
            try:
                re.compile(pattern)
            except re.error as error:
                mark = loaded.value_mark(("policy", index, "requireHeaders", name))
                problems.append(
                    loaded.problem(
                        "CS100", mark, f"requireHeaders {name}: not a regular expression ({error})"
                    )
                )
    for key in ("policy", "overrides"):
        for index, entry in enumerate(data.get(key, [])):
            try:
                datetime.date.fromisoformat(entry.get("until", "2000-01-01"))
            except ValueError:
                mark = loaded.value_mark((key, index, "until"))
                problems.append(loaded.problem("CS100", mark, f"until: {entry['until']} is not a date"))
    problems += _rollout_problems(loaded, data.get("rollout", []))
    known = set(RULES) | set(policy_ids)
    named = [(loaded.key_mark(("rules", rule)), rule) for rule in data.get("rules", {})]
    named += [
        (loaded.key_mark(("overrides", index, "rules", rule)), rule)
        for index, entry in enumerate(data.get("overrides", []))
        for rule in entry["rules"]
    ]
    named += [
        (loaded.value_mark(("suppressible", index)), rule)
        for index, rule in enumerate(data.get("suppressible", []))
    ]
    for mark, rule in named:
        if rule not in known:
            problems.append(
                loaded.problem("CS100", mark, f"{rule} is not a rule: `clinesync rules` lists them")
            )
    return problems


def _rollout_problems(loaded: LoadedFile, waves: list[dict[str, Any]]) -> list[Problem]:
    """Waves named twice, an organization two waves name, a share in a wave that names what it takes."""
    problems: list[Problem] = []
    names: set[str] = set()
    named: dict[str, str] = {}
    for index, entry in enumerate(waves):
        if entry["name"] in names:
            mark = loaded.value_mark(("rollout", index, "name"))
            problems.append(loaded.problem("CS100", mark, f"wave {entry['name']} is named twice"))
        names.add(entry["name"])
        for place, organization in enumerate(entry.get("organizations", [])):
            if organization in named:
                mark = loaded.value_mark(("rollout", index, "organizations", place))
                message = (
                    f"{organization} is already in wave {named[organization]}: an organization is in one wave"
                )
                problems.append(loaded.problem("CS100", mark, message))
            named.setdefault(organization, entry["name"])
        if "share" in entry and ("organizations" in entry or "paths" in entry):
            mark = loaded.key_mark(("rollout", index, "share"))
            message = (
                "share takes from the organizations no wave names: a wave has a share, or names what it takes"
            )
            problems.append(loaded.problem("CS100", mark, message))
    return problems


def _guardrails(data: dict[str, Any], directory: str) -> Guardrails:
    levels = {rule: Level(level) for rule, level in data.get("rules", {}).items()}
    overrides = tuple(
        Override(tuple(entry["paths"]), {rule: Level(level) for rule, level in entry["rules"].items()})
        for entry in data.get("overrides", [])
    )
    policy = tuple(policy_rule(entry) for entry in data.get("policy", []))
    suppressible = frozenset(data.get("suppressible", []))
    return Guardrails(levels, overrides, policy, directory or os.curdir, suppressible)


def _located(error: Any, loaded: LoadedFile) -> Problem:
    path: Path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = next((key for key in error.instance if key not in known), "")
        return loaded.problem(
            "CS101",
            loaded.key_mark(path + (unknown,)),
            f"unknown key '{unknown}' in {FILE_NAME}; known: {', '.join(known)}",
        )
    where = dotted(path) if path else FILE_NAME
    return loaded.problem("CS100", loaded.value_mark(path), f"{where}: {error.message}")


def schema_path() -> str:
    from clinesync.contract import PROJECT_SCHEMA_FILE
    from clinesync.contract import schema_path as packaged

    return packaged(PROJECT_SCHEMA_FILE)


def _mass_change(thresholds: dict[str, Any]) -> MassChange:
    return MassChange(
        thresholds.get("share"),
        thresholds.get("disable"),
        thresholds.get("removeProvider"),
        thresholds.get("shareFrom"),
    )


@functools.cache
def _schema() -> dict[str, Any]:
    with open(schema_path(), encoding="utf-8") as stream:
        loaded: dict[str, Any] = json.load(stream)
    return loaded


@functools.cache
def _quick_check() -> Callable[[Any], bool] | None:
    """The quick "valid" organization files have (`fastcheck.py`), so a valid configuration costs no
    jsonschema import."""
    from clinesync.files.fastcheck import compile_schema

    return compile_schema(_schema())


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema())
