"""The admin's story: write org files, run `clinesync validate`, get every mistake located, in any format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import EXAMPLES, FILES, run, write

BAD = FILES / "invalid"


def test_examples_validate_clean() -> None:
    result = run("validate", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "3 files checked: 0 errors, 0 warnings." in result.stderr


def test_all_problems_of_all_files_in_one_run(in_tmp: Path) -> None:
    write(in_tmp / "a.yaml", (BAD / "CS101-typo.yaml").read_text())
    write(in_tmp / "b.yaml", (BAD / "CS150-deprecated.yaml").read_text().replace("121Y", "121Z"))
    result = run("validate", "a.yaml", "b.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "a.yaml:5:5: error: provider OpenAiCompatible needs openAiBaseUrl: the console's panel requires it [CS142]",
        "a.yaml:6:7: error: unknown key 'openAIBaseUrl' in remoteConfig.providerSettings.OpenAiCompatible: "
        "Cline would drop it silently; did you mean openAiBaseUrl? [CS101]",
        "b.yaml:4:3: warning: yoloModeAllowed is deprecated: Cline no longer honours it; remove it [CS150]",
    ]
    assert result.stderr == "2 files checked: 2 errors, 1 warnings.\n"


def test_warnings_pass_unless_strict() -> None:
    target = str(BAD / "CS150-deprecated.yaml")
    assert run("validate", target).exit_code == 0
    assert run("validate", "--strict", target).exit_code == 1


def test_directories_are_searched_recursively_in_path_order_skipping_hidden(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "b" / "two.yml", "organization: org-B\nenabled: maybe\n")
    write(in_tmp / "orgs" / "a.yaml", "organization: org-A\nenabled: maybe\n")
    write(in_tmp / "orgs" / ".github" / "workflows" / "ci.yaml", "on: push\n")
    write(in_tmp / "orgs" / "notes.txt", "not yaml\n")
    result = run("validate", "orgs", "--format", "json")
    report = json.loads(result.stdout)
    assert report["files"] == ["orgs/a.yaml", "orgs/b/two.yml"]
    assert [problem["file"] for problem in report["problems"]] == ["orgs/a.yaml", "orgs/b/two.yml"]


def test_json_format_is_data() -> None:
    result = run("validate", "--format", "json", str(BAD / "CS120-api-version.yaml"))
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["format_version"] == "1"
    assert report["summary"] == {"files": 1, "errors": 1, "warnings": 0, "exit_code": 1, "suppressed": 0}
    assert report["suppressed"] == []
    [problem] = report["problems"]
    assert (problem["line"], problem["column"], problem["level"], problem["rule"]) == (
        7,
        24,
        "error",
        "CS120",
    )


def test_github_annotations() -> None:
    result = run("validate", "--format", "github", str(BAD / "CS110-http-endpoint.yaml"))
    assert result.exit_code == 0
    path = str(BAD / "CS110-http-endpoint.yaml").replace(":", "%3A").replace(",", "%2C")
    assert result.stdout.startswith(f"::warning file={path},line=6,col=22,title=CS110::")


def test_validate_needs_no_secrets(in_tmp: Path) -> None:
    result = run("validate", str(EXAMPLES / "org.yaml"), env={"AZURE_OPENAI_KEY": ""})
    assert result.exit_code == 0


def test_global_options_before_and_after_the_command() -> None:
    target = str(BAD / "CS150-deprecated.yaml")
    assert run("-q", "validate", target).stderr == ""
    assert run("validate", target, "--quiet").stderr == ""
    assert run("validate", target).stderr != ""


def test_missing_path_is_a_clear_error() -> None:
    result = run("validate", "no/such/org.yaml")
    assert (result.exit_code, result.stderr) == (1, "Error: no/such/org.yaml: no such file or directory\n")


def test_directory_without_files(in_tmp: Path) -> None:
    (in_tmp / "empty").mkdir()
    result = run("validate", "empty")
    assert result.exit_code == 1 and "no *.yaml or *.yml files" in result.stderr


def test_usage_errors_exit_1_not_2() -> None:
    assert run("validate").exit_code == 1
    assert run("validate", "--format", "xml", str(EXAMPLES)).exit_code == 1
    assert run("no-such-command").exit_code == 1


def test_schema_command_prints_the_packaged_schema() -> None:
    result = run("schema")
    assert json.loads(result.stdout)["title"] == "clinesync organization file"
    assert result.stderr.startswith("# ") and result.stderr.strip().endswith(
        "org.schema.json (Cline 2026-08)"
    )


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("clinesync, version ")
    assert "describes Cline 2026-08 (github.com/cline/cline at 21cb8d2" in result.stdout


_WITHOUT_CLICK = (
    "import sys\n"
    "from clinesync.cli import main\n"
    "sys.argv = ['clinesync', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('click loaded' if 'click' in sys.modules else 'click not loaded', file=sys.stderr)\n"
)
_BY_CLICK = (
    "import sys\nfrom clinesync.cli.app import main\nsys.argv = ['clinesync', *sys.argv[1:]]\nmain()\n"
)


@pytest.mark.parametrize(
    ("arguments", "columns", "loaded"),
    [
        (["--help"], "120", False),
        (["-h"], "80", False),
        (["--version"], "120", False),
        (["--help"], "60", True),  # a narrow terminal: click wraps to it
    ],
)
def test_help_and_version_are_clicks_own_text_without_loading_click(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], columns: str, loaded: bool
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    quick, by_click = (
        subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, check=True)
        for script in (_WITHOUT_CLICK, _BY_CLICK)
    )
    assert quick.stdout == by_click.stdout and by_click.stdout.startswith(
        ("Usage: clinesync ", "clinesync, ")
    )
    assert quick.stderr == ("click loaded\n" if loaded else "click not loaded\n")


def test_a_clinesyncignore_skips_what_it_names(in_tmp: Path) -> None:
    write(in_tmp / "repo" / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95762121A\n")
    write(in_tmp / "repo" / "ci" / "deploy.yml", "jobs: {}\n")
    write(in_tmp / "repo" / "mkdocs.yml", "site_name: x\n")
    write(in_tmp / "repo" / "orgs" / "draft-b.yaml", "not: an org\n")
    write(in_tmp / "repo" / ".clinesyncignore", "# not organizations\nci/\nmkdocs.yml\norgs/draft-*\n")
    report = json.loads(run("validate", "repo", "--format", "json").stdout)
    assert report["files"] == ["repo/orgs/a.yaml"]
    named = run("validate", "repo/mkdocs.yml")  # a file named on the command line is always checked
    assert named.exit_code == 1


def test_the_command_table_matches_every_commands_own_help() -> None:
    import click

    from clinesync.cli import cli
    from clinesync.cli.app import COMMANDS

    context = click.Context(cli)
    for name, (module, short_help) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.callback is not None
        assert command.callback.__module__ == f"clinesync.cli.{module}"
        assert command.get_short_help_str(limit=1000) == short_help
    assert set(cli.commands) == set(COMMANDS)


def test_only_organizations_skips_other_tools_yaml_but_not_broken_organization_files(in_tmp: Path) -> None:
    write(in_tmp / "mkdocs.yml", "site_name: Docs\n")
    write(in_tmp / "docker-compose.yml", "services:\n  web:\n    image: nginx\n")
    write(in_tmp / "org.yaml", "organisation: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig: {}\n")  # a typo
    write(in_tmp / "broken.yaml", "organization: [unclosed\n")
    result = run(
        "validate", "--only-organizations", "mkdocs.yml", "docker-compose.yml", "org.yaml", "broken.yaml"
    )
    assert result.exit_code == 1
    assert "mkdocs.yml" not in result.stdout and "docker-compose.yml" not in result.stdout
    assert "org.yaml:1:1: error: unknown key 'organisation'" in result.stdout
    assert "broken.yaml" in result.stdout
    assert "2 files checked" in result.stderr


def test_only_organizations_checks_a_staged_base_through_the_files_that_extend_it(in_tmp: Path) -> None:
    write(in_tmp / "bases" / "shared.yaml", "remoteConfig:\n  telemetryEnabled: true\n")
    write(in_tmp / "org.yaml", "organization: org-01JZPE4CHW5XTP73W95762121Y\nextends: [bases/shared.yaml]\n")
    alone = run("validate", "--only-organizations", "--strict", "bases/shared.yaml")
    assert alone.exit_code == 0 and "1 file checked" in alone.stderr  # org.yaml, found here, extends it
    both = run("validate", "--only-organizations", "--strict", "bases/shared.yaml", "org.yaml")
    assert both.exit_code == 0 and "1 file checked" in both.stderr
    write(in_tmp / "bases" / "shared.yaml", "remoteConfig:\n  telemetryEnabled: maybe\n")
    broken = run("validate", "--only-organizations", "--strict", "bases/shared.yaml", "org.yaml")
    assert broken.exit_code == 1 and "bases/shared.yaml:2:21: error" in broken.stdout
    broken_alone = run(
        "validate", "--only-organizations", "--strict", "bases/shared.yaml"
    )  # a base-only commit
    assert broken_alone.exit_code == 1 and "bases/shared.yaml:2:21: error" in broken_alone.stdout


def test_links_hidden_files_and_folders_named_like_files_are_told_apart(in_tmp: Path) -> None:
    from clinesync.files.paths import expand

    write(in_tmp / "orgs" / "a.yaml", "organization: org-A\n")
    write(in_tmp / "elsewhere" / "far.yaml", "organization: org-F\n")
    write(in_tmp / "orgs" / ".draft.yaml", "organization: org-D\n")
    (in_tmp / "orgs" / "folder.yaml").mkdir()
    write(in_tmp / "orgs" / "folder.yaml" / "inside.yml", "organization: org-I\n")
    (in_tmp / "orgs" / "linked-folder").symlink_to(in_tmp / "elsewhere")  # not followed
    (in_tmp / "orgs" / "linked.yaml").symlink_to(in_tmp / "elsewhere" / "far.yaml")  # a file: taken
    (in_tmp / "orgs" / "dangling.yaml").symlink_to(
        in_tmp / "nowhere.yaml"
    )  # taken, to be reported unreadable
    assert expand(["orgs"]) == [
        "orgs/a.yaml",
        "orgs/dangling.yaml",
        "orgs/folder.yaml/inside.yml",
        "orgs/linked.yaml",
    ]
    assert expand(["./orgs/"]) == expand(["orgs"])


def test_a_number_of_any_length_is_a_located_error_and_every_other_file_is_reported(in_tmp: Path) -> None:
    huge = "9" * 400
    for name in ("a", "b", "c"):
        number = huge if name == "b" else "128000"
        write(
            in_tmp / "orgs" / f"{name}.yaml",
            f"organization: org-01JZPE4CHW5XTP73W9576212{name.upper()}Y\nremoteConfig:\n  providerSettings:\n"
            f"    OpenAiCompatible:\n      openAiBaseUrl: https://x.example.com/v1\n      models:\n"
            f"        - id: m\n          contextWindow: {number}\n      enabled: maybe\n",
        )
    result = run("validate", "orgs")
    assert result.exit_code == 1
    assert "internal error" not in result.output
    assert "orgs/b.yaml:8:26: error:" in result.stdout and "reads it as Infinity [CS100]" in result.stdout
    assert huge not in result.stdout
    assert [line.split(":", 1)[0] for line in result.stdout.splitlines()].count(
        "orgs/a.yaml"
    ) == 1  # its CS101


def test_a_bug_met_on_one_file_is_that_files_error_not_the_runs(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinesync.files import batch

    real = batch.check_file

    def failing(path: str, project: object = None, bases: object = None) -> object:
        if path.endswith("b.yaml"):
            raise ZeroDivisionError
        return real(path, project, bases)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "check_file", failing)
    for name in ("a", "b", "c"):
        write(
            in_tmp / f"{name}.yaml",
            f"organization: org-01JZPE4CHW5XTP73W9576212{name.upper()}Y\nenabled: maybe\n",
        )
    result = run("validate", "a.yaml", "b.yaml", "c.yaml")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("a.yaml:2:10: error:") and lines[2].startswith("c.yaml:2:10: error:")
    assert lines[1] == (
        "b.yaml:1:1: error: clinesync could not check this file: internal error (ZeroDivisionError); "
        "please report it [CS103]"
    )


def test_a_reader_that_goes_away_ends_the_command_quietly_as_a_shell_expects(tmp_path: Path) -> None:
    """`clinesync rules | head`: the output has nowhere to go; no internal error, exit 141 (128 + SIGPIPE)."""
    import subprocess
    import sys

    # `head -c 0` reads nothing and is gone before clinesync's first write.
    script = f'"{sys.executable}" -m clinesync rules | head -c 0; echo "${{PIPESTATUS[0]}}"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.stdout.strip() == "141" and "internal error" not in done.stderr, done.stderr
