"""What `clinesync init` writes into a repository, and the secret list the workflow's `&console` block needs:
the project configuration, the GitHub workflow (the template `examples/ci/github/clinesync.yml` is a copy of),
the pre-commit configuration and the ignore lines for saved plans and the local console."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

from clinesync import __version__

PLACEHOLDER = "OWNER/clinesync@COMMIT_SHA"
PIN = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}")
_FILE_SECRETS = re.compile(r"^( +)AZURE_OPENAI_KEY: \$\{\{ secrets\.AZURE_OPENAI_KEY \}\}\n", re.MULTILINE)
_ENV_REFERENCE = re.compile(r"(?<!\$)\$\{env:([A-Za-z_][A-Za-z0-9_]*)")  # `$${` is a literal


def this_minor() -> str:
    """The `requires:` a new repository pins: this clinesync's minor series, `>=0.3,<0.4`."""
    major, minor = (int(part) for part in __version__.split(".")[:2])
    return f">={major}.{minor},<{major}.{minor + 1}"


PROJECT = f"""\
# clinesync's project configuration: docs/configuration.md.
requires: '{this_minor()}'  # the clinesync versions this repository expects; others refuse to run here
paths: [orgs/]
# apply refuses a plan beyond these without --allow-mass-change (the workflow: the clinesync-mass-change label)
massChange: {{share: 0.25, shareFrom: 10, disable: 1, removeProvider: 5}}
"""

PROJECT_FILE = "clinesync.yaml"  # the team's own once written: init never writes it again
IGNORED = ("*.plan", ".clinesync/")  # saved plans (reviewed in CI, never committed) and the local console


def secret_lines(names: Iterable[str]) -> list[str]:
    """The `&console` block's lines for the variables organization files read: `NAME: ${{ secrets.NAME }}`."""
    return [f"{name}: ${{{{ secrets.{name} }}}}" for name in sorted(set(names))]


LISTED = ("CLINESYNC_CONSOLE", "CLINE_API_KEY", "PROBE_API_KEY")  # in the workflow's list already


def referenced_secrets(texts: Iterable[str]) -> list[str]:
    """The `${env:NAME}` names organization files and bases read, in order, once each, but those the
    workflow's list holds already (a key twice would make GitHub refuse the whole workflow)."""
    names = dict.fromkeys(name for text in texts for name in _ENV_REFERENCE.findall(text))
    return [name for name in names if name not in LISTED]


def unusable_secret(name: str) -> bool:
    """GitHub refuses secrets whose names start with GITHUB_: such a variable cannot come from one."""
    return name.upper().startswith("GITHUB_")


def workflow(secrets: Iterable[str], pin: str | None) -> str:
    """The GitHub workflow: the files' secrets in its `&console` list, clinesync pinned where a pin is given."""
    template = resources.files("clinesync.templates").joinpath("clinesync.yml").read_text(encoding="utf-8")
    match = _FILE_SECRETS.search(template)
    assert match, "the workflow template names its file secrets on one line"
    indent = match.group(1)
    usable = [name for name in secrets if name not in LISTED and not unusable_secret(name)]
    lines = "".join(f"{indent}{line}\n" for line in secret_lines(usable))
    text = template[: match.start()] + lines + template[match.end() :]
    return text.replace(PLACEHOLDER, pin) if pin else text


def precommit(pin: str | None) -> str:
    repository, _, commit = (pin or PLACEHOLDER).partition("@")
    return (
        "# clinesync's hooks, pinned by commit: docs/pull-request-review.md\n"
        "repos:\n"
        f"  - repo: https://github.com/{repository}\n"
        f"    rev: {commit}\n"
        "    hooks:\n"
        "      - id: clinesync-fmt\n"
        "        files: ^(orgs/|clinesync\\.yaml$)\n"
        "      - id: clinesync-validate\n"
        "        files: ^(orgs/|clinesync\\.yaml$)\n"
    )


def files(secrets: Iterable[str], pin: str | None) -> dict[str, str]:
    """The files `init` writes, by path relative to the repository."""
    return {
        PROJECT_FILE: PROJECT,
        ".github/workflows/clinesync.yml": workflow(secrets, pin),
        ".pre-commit-config.yaml": precommit(pin),
    }


def ignore_lines(existing: str) -> str:
    """The lines `.gitignore` lacks of those clinesync needs ignored."""
    have = set(existing.splitlines())
    return "".join(f"{line}\n" for line in IGNORED if line not in have)
