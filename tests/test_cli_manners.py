"""What teams expect of a command line from Terraform and pre-commit (issue 28): colors as NO_COLOR,
FORCE_COLOR and CLICOLOR_FORCE say, a suggestion for a mistyped command, --chdir, and -q that quiets chatter
but never an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import EXAMPLES, run, write

ENV = {"AZURE_OPENAI_KEY": "key-planted-for-manners", "NO_COLOR": "", "FORCE_COLOR": "", "CLICOLOR_FORCE": ""}


@pytest.fixture
def org_file(in_tmp: Path) -> Path:
    return write(in_tmp / "org.yaml", (EXAMPLES / "org.yaml").read_text())


@pytest.mark.parametrize(
    ("environ", "colored"),
    [
        ({}, False),  # no terminal: no colors
        ({"FORCE_COLOR": "1"}, True),
        ({"CLICOLOR_FORCE": "1"}, True),
        ({"FORCE_COLOR": "0"}, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # off wins over on
    ],
)
def test_colors_follow_the_conventions(org_file: Path, environ: dict[str, str], colored: bool) -> None:
    result = run("plan", "org.yaml", env={**ENV, **environ})
    assert result.exit_code == 0
    assert ("\x1b[" in result.stdout) is colored
    if colored:
        assert "\x1b[" not in run("--no-color", "plan", "org.yaml", env={**ENV, **environ}).stdout


def test_a_mistyped_command_gets_the_closest_one() -> None:
    result = run("plna")
    assert result.exit_code == 1 and "No such command 'plna'. Did you mean 'plan'?" in result.stderr
    assert "Did you mean" not in run("frobnicate").stderr  # nothing close: nothing suggested


def test_chdir_runs_in_the_folder_given(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(in_tmp / "repo" / "clinesync.yaml", "paths: [orgs/]\n")
    write(in_tmp / "repo" / "orgs" / "org.yaml", (EXAMPLES / "org.yaml").read_text())
    before = run("--chdir", "repo", "plan", env=ENV)  # the configuration's paths:, from repo/
    assert before.exit_code == 0 and "(Acme Engineering, orgs/org.yaml) will be created" in before.stdout
    monkeypatch.chdir(in_tmp)  # a run here is in-process: back where a new command would start
    after = run("validate", "orgs/org.yaml", "--chdir", "repo")  # after the command too
    assert after.exit_code == 0 and "1 file checked" in after.stderr
    monkeypatch.chdir(in_tmp)
    missing = run("--chdir", "nowhere", "validate")
    assert missing.exit_code == 1 and "cannot work in nowhere: No such file or directory" in missing.stderr


def test_quiet_apply_keeps_the_result_and_drops_the_chatter(org_file: Path) -> None:
    loud = run("apply", "org.yaml", "--auto-approve", env=ENV)
    assert loud.exit_code == 0
    assert "Applied to a local console: members' Cline reads it only through `clinesync serve`" in loud.stderr
    write(org_file, org_file.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false"))
    quiet = run("-q", "apply", "org.yaml", "--auto-approve", env=ENV)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert "Apply complete: 1 applied" in quiet.stdout
    failing = run("-q", "apply", "org.yaml", "--auto-approve", env={**ENV, "AZURE_OPENAI_KEY": ""})
    assert failing.exit_code == 1 and "error" in failing.stderr.lower()  # never quiet about an error


def test_quiet_init_says_only_what_is_left_to_do(in_tmp: Path) -> None:
    quiet = run("-q", "init")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("Next: add these secrets") and "Wrote" not in quiet.stdout
    assert (in_tmp / "clinesync.yaml").exists()


def test_paths_are_shown_as_the_user_would_write_them(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\npaths: [orgs/]\n")
    write(in_tmp / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\n")
    monkeypatch.chdir(in_tmp / "orgs")
    result = run("validate", "a.yaml")
    assert result.exit_code == 1
    assert (
        "../clinesync.yaml:2:1: error: duplicate key 'paths'" in result.stderr
        and str(in_tmp) not in result.stderr
    )


def test_a_mistyped_option_gets_the_closest_ones(in_tmp: Path) -> None:
    result = run("plan", "--otu", "p.plan")
    assert result.exit_code == 1 and "No such option '--otu'" in result.stderr and "'--out'" in result.stderr
