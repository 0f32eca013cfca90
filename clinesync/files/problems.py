"""Problems found in organization files: the rule catalogue and the located problem value."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from clinesync.escape import visible


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    OFF = "off"  # configured away: such a problem is never reported

    def __str__(self) -> str:
        return self.value


class Rule(NamedTuple):
    id: str
    level: Level
    summary: str


def _catalogue(*rules: tuple[str, Level, str]) -> dict[str, Rule]:
    return {rule_id: Rule(rule_id, level, summary) for rule_id, level, summary in rules}


E, W = Level.ERROR, Level.WARNING

# The stable rule ids of SPEC §1.2. Ids are never reused or renumbered.
RULES: dict[str, Rule] = _catalogue(
    (
        "CS100",
        E,
        "schema violation: wrong type, missing required field, value not allowed, number Cline cannot read",
    ),
    ("CS101", E, "unknown key"),
    ("CS102", E, "duplicate key in a YAML mapping"),
    (
        "CS103",
        E,
        "not a single YAML mapping: empty, not UTF-8, too large, invalid YAML, anchors, aliases or tags",
    ),
    ("CS104", E, "two files declare the same organization"),
    (
        "CS105",
        E,
        "extends: a base that is missing or in a cycle, a base that names an organization, or a "
        "$patch: delete that removes nothing",
    ),
    ("CS106", W, "value set at a path the file or project leaves unmanaged: ignored, the console's stays"),
    ("CS107", W, "suppression comment naming an unknown rule, expired, or suppressing nothing"),
    (
        "CS108",
        E,
        "suppression that may not be: without a reason, of a rule files may not suppress, or an until= "
        "that is not a date",
    ),
    ("CS110", W, "plain http:// URL to a host that is not loopback"),
    ("CS111", E, "URL field that is not an absolute http(s) URL, or that Node reads otherwise than written"),
    ("CS120", E, "azureApiVersion not of the form YYYY-MM-DD or YYYY-MM-DD-preview"),
    ("CS121", W, "Azure settings on a base URL that is not an Azure host"),
    ("CS122", W, "Azure host without azureApiVersion"),
    ("CS123", W, "Azure base URL ending in /openai without /deployments/<name>"),
    (
        "CS130",
        E,
        "header name that is not an HTTP token, __proto__ or repeated in another case, or header value with CR, LF or NUL",
    ),
    ("CS131", E, "credential written as a literal instead of ${env:...}"),
    ("CS132", E, "value that looks like a redaction placeholder"),
    ("CS140", E, "duplicate identity in a list"),
    ("CS141", W, "empty provider block"),
    ("CS142", E, "provider without the field its console panel requires"),
    ("CS150", W, "deprecated field"),
    ("CS151", W, "setting that Cline's command-line client drops (its schema is older, as of Cline 2026-08)"),
    ("CS160", E, "skill whose front matter name differs from its entry name"),
    ("CS180", W, "MCP server headers: Cline's extension does not deliver them (as of Cline 2026-08)"),
    ("CS181", W, "MCP server alwaysEnabled: only locks the extension's panel switch (as of Cline 2026-08)"),
    ("CS182", W, "skill that Cline's extension does not load, or does not list in its skills panel"),
    ("CS183", W, "a setting no Cline client acts on: kanbanEnabled, azureIdentity (as of Cline 2026-08)"),
    ("CS184", W, "${env:...} in an MCP server's settings, which Cline expands on each member's machine"),
    ("CS185", W, "prompt uploading that does not do what it says: keys still sent, or no bucket taken"),
    ("CS186", W, "several providers: new members land on the last in Cline's order"),
    ("CS187", W, "MCP server URL expanded on members' machines while personal remote servers are blocked"),
    ("CS188", W, "reference in an MCP server URL's host, expanded on members' machines"),
    ("CS189", W, "OpenTelemetry switched on with no exporter: nothing is exported"),
    ("CS170", E, "malformed ${...} reference, or unset variable"),
)


class Problem(NamedTuple):
    """One finding, located in a file. Line and column count from 1."""

    file: str
    line: int
    column: int
    rule: str
    message: str
    level: Level
    suppressed: str | None = None  # the reason a `# clinesync: ignore[...]` comment gives

    @classmethod
    def of(
        cls, rule: str, file: str, line: int, column: int, message: str, level: Level | None = None
    ) -> Problem:
        """A problem of a CS rule at its catalogue level, or of a policy rule at the level it declares."""
        return cls(file, line, column, rule, message, level or RULES[rule].level)

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule)

    def __str__(self) -> str:
        return visible(f"{self.file}:{self.line}:{self.column}: {self.level}: {self.message} [{self.rule}]")
