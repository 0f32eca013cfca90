"""`clinesync fmt` (issue 28): one style for organization files, bases and clinesync.yaml, comments kept, the
meaning never changed, idempotent; `export` writes the same style."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings

from clinesync.files.loader import load_bytes
from clinesync.files.style import StyleError, restyled

from strategies import mutated_files, yaml_texts
from support import EXAMPLES, REPO, run, write

ORG = "org-01JZPE4CHW5XTP73W95760001Y"
EVERY_FILE = sorted(
    [
        *(EXAMPLES.rglob("*.yaml")),
        *(REPO / "tests" / "files" / "valid").glob("*.yaml"),
        *(REPO / "tests" / "files" / "invalid").glob("*.yaml"),
    ]
)


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda path: path.name)
def test_every_example_and_fixture_keeps_its_meaning_and_is_formatted_once(path: Path) -> None:
    text = path.read_text()
    try:
        once = restyled(text, path.name, project=path.name == "clinesync.yaml")
    except StyleError as error:
        assert "not YAML clinesync reads" in str(error) or "not a mapping" in str(error), error
        return
    assert load_bytes(once.encode(), "after").data == load_bytes(text.encode(), "before").data
    assert restyled(once, path.name, project=path.name == "clinesync.yaml") == once
    kept = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert all(comment in once for comment in kept)  # every comment line is kept


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_texts() | mutated_files())
@example("\n\norganization: ")  # ruamel.yaml kept one leading blank line fewer each pass
@example("\ufeff\n\n\norganization: ")  # and after a byte-order mark
def test_fmt_never_changes_what_a_file_means(text: str) -> None:
    try:
        once = restyled(text, "generated.yaml")
    except StyleError:
        return  # not YAML clinesync reads, or not a mapping: left alone, never rewritten
    assert load_bytes(once.encode(), "after").data == load_bytes(text.encode(), "before").data
    assert restyled(once, "generated.yaml") == once


def test_the_style_keys_in_schema_order_lists_indented_quotes_only_where_needed() -> None:
    text = (
        "# the team's gateway\n"
        "remoteConfig:\n"
        "  providerSettings:\n"
        "    OpenAiCompatible:\n"
        "      models:\n"
        "      - contextWindow: 128000\n"
        "        id: '128000'   # a number-like id stays quoted\n"
        "      azureApiVersion: '2024-06-01'\n"
        '      openAiBaseUrl: "https://gw.example.com/v1"\n'
        "name: Acme\n"
        f"organization: {ORG}\n"
    )
    assert restyled(text, "org.yaml") == (
        "# the team's gateway\n"
        f"organization: {ORG}\n"
        "name: Acme\n"
        "remoteConfig:\n"
        "  providerSettings:\n"
        "    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://gw.example.com/v1\n"
        "      azureApiVersion: 2024-06-01\n"
        "      models:\n"
        "        - id: '128000' # a number-like id stays quoted\n"
        "          contextWindow: 128000\n"
    )


def test_check_diff_and_write(in_tmp: Path) -> None:
    loose = write(in_tmp / "orgs" / "a.yaml", f"name: A\norganization: {ORG}\n")
    tidy = write(in_tmp / "orgs" / "b.yaml", f"organization: {ORG.replace('1Y', '2Y')}\nname: B\n")
    os.chmod(loose, 0o640)
    checked = run("fmt", "--check", "orgs")
    assert checked.exit_code == 1 and checked.stdout == "would reformat orgs/a.yaml\n"
    assert "1 file to reformat, 1 already in style." in checked.stderr
    diffed = run("fmt", "--diff", "orgs")
    assert diffed.exit_code == 1 and f"+organization: {ORG}\n name: A\n-organization" in diffed.stdout
    assert loose.read_text() == f"name: A\norganization: {ORG}\n"  # --check and --diff write nothing
    written = run("fmt", "orgs")
    assert written.exit_code == 0 and "reformatted orgs/a.yaml" in written.stderr
    assert loose.read_text() == f"organization: {ORG}\nname: A\n" and tidy.read_text().endswith("name: B\n")
    assert oct(loose.stat().st_mode & 0o777) == "0o640" and not list(in_tmp.rglob(".clinesync-*"))
    assert run("fmt", "--check", "orgs").exit_code == 0


def test_a_file_fmt_cannot_read_is_reported_and_left_alone(in_tmp: Path) -> None:
    broken = write(in_tmp / "bad.yaml", "organization: [unclosed\n")
    result = run("fmt", "bad.yaml")
    assert result.exit_code == 1 and "Error: bad.yaml: not formatted:" in result.stderr
    assert broken.read_text() == "organization: [unclosed\n"


def test_the_project_configuration_is_formatted_with_its_own_schema(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nrequires: '>=0.1'\n")
    write(in_tmp / "orgs" / "a.yaml", f"organization: {ORG}\n")
    assert run("fmt").exit_code == 0
    assert (in_tmp / "clinesync.yaml").read_text() == "requires: '>=0.1'\npaths: [orgs/]\n"


def test_the_bases_organizations_extend_are_formatted_where_ignore_keeps_them_out_of_the_walk(
    in_tmp: Path,
) -> None:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nignore: [orgs/bases/]\n")  # as docs/fleets.md has it
    write(in_tmp / "orgs" / "a.yaml", f"organization: {ORG}\nextends: [bases/team.yaml]\n")
    base = write(in_tmp / "orgs" / "bases" / "team.yaml", "extends:   [ common.yaml ]\n")
    common = write(in_tmp / "orgs" / "bases" / "common.yaml", "remoteConfig:\n    telemetryEnabled: true\n")
    checked = run("fmt", "--check")
    assert checked.exit_code == 1, checked.output
    assert "would reformat orgs/bases/team.yaml" in checked.stdout  # its base, and that base's too
    assert "would reformat orgs/bases/common.yaml" in checked.stdout
    assert run("fmt").exit_code == 0 and base.read_text() == "extends: [common.yaml]\n"
    assert common.read_text() == "remoteConfig:\n  telemetryEnabled: true\n"
    assert run("fmt", "--check").exit_code == 0
    (in_tmp / "repo" / ".git").mkdir(
        parents=True
    )  # a repository whose organization extends a base outside it
    outside = write(in_tmp / "shared.yaml", "remoteConfig:\n    telemetryEnabled: true\n")
    write(in_tmp / "repo" / "clinesync.yaml", "paths: [orgs/]\n")
    write(in_tmp / "repo" / "orgs" / "b.yaml", f"organization: {ORG}\nextends: [../../shared.yaml]\n")
    os.chdir(in_tmp / "repo")
    assert run("fmt", "--check").exit_code == 0  # the shared base is not the repository's to restyle
    assert run("fmt").exit_code == 0 and outside.read_text() == "remoteConfig:\n    telemetryEnabled: true\n"


def test_export_writes_what_fmt_would(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", (EXAMPLES / "org.yaml").read_text())
    env = {"AZURE_OPENAI_KEY": "key-for-fmt-test"}
    assert run("apply", "org.yaml", "--auto-approve", env=env).exit_code == 0
    exported = run("export", "org-01JZPE4CHW5XTP73W95762121Y", "-o", "exported.yaml")
    assert exported.exit_code == 0, exported.output
    assert run("fmt", "--check", "exported.yaml").exit_code == 0
    assert "key-for-fmt-test" not in (in_tmp / "exported.yaml").read_text()


def test_pre_commit_offers_the_fmt_hook() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["clinesync-fmt"]["entry"] == "clinesync fmt --only-organizations"


def test_a_file_that_cannot_be_written_is_an_error_not_reformatted(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from clinesync import privatefile

    def read_only_file_system(target: str, text: str) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), target)

    monkeypatch.setattr(privatefile, "keep_mode", read_only_file_system)
    locked = write(in_tmp / "orgs" / "a.yaml", f"name: A\norganization: {ORG}\n")
    result = run("fmt", "orgs")
    assert result.exit_code == 1
    assert "Error: orgs/a.yaml: not formatted: Read-only file system" in result.stderr
    assert "reformatted orgs/a.yaml" not in result.stderr and "0 files reformatted" in result.stderr
    assert locked.read_text() == f"name: A\norganization: {ORG}\n"
