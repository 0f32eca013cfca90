"""Rendering problems for people (text), programs (JSON), GitHub Actions (workflow annotations) and a pull
request's comment (markdown, which replaces the plan comment so that no reviewer sees an old green plan)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from clinesync import strictjson
from clinesync.escape import code_span, visible
from clinesync.files.problems import Problem
from clinesync.files.suppressions import Suppression
from clinesync.render.markers import MARKERS

FORMAT_VERSION = "1"


def problems_text(problems: Iterable[Problem]) -> str:
    return "".join(f"{problem}\n" for problem in problems)


def problems_json(
    problems: list[Problem],
    suppressed: list[Problem],
    suppressions: list[tuple[Suppression, str]],
    files: list[str],
    exit_code: int,
) -> str:
    """Problems as data; the suppressed ones listed apart, each with the reason its comment gives, and every
    suppression comment with its expiry and state, for audits."""
    document = {
        "format_version": FORMAT_VERSION,
        "files": files,
        "problems": [_problem_data(problem) for problem in problems],
        "suppressed": [_problem_data(problem) | {"reason": problem.suppressed} for problem in suppressed],
        "suppressions": [
            {
                "file": found.file,
                "line": found.line,
                "rules": sorted(found.rules),
                "reason": found.reason,
                "until": found.until,
                "state": state,
            }
            for found, state in suppressions
        ],
        "summary": _summary(problems, len(files)) | {"exit_code": exit_code, "suppressed": len(suppressed)},
    }
    return strictjson.dumps(document, indent=2) + "\n"


def _problem_data(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "level": str(problem.level),
        "rule": problem.rule,
        "message": problem.message,
    }


def problems_github(problems: Iterable[Problem]) -> str:
    return "".join(
        f"::{problem.level} file={_escape_property(problem.file)},line={problem.line},col={problem.column},"
        f"title={problem.rule}::{_escape_data(problem.message)}\n"
        for problem in problems
    )


def summary_line(problems: list[Problem], file_count: int) -> str:
    counts = _summary(problems, file_count)
    files = "file" if file_count == 1 else "files"
    return f"{file_count} {files} checked: {counts['errors']} errors, {counts['warnings']} warnings.\n"


def _summary(problems: list[Problem], file_count: int) -> dict[str, int]:
    errors = sum(1 for problem in problems if problem.is_error)
    return {"files": file_count, "errors": errors, "warnings": len(problems) - errors}


def problems_markdown(problems: list[Problem], file_count: int, exit_code: int) -> str:
    """The plan comment's replacement: the headline, then each file's first error (first warning, where
    `--strict` failed on warnings) with its location; the annotations and the run's log have the rest."""
    errors = [problem for problem in problems if problem.is_error] or (problems if exit_code else [])
    counts = summary_line(problems, file_count).rstrip(".\n")
    if not errors:
        return f"{MARKERS['plan']}\n### ✅ clinesync validate passed ({counts})\n"
    per_file: dict[str, list[Problem]] = {}
    for problem in errors:
        per_file.setdefault(problem.file, []).append(problem)
    lines = [
        MARKERS["plan"],
        f"### ❌ clinesync validate failed ({counts})",
        "",
        "Nothing was planned: fix these and push again. The first error of each file:",
        "",
    ]
    for found in per_file.values():
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        place = f"{first.file}:{first.line}:{first.column}"
        lines.append(f"- {code_span(place)} {code_span(first.rule)} {code_span(first.message)}{more}")
    return "\n".join(lines) + "\n"


# GitHub's workflow-command escaping: data escapes %, CR, LF; properties also : and ,
def _escape_data(text: str) -> str:
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# validate's --format: the one table that also builds the option's choices.
ProblemRenderer = Callable[[list[Problem], list[Problem], list[tuple[Suppression, str]], list[str], int], str]
PROBLEM_RENDERERS: dict[str, ProblemRenderer] = {
    "text": lambda problems, suppressed, suppressions, files, code: problems_text(problems),
    "json": problems_json,
    "github": lambda problems, suppressed, suppressions, files, code: problems_github(problems),
    "markdown": lambda problems, suppressed, suppressions, files, code: problems_markdown(
        problems, len(files), code
    ),
    "sarif": lambda problems, suppressed, suppressions, files, code: _sarif(problems, suppressed),
}


def _sarif(problems: list[Problem], suppressed: list[Problem]) -> str:
    from clinesync.render.sarif import problems_sarif  # only this format pays for it

    return problems_sarif(problems, suppressed)
