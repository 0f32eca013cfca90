"""validate's problems as SARIF 2.1.0, for GitHub code scanning (as tflint, checkov and zizmor feed it): every
rule with its help and a link to its section of docs/rules.md, each problem located in the repository, and a
suppressed one marked as suppressed in the source, with the reason its comment gives."""

from __future__ import annotations

import os
from typing import Any

from clinesync import __version__, strictjson
from clinesync.files.problems import RULES, Problem
from clinesync.files.project import repository_root

# The project's documentation home, under the namespace its schemas' `$id`s use. Each CS rule's section of
# docs/rules.md carries an anchor of its lower-case id; a policy rule is the team's, explained where policy is.
DOCS = "https://clinesync.dev/docs"
_POLICY_DOC = f"{DOCS}/rules.md#configuring-rules-suppressions-and-policy"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def problems_sarif(problems: list[Problem], suppressed: list[Problem]) -> str:
    root = repository_root(os.getcwd())
    rules = _rules([*problems, *suppressed])
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    results = [_result(problem, index, root) for problem in problems]
    results += [
        _result(problem, index, root)
        | {"suppressions": [{"kind": "inSource", "justification": problem.suppressed}]}
        for problem in suppressed
    ]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "clinesync",
                        "semanticVersion": __version__,
                        "informationUri": f"{DOCS}/rules.md",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return strictjson.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _rules(problems: list[Problem]) -> list[dict[str, Any]]:
    """Every built-in rule, then the policy rules these problems name."""
    rules = [
        _rule(rule.id, rule.summary, f"{DOCS}/rules.md#{rule.id.lower()}", str(rule.level))
        for rule in RULES.values()
    ]
    policy = sorted({problem.rule for problem in problems if problem.rule not in RULES})
    rules += [_rule(name, f"policy rule {name} of clinesync.yaml", _POLICY_DOC, None) for name in policy]
    return rules


def _rule(name: str, summary: str, link: str, level: str | None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": name,
        "shortDescription": {"text": summary},
        "helpUri": link,
        "help": {"text": f"{name}: {summary}. See {link} for a bad and a fixed example."},
    }
    if level is not None:
        rule["defaultConfiguration"] = {"level": level}
    return rule


def _result(problem: Problem, index: dict[str, int], root: str | None) -> dict[str, Any]:
    return {
        "ruleId": problem.rule,
        "ruleIndex": index[problem.rule],
        "level": str(problem.level),
        "message": {"text": problem.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _in_repository(problem.file, root), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": problem.line, "startColumn": problem.column},
                }
            }
        ],
    }


def _in_repository(file: str, root: str | None) -> str:
    """The file as code scanning finds it: relative to the repository's root, with forward slashes."""
    path = os.path.realpath(file)
    if root is not None and (path == root or path.startswith(root + os.sep)):
        file = os.path.relpath(path, root)
    return file.replace(os.sep, "/")
