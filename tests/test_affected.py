"""`clinesync affected --since REF`: which organizations a pull request's files can change, in a real git
repository laid out as `export --all --extract-base` writes a fleet (orgs/, orgs/bases/)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from support import run, write

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(root: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", *arguments], cwd=root, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def org(number: int) -> str:
    return f"org-01JZPE4CHW5XTP73W9576{number:04d}Y"


@pytest.fixture
def fleet(in_tmp: Path) -> Path:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\n")
    write(
        in_tmp / "orgs" / "bases" / "shared.yaml",
        "extends: [tier.yaml]\nremoteConfig:\n  telemetryEnabled: true\n",
    )
    write(in_tmp / "orgs" / "bases" / "tier.yaml", "remoteConfig:\n  openTelemetryEnabled: true\n")
    for number in range(1, 5):
        extends = "extends: [bases/shared.yaml]\n" if number < 4 else ""
        write(in_tmp / "orgs" / f"team-{number}.yaml", f"organization: {org(number)}\n{extends}")
    write(in_tmp / "README.md", "# fleet\n")
    git(in_tmp, "init", "-q")
    git(in_tmp, "add", ".")
    git(in_tmp, "commit", "-q", "-m", "fleet")
    return in_tmp


def affected(*arguments: str) -> dict[str, object]:
    result = run("affected", "--since", "HEAD", "--format", "json", *arguments)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def files(document: dict[str, object]) -> list[str]:
    return [entry["file"] for entry in document["organizations"]]  # type: ignore[attr-defined, index]


def test_a_base_at_any_depth_affects_every_organization_that_extends_it(fleet: Path) -> None:
    write(fleet / "orgs" / "bases" / "tier.yaml", "remoteConfig:\n  openTelemetryEnabled: false\n")
    document = affected()
    assert files(document) == ["orgs/team-1.yaml", "orgs/team-2.yaml", "orgs/team-3.yaml"]
    assert document["organizations"][0]["reasons"] == ["its base orgs/bases/tier.yaml changed"]  # type: ignore[index]


def test_an_organization_file_affects_itself_and_a_readme_nothing(fleet: Path) -> None:
    write(fleet / "orgs" / "team-4.yaml", f"organization: {org(4)}\nenabled: false\n")
    write(fleet / "README.md", "# fleet, documented\n")
    document = affected()
    assert files(document) == ["orgs/team-4.yaml"]
    assert document["organizations"][0]["organization"] == org(4)  # type: ignore[index]
    write(fleet / "orgs" / "team-4.yaml", f"organization: {org(4)}\n")
    assert affected()["organizations"] == []  # only the README: nothing to plan, nothing to apply


def test_the_project_configuration_affects_every_organization(fleet: Path) -> None:
    write(fleet / "clinesync.yaml", "paths: [orgs/]\nvariables: {gateway: https://llm.corp.example.com}\n")
    assert len(files(affected())) == 4


def test_a_deleted_organization_file_is_no_longer_managed(fleet: Path) -> None:
    (fleet / "orgs" / "team-2.yaml").unlink()
    document = affected()
    assert document["removed"] == [{"file": "orgs/team-2.yaml", "organization": org(2)}]
    assert files(document) == []
    text = run("affected", "--since", "HEAD").stdout
    assert (
        "orgs/team-2.yaml ("
        + org(2)
        + "): deleted or moved out of the organization files: no longer managed, its live state is kept"
        in text
    )
    assert text.endswith("0 organizations affected, 1 no longer managed.\n")


def test_a_renamed_organization_file_is_still_managed_and_says_where_it_came_from(fleet: Path) -> None:
    git(fleet, "mv", "orgs/team-2.yaml", "orgs/team-two.yaml")
    git(fleet, "commit", "-q", "-m", "rename")
    document = run("affected", "--since", "HEAD~1", "--format", "json")
    found = json.loads(document.stdout)
    assert found["removed"] == []  # still managed, under its new name
    assert found["organizations"] == [
        {
            "file": "orgs/team-two.yaml",
            "organization": org(2),
            "reasons": ["moved from orgs/team-2.yaml"],  # as it was: moved, not changed
        }
    ]
    text = run("affected", "--since", "HEAD~1").stdout
    assert text.endswith("1 organization affected, 0 no longer managed.\n")
    # Moved and edited: both.
    moved = fleet / "orgs" / "team-two.yaml"
    moved.write_text(moved.read_text() + "name: Team Two\n")
    git(fleet, "mv", "orgs/team-two.yaml", "orgs/team-2b.yaml")
    [entry] = json.loads(run("affected", "--since", "HEAD", "--format", "json").stdout)["organizations"]
    assert entry["reasons"] == ["moved from orgs/team-two.yaml", "the file changed"]


def test_a_new_organization_file_not_yet_added_counts(fleet: Path) -> None:
    write(fleet / "orgs" / "team-9.yaml", f"organization: {org(9)}\nextends: [bases/shared.yaml]\n")
    assert files(affected()) == ["orgs/team-9.yaml"]


def test_a_revision_git_does_not_know_is_one_clear_line(fleet: Path) -> None:
    result = run("affected", "--since", "no-such-ref")
    assert result.exit_code == 1 and result.stderr.startswith("Error: git diff: ")
    assert "Traceback" not in result.output


def test_without_paths_anywhere_this_folder_is_the_fleet(fleet: Path) -> None:
    """No PATH and no `paths:`: the organization files under this folder, as the pre-commit hook reads them
    (was: none, so a changed organization file was '0 organizations affected')."""
    (fleet / "clinesync.yaml").unlink()
    git(fleet, "commit", "-q", "-am", "no configuration")
    write(fleet / "orgs" / "team-4.yaml", f"organization: {org(4)}\nenabled: false\n")
    assert files(affected()) == ["orgs/team-4.yaml"]


def test_a_base_given_another_deleted_files_text_is_changed_not_moved(fleet: Path) -> None:
    """Only an organization file matched with the deleted file of its own organization is moved as it was."""
    write(fleet / "orgs" / "bases" / "spare.yaml", "remoteConfig:\n  telemetryEnabled: false\n")
    git(fleet, "add", ".")
    git(fleet, "commit", "-q", "-m", "spare")
    (fleet / "orgs" / "bases" / "tier.yaml").write_text("remoteConfig:\n  telemetryEnabled: false\n")
    git(fleet, "rm", "-q", "orgs/bases/spare.yaml")
    assert files(affected()) == ["orgs/team-1.yaml", "orgs/team-2.yaml", "orgs/team-3.yaml"]
