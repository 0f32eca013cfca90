"""`clinesync rules`: every rule, built in and policy, with its level under the configuration in use."""

from __future__ import annotations

from collections.abc import Callable

from clinesync import strictjson
from clinesync.escape import visible
from clinesync.files.guardrails import Guardrails
from clinesync.files.problems import RULES
from clinesync.records import record


@record(frozen=True)
class RuleEntry:
    id: str
    level: str
    kind: str  # "builtin" or "policy"
    summary: str
    overrides: tuple[tuple[str, str], ...]  # (paths, level) where the level differs by path


def rule_entries(guardrails: Guardrails) -> list[RuleEntry]:
    entries = []
    named = [(rule.id, "builtin", rule.summary) for rule in RULES.values()]
    named += [(rule.id, "policy", rule.summary) for rule in guardrails.policy]
    for rule, kind, summary in named:
        level = guardrails.rules.get(rule, guardrails.default_level(rule))
        overrides = tuple(
            (", ".join(override.paths), str(override.rules[rule]))
            for override in guardrails.overrides
            if rule in override.rules
        )
        entries.append(RuleEntry(rule, str(level), kind, summary, overrides))
    return entries


def rules_text(entries: list[RuleEntry]) -> str:
    width = max(len(entry.id) for entry in entries)
    lines = []
    for entry in entries:
        lines.append(visible(f"{entry.id:<{width}}  {entry.level:<7}  {entry.summary}"))
        lines += [visible(f"{'':<{width}}  {level:<7}  in {paths}") for paths, level in entry.overrides]
    return "\n".join(lines) + "\n"


def rules_json(entries: list[RuleEntry]) -> str:
    return (
        strictjson.dumps(
            {
                "format_version": "1",
                "rules": [
                    {
                        "id": entry.id,
                        "level": entry.level,
                        "kind": entry.kind,
                        "summary": entry.summary,
                        "overrides": [{"paths": paths, "level": level} for paths, level in entry.overrides],
                    }
                    for entry in entries
                ],
            },
            indent=2,
        )
        + "\n"
    )


RULES_RENDERERS: dict[str, Callable[[list[RuleEntry]], str]] = {"text": rules_text, "json": rules_json}
