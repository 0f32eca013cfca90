"""Saved plans (`plan --out`): what was reviewed, so that `apply PLANFILE` applies exactly that or nothing.

A plan file records, per organization, salted fingerprints of the live document it was computed against and
of the document apply will write, plus the masked changes for display. It holds no secret in clear, and no
fingerprint that lets a guess at a secret be checked cheaply: the per-organization fingerprints cover only
what output may show (SPEC §4), and everything else, secrets included, is bound by one salted scrypt over a
SHA-512 of the whole plan, so each guess costs as much as scrypt (N=2^15, r=8: about 0.1 s and 32 MiB) and must get every
secret of every organization right at once. A plan made with waves (`rollout:`) binds each wave the same way
over its own organizations, so that `apply PLANFILE --wave NAME` checks that wave's secrets alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from clinesync import __version__, strictjson
from clinesync.clients import CLINE_CHECKED
from clinesync.consoles.base import Console
from clinesync.diff import Change
from clinesync.document import Document, canonical_json, fingerprint
from clinesync.files.project import Project
from clinesync.files.waves import Rollout, deal, rollout_from
from clinesync.masking import masked
from clinesync.plans.display import organization_lines
from clinesync.plans.plan import OrgPlan, Plan, Totals, make_plan, organization_data, written
from clinesync.records import evolve, record

KIND = "clinesync-plan"
# 2: each organization's lines as reviewed, and the mass change; 3: the binding streams; 4: per-organization
# digests under the binding, and the waves (rollout:), each bound alone
FORMAT_VERSION = "4"


class PlanFileError(Exception):
    pass


@record(frozen=True)
class SavedOrganization:
    organization: str
    file: str
    live: str
    desired: str
    changes: bool  # only these are applied, and only these can make the plan stale
    files: str = ""  # the files' document alone (no live field kept): tells a later merge from a console edit
    live_revision: int | None = None  # the revision the plan read, where the console numbers them


@record(frozen=True)
class SavedPlan:
    console_identity: str
    console: str
    salt: str
    prune_unknown: bool
    organizations: list[SavedOrganization]
    secrets: str
    document: dict[str, Any]  # as saved: what `show` renders

    @property
    def changing(self) -> list[SavedOrganization]:
        return [entry for entry in self.organizations if entry.changes]

    @property
    def rollout(self) -> Rollout | None:
        """The waves the plan was reviewed with; None when it was made without rollout:."""
        data = self.document.get("rollout")
        return None if data is None else rollout_from(data)

    def dealt_otherwise(self, project: Project) -> str:
        """Why the plan's waves are not what the project's `rollout:` deals its changing organizations now, or
        '': the waves, their holds and checks are the repository's, reviewed in git, not the plan file's."""
        saved = self.document.get("rollout")
        if not project.rollout:
            return "clinesync.yaml has no rollout: here" if saved else ""
        if saved is None:
            return "the plan was made without waves"
        dealt = deal(
            project.rollout, [(entry.organization, entry.file) for entry in self.changing], project.directory
        )
        unbound = {
            **saved,
            "waves": [
                {k: v for k, v in wave.items() if k != "secrets_fingerprint"} for wave in saved["waves"]
            ],
        }
        return "" if dealt.data() == unbound else "its waves are not what clinesync.yaml's rollout: deals"

    def wave(self, name: str) -> SavedPlan:
        """The plan of one wave: its organizations, bound by the wave's own secrets fingerprint. PlanFileError
        when the plan has no such wave."""
        data = self.document.get("rollout")
        waves = {entry["name"]: entry for entry in data["waves"]} if data else {}
        if name not in waves:
            known = ", ".join(waves) if waves else "none: it was made without rollout: in clinesync.yaml"
            raise PlanFileError(f"the plan has no wave {name!r}; its waves: {known}")
        members = set(waves[name]["organizations"])
        return evolve(
            self,
            organizations=[entry for entry in self.organizations if entry.organization in members],
            secrets=waves[name]["secrets_fingerprint"] or "",
        )


def revision_number(revision: Any) -> int | None:
    """A console's revision as a number (an HTTP console's comes as an ETag, `"7"`); None where it is none."""
    text = revision.removeprefix("W/").strip('"') if isinstance(revision, str) else revision
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    digits = isinstance(text, str) and text.isascii() and text.isdecimal() and len(text) <= 18
    return int(text) if digits else None


def _live(org: OrgPlan) -> Document | None:
    return org.live.document if org.live else None


def live_fingerprint(org: OrgPlan, salt: str) -> str:
    return fingerprint(_shown(_live(org), org), salt)


def desired_fingerprint(org: OrgPlan, salt: str) -> str:
    return fingerprint(_shown(org.target, org), salt)


def files_fingerprint(org: OrgPlan, salt: str) -> str:
    return fingerprint(_shown(org.desired.document if org.desired else None, org), salt)


def _shown(document: Document | None, org: OrgPlan) -> str:
    """The document as output may show live values, with every value the file takes from the environment
    left out whole (a URL's path and host too, on both sides): what a cheap fingerprint may cover."""
    if document is None:
        return "null"
    from_environment = org.desired.sensitive if org.desired is not None else frozenset()
    return canonical_json(masked(document.tree(), (), from_environment, live=True))


class SecretsBinding:
    """Every value of the changing organizations' live and desired documents, one SHA-512 per organization,
    taken in plan order into one SHA-512 and bound by one deliberately slow KDF over it. A wave's binding is
    the same over its own organizations: the per-organization digests are kept (in memory only) for that."""

    def __init__(self, salt: str) -> None:
        self._salt = bytes.fromhex(salt)
        self._whole = hashlib.sha512()

    def add(self, org: OrgPlan) -> bytes:
        digest = hashlib.sha512(f"{_whole(_live(org))}\0{_whole(org.target)}\0".encode()).digest()
        self._whole.update(digest)
        return digest

    def add_digest(self, digest: bytes) -> None:
        self._whole.update(digest)

    def hexdigest(self) -> str:
        whole = self._whole.digest()
        return hashlib.scrypt(whole, salt=self._salt, n=2**15, r=8, p=1, maxmem=2**26, dklen=32).hex()


def secrets_fingerprint(organizations: list[OrgPlan], salt: str) -> str:
    binding = SecretsBinding(salt)
    for org in organizations:
        binding.add(org)
    return binding.hexdigest()


def _whole(document: Document | None) -> str:
    return document.canonical() if document else "null"


def dumps(plan: Plan) -> str:
    if plan.failed:
        raise PlanFileError(_NOT_SAVED)
    return written(PlanFile(), plan)


class PlanFile:
    """A saved plan's text, piece by piece as its organizations are decided (the binding of every secret
    last); the plan command writes it to a private file, which takes its name only once it is whole."""

    def __init__(self, waves: bool = False) -> None:
        self._waves = waves
        self._salt = secrets.token_hex(16)
        self._binding = SecretsBinding(self._salt)
        self._first = True
        # With waves: each changing organization's digest, for its wave's binding.
        self._digests: dict[str, bytes] = {}

    def head(self, totals: Totals) -> str:
        head = {
            "kind": KIND,
            "format_version": FORMAT_VERSION,
            "console": totals.console,
            "console_identity": totals.console_identity,
            "prune_unknown": totals.prune_unknown,
            "clinesync_version": __version__,
            "cline": CLINE_CHECKED,  # the Cline release the schema and the member view describe
            "salt": self._salt,
        }
        return strictjson.open_object(head, "organizations")

    def organization(self, org: OrgPlan) -> str:
        if org.action == "failed":
            return ""  # the plan is not saved: its tail says so, once the plan is shown whole
        if org.changes:
            digest = self._binding.add(org)
            if self._waves and org.organization:
                self._digests[org.organization] = digest
        desired = desired_fingerprint(org, self._salt)
        same_document = org.desired is not None and org.target is org.desired.document
        entry = {
            **_saved_form(org),
            "live_revision": revision_number(org.live.revision) if org.live else None,
            "live_fingerprint": live_fingerprint(org, self._salt),
            "desired_fingerprint": desired,
            "files_fingerprint": desired if same_document else files_fingerprint(org, self._salt),
        }
        separator = "\n" if self._first else ",\n"
        self._first = False
        # One line per organization: the standard library encodes it in C, where an indented item is
        # encoded in Python at several times the cost (`show` is how people read a plan file).
        return separator + strictjson.item(entry, indented=False)

    def tail(self, totals: Totals) -> str:
        if totals.failed:
            raise PlanFileError(_NOT_SAVED)
        rest: dict[str, Any] = {
            "secrets_fingerprint": self._binding.hexdigest(),
            "mass_change": list(totals.mass_change),
        }
        rollout = totals.rollout()
        if rollout is not None:
            rest["rollout"] = rollout.data()
            for entry in rest["rollout"]["waves"]:  # each wave applied alone is bound alone
                binding = SecretsBinding(self._salt)
                for organization in entry["organizations"]:
                    binding.add_digest(self._digests[organization])
                entry["secrets_fingerprint"] = binding.hexdigest() if entry["organizations"] else None
        return strictjson.close_object(rest, empty=self._first)


_NOT_SAVED = "a plan with failed organizations is not saved: fix them and plan again"


_HEAD = re.compile(rb'\A\s*\{\s*"kind"\s*:\s*"clinesync-plan"')  # how every plan file clinesync writes begins


def looks_like_plan(path: str) -> bool:
    """Whether the file at `path` begins as a saved plan does, read or broken: never an organization file."""
    try:
        with open(path, "rb") as stream:
            return _HEAD.match(stream.read(256)) is not None
    except OSError:
        return False


def read_if_plan(path: str) -> SavedPlan | None:
    """The saved plan at `path`, read and parsed once; None when the file is not a plan (an organization file:
    a YAML file in flow style, `{organization: ...}`, is not JSON). PlanFileError for a plan that is broken,
    cut short included."""
    if not looks_like_plan(path):
        return None
    return load(path)


def load(path: str) -> SavedPlan:
    try:
        with open(path, encoding="utf-8") as stream:
            document = strictjson.loads(stream.read())
    except (OSError, ValueError) as error:
        raise PlanFileError(
            f"{path} is not a readable clinesync plan file ({type(error).__name__})"
        ) from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise PlanFileError(f"{path} is not a clinesync plan file")
    return _saved(path, document)


def _saved(path: str, document: dict[str, Any]) -> SavedPlan:
    try:
        if document.get("format_version") != FORMAT_VERSION:
            raise PlanFileError(f"{path}: plan format {document.get('format_version')} is not supported")
        saved = SavedPlan(
            console_identity=document["console_identity"],
            console=document["console"],
            salt=document["salt"],
            prune_unknown=bool(document["prune_unknown"]),
            organizations=[
                SavedOrganization(
                    entry["organization"],
                    entry["file"],
                    entry["live_fingerprint"],
                    entry["desired_fingerprint"],
                    bool(entry["changes"]),
                    entry["files_fingerprint"],
                    revision_number(entry.get("live_revision")),
                )
                for entry in document["organizations"]
            ],
            secrets=document["secrets_fingerprint"],
            document=document,
        )
        _check_shown(document)
        if "rollout" in document:  # a broken one is a broken plan file, said now, not mid-rollout
            rollout_from(document["rollout"])
        made_by = document["clinesync_version"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PlanFileError(
            f"{path} is not a readable clinesync plan file ({type(error).__name__})"
        ) from None
    if made_by != __version__:
        raise PlanFileError(
            f"{path} was made by clinesync {made_by}, this is {__version__}: plan again with this version "
            "(or apply it with that one)"
        )
    return saved


def _check_shown(document: dict[str, Any]) -> None:
    """What `show` prints from the file is text: anything else is a broken plan file (TypeError)."""
    shown = [
        *document["mass_change"],
        *(line for entry in document["organizations"] for line in entry["lines"]),
    ]
    if not all(isinstance(line, str) for line in shown):
        raise TypeError("a shown line is not text")


def left_unchanged(saved: SavedPlan) -> list[OrgPlan]:
    """The organizations the saved plan (or wave) leaves unchanged, as reviewed: apply reports them unchanged
    and skips them, never reading them (SPEC §5)."""
    unchanged = {entry.file for entry in saved.organizations if not entry.changes}
    return [org for org in as_plan(saved).organizations if org.file in unchanged]


def as_plan(saved: SavedPlan) -> Plan:
    """The saved plan as it was reviewed, for `show`: its masked changes, impacts and warnings, no console."""
    organizations = []
    for entry in saved.document["organizations"]:
        changes = [
            Change(change["op"], (change["path"],), change["before"], change["after"])
            for change in entry["changes"]
        ]
        organizations.append(
            OrgPlan(
                entry["file"],
                entry["organization"],
                entry.get("name"),
                entry["action"],
                changes,
                entry["impacts"],
                entry.get("classes", []),
                entry["warnings"],
                saved=True,
                saved_members=entry.get("members"),
                saved_lines=entry["lines"],
                origins={
                    (change["path"],): change["origin"] for change in entry["changes"] if "origin" in change
                },
            )
        )
    return Plan(
        saved.console,
        saved.console_identity,
        organizations,
        saved.prune_unknown,
        tuple(saved.document["mass_change"]),
        saved.rollout,
    )


def _display(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What `show` and a review see of an organization: a saved plan is applied only where it is exactly what
    a fresh plan shows, so a plan file edited to look harmless is refused, not applied."""
    return tuple(
        entry.get(key)
        for key in ("organization", "action", "changes", "impacts", "classes", "warnings", "members", "lines")
    )


def _saved_form(org: OrgPlan) -> dict[str, Any]:
    return {**organization_data(org), "lines": organization_lines(org)}


def _as_written(org: OrgPlan, redact: Callable[[str], str] | None) -> dict[str, Any]:
    """The organization as its plan file holds it: the plan command scrubs every secret value it knows from
    the file's text, wherever it stands (a rule's text may hold one), which a display by place does not."""
    form = _saved_form(org)
    if redact is None:
        return form
    try:
        written: dict[str, Any] = strictjson.loads(redact(strictjson.dumps(form)))
    except ValueError:  # a secret standing as a whole number: the file holds it scrubbed, and not as JSON
        return form
    return written


def replan(
    saved: SavedPlan,
    console: Console,
    environ: Mapping[str, str],
    parallelism: int,
    project: Project | None = None,
    redact: Callable[[str], str] | None = None,
) -> tuple[Plan, list[str]]:
    """The organizations the saved plan changes, planned again now, and why that fresh plan is not the reviewed
    one (empty when it is). The others are not read: a change to them since was never reviewed. `redact` is
    what the plan command scrubbed its file's text with (every secret value the run knows)."""
    files = [entry.file for entry in saved.changing]
    missing = [name for name in files if not os.path.isfile(name)]
    if missing:
        raise PlanFileError(
            f"the plan names files that are not here: {', '.join(missing)}. Nothing was written."
        )
    fresh = make_plan(files, console, environ, saved.prune_unknown, parallelism, project=project)
    return fresh, refusals(saved, fresh, redact)


def _fresh_of(saved: SavedPlan, fresh: Plan) -> list[tuple[SavedOrganization, OrgPlan | None]]:
    """Each organization the saved plan changes, with its fresh plan (None where its file planned none)."""
    by_file = {os.path.normpath(org.file): org for org in fresh.organizations}
    return [(entry, by_file.get(os.path.normpath(entry.file))) for entry in saved.changing]


def already_applied(saved: SavedPlan, fresh: Plan) -> bool:
    """Whether live now holds what the reviewed plan would write, in every organization it changes (an admin
    saved it in the console): the files' documents are the reviewed ones as far as output shows them, and
    nothing is left to write. Nothing then needs the plan's binding of live values, which have moved on. Only
    of the console the plan was made against: another one matching says nothing of it."""
    if fresh.console_identity != saved.console_identity:
        return False
    for entry, org in _fresh_of(saved, fresh):
        if org is None or org.action == "failed" or org.changes or org.organization != entry.organization:
            return False
        if desired_fingerprint(org, saved.salt) != entry.desired:
            return False
    return bool(saved.changing)


def moved_toward(saved: SavedPlan, fresh: Plan) -> list[OrgPlan]:
    """The organizations the saved plan changes whose live moved since the plan while the files still say what
    was reviewed: an admin part of the way through its checklist (or someone else's edit). Their fresh changes
    are what still differs from the reviewed files."""
    if fresh.console_identity != saved.console_identity:
        return []
    moved = []
    for entry, org in _fresh_of(saved, fresh):
        if org is None or org.action == "failed" or org.organization != entry.organization:
            continue
        if (
            live_fingerprint(org, saved.salt) != entry.live
            and desired_fingerprint(org, saved.salt) == entry.desired
        ):
            moved.append(org)
    return moved


def made_elsewhere(saved: SavedPlan, identity: str, description: str) -> list[str]:
    """The refusal of a plan made against another console than this one (`identity`); empty when it was not."""
    if identity != saved.console_identity:
        return [f"the plan was made against {saved.console}, not {description}"]
    return []


def refusals(saved: SavedPlan, fresh: Plan, redact: Callable[[str], str] | None = None) -> list[str]:
    """Why the fresh plan is not the reviewed one; empty when it is."""
    elsewhere = made_elsewhere(saved, fresh.console_identity, fresh.console)
    if elsewhere:
        return elsewhere
    shown = {os.path.normpath(entry["file"]): entry for entry in saved.document["organizations"]}
    reasons = []
    matched = _fresh_of(saved, fresh)  # an organization the plan leaves alone cannot make it stale
    for entry, org in matched:
        if org is None or org.action == "failed":
            reasons.append(f"{entry.organization} ({entry.file}): {org.error if org else 'file missing'}")
        elif org.organization != entry.organization:
            reasons.append(f"{entry.file} now declares {org.organization}, not {entry.organization}")
        elif live_fingerprint(org, saved.salt) != entry.live:
            reasons.append(f"{entry.organization}: plan is stale: live changed since the plan; plan again")
        elif desired_fingerprint(org, saved.salt) != entry.desired:
            reasons.append(f"{entry.organization}: files or variables changed since the plan; plan again")
    if reasons:
        return reasons
    fresh_orgs = [org for _, org in matched if org is not None]  # every one: no reason was found
    shown_otherwise = [
        entry.organization
        for entry, org in matched
        if org is not None
        and _display(_as_written(org, redact)) != _display(shown.get(os.path.normpath(entry.file), {}))
    ]
    if secrets_fingerprint(fresh_orgs, saved.salt) != saved.secrets:
        # A value the plan showed beside a masked live one (a header the file writes) is bound with the
        # secrets: the organizations whose display changed are the ones to name.
        if shown_otherwise:
            return [
                f"{organization}: files, variables or live changed since the plan, in a value the plan shows "
                "for it or one it does not (a secret from the environment, or a live value); plan again"
                for organization in shown_otherwise
            ]
        return [
            "files, variables or live changed since the plan, in a value that is not shown (a secret from the "
            "environment, or a live value); plan again"
        ]
    return [
        f"{organization}: the plan file's display differs from what apply would do now (the plan file "
        "was edited, or a dated warning changed since): plan again"
        for organization in shown_otherwise
    ]
