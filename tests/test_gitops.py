"""The admin's GitOps loop on the embedded console, end to end through the CLI: plan, apply, plan again,
saved plans, drift, export, history and rollback."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from clinesync.cli import app
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document

from support import EXAMPLES, run, write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
SECRET = "sk-planted-9f8e7d6c5b4a"
ENV = {"AZURE_OPENAI_KEY": SECRET}


@pytest.fixture
def org_file(in_tmp: Path) -> Path:
    return Path(shutil.copy(EXAMPLES / "org.yaml", in_tmp / "org.yaml"))


def revisions(organization: str = ORG, database: str = ".clinesync/console.db") -> int:
    if not Path(database).exists():
        return 0
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM revisions WHERE organization = ?", (organization,)
        ).fetchone()
    return count


def test_plan_shows_the_creation_and_exits_2_with_detailed_exitcode(org_file: Path) -> None:
    result = run("plan", "org.yaml", "--detailed-exitcode", env=ENV)
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Console: local .clinesync/console.db"
    assert f"{ORG} (Acme Engineering, org.yaml) will be created:" in lines
    # a new model is one block: the item, then its fields
    item = lines.index("  + remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4o]")
    assert "  +     maxTokens: 16384" in lines[item + 1 : item + 5]
    assert "  + remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.api-key: (sensitive)" in lines
    assert "  ! enabling remote configuration locks every member to these providers" in lines
    assert lines[-1] == "Plan: 1 organization to create, 0 to update, 0 unchanged, 15 changes."
    assert run("plan", "org.yaml", env=ENV).exit_code == 0


def test_plan_never_writes(org_file: Path) -> None:
    run("plan", "org.yaml", env=ENV)
    assert not Path(".clinesync").exists()  # not even the folder of the default console


def test_apply_then_plan_shows_no_changes_and_a_second_apply_writes_nothing(org_file: Path) -> None:
    applied = run("apply", "org.yaml", "--auto-approve", env=ENV)
    assert applied.exit_code == 0, applied.output
    assert f"{ORG} (Acme Engineering, org.yaml): applied (revision 1)" in applied.stdout
    assert "\nApply complete: 1 applied, 0 unchanged, 0 failed, 0 not attempted.\n" in applied.stdout
    assert applied.stderr.endswith(
        "members pick it up at their Cline's next refresh, within the hour "
        + (
            "(the extension refreshes hourly and before each session, the command-line client at each session; "
            "Cline 2026-08).\n"
        )
    )
    again = run("plan", "org.yaml", "--detailed-exitcode", env=ENV)
    assert (again.exit_code, again.stdout.splitlines()[-1]) == (
        0,
        "No changes. Live state matches the files.",
    )
    second = run("apply", "org.yaml", "--auto-approve", env=ENV)
    assert second.exit_code == 0 and "No changes." in second.stdout
    assert revisions() == 1


def test_reordering_models_is_not_a_change(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    first = "        - id: gpt-4o\n          contextWindow: 128000\n          maxTokens: 16384\n          supportsImages: true\n"
    second = first.replace("gpt-4o", "gpt-4o-mini")
    text = org_file.read_text()
    assert first + second in text
    org_file.write_text(text.replace(first + second, second + first))
    result = run("plan", "org.yaml", "--detailed-exitcode", env=ENV)
    assert result.exit_code == 0, result.output


def test_a_changed_value_is_an_update_with_its_path(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    text = org_file.read_text()
    org_file.write_text(text.replace("maxTokens: 16384", "maxTokens: 8192", 1))
    result = run("plan", "org.yaml", env=ENV)
    assert (
        "  ~ remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4o].maxTokens: 16384 -> 8192"
        in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "Plan: 1 organization to update, 0 unchanged, 1 change."


def test_a_changed_secret_shows_only_that_it_changed(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    result = run("plan", "org.yaml", env={"AZURE_OPENAI_KEY": "sk-rotated-1234567"})
    assert (
        "  ~ remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.api-key: (sensitive value changed)"
        in result.stdout
    )
    assert "sk-rotated-1234567" not in result.output and SECRET not in result.output


def test_an_unset_variable_is_a_located_error(org_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_KEY", raising=False)
    result = run("plan", "org.yaml")
    assert result.exit_code == 1
    assert (
        "org.yaml:16:18: error: environment variable AZURE_OPENAI_KEY is not set (or is empty) [CS170]"
        in result.stderr
    )
    assert (
        f"{ORG} (Acme Engineering, org.yaml) failed: environment variable AZURE_OPENAI_KEY is not set (or is empty) "
        "(org.yaml:16:18)"
    ) in result.stdout
    assert (
        result.stdout.splitlines()[-1] == "Plan: 0 organizations to update, 0 unchanged, 1 failed, 0 changes."
    )


def test_apply_refuses_without_a_terminal_and_writes_nothing(org_file: Path) -> None:
    result = run("apply", "org.yaml", env=ENV)
    assert result.exit_code == 1
    assert "refusing to apply without confirmation: no terminal on stdin" in result.stderr
    assert not Path(".clinesync/console.db").exists()  # made by the first write only (README)


def test_a_commands_local_console_is_made_by_its_first_write_and_seen_once_another_makes_it(
    in_tmp: Path,
) -> None:
    from clinesync.consoles import open_console
    from clinesync.consoles.base import ConsoleError

    serving = open_console("shared.db")  # as `apply` holds it while it plans, before any write
    assert not Path("shared.db").exists() and serving.read(ORG).document is None
    applying = open_console("shared.db")
    applying.write(ORG, Document(True, {"version": "v1"}), None)  # another process's first write
    applying.close()
    assert serving.read(ORG).revision == "1" and [each.id for each in serving.organizations()] == [ORG]
    serving.close()
    Path("a-file").write_text("")
    with pytest.raises(ConsoleError, match="a-file is not a folder"):
        open_console("a-file/console.db")  # where no write could make it, refused at once


@pytest.mark.parametrize("where", ["before the command", "after it"])
def test_the_console_named_on_the_command_line_wins_over_the_environment_wherever_it_is_given(
    org_file: Path, where: str
) -> None:
    # An admin who keeps production in CLINESYNC_CONSOLE and names staging for one run must reach staging.
    environment = {**ENV, "CLINESYNC_CONSOLE": "sqlite:prod.db"}

    def named(console: str, *command: str) -> tuple[str, ...]:
        return (
            ("--console", console, *command)
            if where == "before the command"
            else (*command, "--console", console)
        )

    result = run(*named("sqlite:staging.db", "apply", "org.yaml", "--auto-approve"), env=environment)
    assert result.exit_code == 0 and result.stdout.startswith("Console: local staging.db"), result.output
    assert Path("staging.db").exists() and not Path("prod.db").exists()
    # A mistyped console is refused, not replaced by the environment's.
    result = run(*named("htps://console.example", "apply", "org.yaml", "--auto-approve"), env=environment)
    assert result.exit_code == 1 and "did you mean https://console.example?" in result.stderr, result.output
    assert not Path("prod.db").exists()
    # Without one on the command line, the environment's is the console.
    assert "no local console at prod.db" in run("plan", "org.yaml", env=environment).stderr
    # clinesync.yaml's console is named only where it is the one used.
    write(org_file.parent / "clinesync.yaml", "console: sqlite:yaml.db\n")
    said = run("plan", "org.yaml", env=environment).stderr
    assert "Using the project configuration clinesync.yaml\n" in said and "yaml.db" not in said
    assert "(console: sqlite:yaml.db)" in run("plan", "org.yaml", env=ENV).stderr


@pytest.mark.parametrize(("answer", "code", "written"), [("yes\n", 0, 1), ("y\n", 1, 0), ("no\n", 1, 0)])
def test_apply_asks_and_only_yes_is_accepted(
    org_file: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, written: int
) -> None:
    monkeypatch.setattr(app, "stdin_is_terminal", lambda: True)
    result = run("apply", "org.yaml", env=ENV, input=answer)
    assert "Apply these changes? Only 'yes' is accepted:" in result.stdout
    assert result.exit_code == code
    assert revisions() == written


def test_a_saved_plan_applies_without_asking(org_file: Path) -> None:
    assert run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV).exit_code == 0
    result = run("apply", "reviewed.plan", env=ENV)
    assert result.exit_code == 0, result.output
    assert revisions() == 1


# The command as its entry point runs it, saying at the very end whether the objects left were frozen
# (so the interpreter's collections at exit do not walk them).
_SAYING_IF_FROZEN = (
    "import atexit, gc, sys\n"
    "from clinesync.cli import main\n"
    "atexit.register(lambda: print('frozen' if gc.get_freeze_count() else 'walked', file=sys.stderr))\n"
    "sys.argv = ['clinesync', *sys.argv[1:]]\n"
    "main()\n"
)


def test_a_run_leaves_the_exit_collection_out_and_its_output_and_plan_file_whole(
    org_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_KEY", SECRET)

    def command(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _SAYING_IF_FROZEN, *arguments], capture_output=True, text=True
        )

    planned = command("plan", "org.yaml", "--out", "reviewed.plan")
    assert planned.returncode == 0 and planned.stderr.endswith("frozen\n")
    assert planned.stdout.endswith("Plan: 1 organization to create, 0 to update, 0 unchanged, 15 changes.\n")
    applied = command("apply", "reviewed.plan")  # refused unless the saved plan is whole
    assert applied.returncode == 0 and applied.stderr.endswith("frozen\n")
    assert revisions() == 1
    failed = command("plan", "missing.yaml")
    assert failed.returncode == 1 and failed.stderr.endswith("frozen\n")


def test_a_stale_saved_plan_is_refused_and_nothing_is_written(org_file: Path) -> None:
    run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV)
    console = LocalConsole(".clinesync/console.db")
    console.write(ORG, Document(False, {"version": "v1"}), None)  # someone clicks in the console
    console.close()
    result = run("apply", "reviewed.plan", env=ENV)
    assert result.exit_code == 1
    assert f"Error: {ORG}: plan is stale: live changed since the plan; plan again" in result.stderr
    assert revisions() == 1
    # A script reading the JSON report gets one too: nothing applied, and why (docs/json-format.md).
    report = run("apply", "reviewed.plan", "--format", "json", env=ENV)
    assert report.exit_code == 1 and revisions() == 1
    found = json.loads(report.stdout)
    assert [(org["organization"], org["outcome"]) for org in found["organizations"]] == [
        (ORG, "not attempted")
    ]
    assert found["organizations"][0]["error"] == (
        f"the saved plan was refused: {ORG}: plan is stale: live changed since the plan; plan again"
    )
    assert found["summary"] == {"applied": 0, "unchanged": 0, "failed": 0, "not_attempted": 1, "exit_code": 1}


def test_a_changed_variable_after_the_plan_is_refused(org_file: Path) -> None:
    run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV)
    result = run("apply", "reviewed.plan", env={"AZURE_OPENAI_KEY": "sk-another-key-5678"})
    assert result.exit_code == 1
    # Which organization's secret changed is not recorded: a per-organization fingerprint of it would let a
    # guess be checked cheaply (SECURITY.md).
    assert (
        "Error: files, variables or live changed since the plan, in a value that is not shown"
        in result.stderr
    )
    assert revisions() == 0


def test_a_secret_changed_after_the_plan_of_an_update_is_said_to_be_a_variable(org_file: Path) -> None:
    """Its display changes too (a line says the secret changed): the refusal names the likelier cause."""
    assert run("apply", "org.yaml", "--auto-approve", env=ENV).exit_code == 0
    org_file.write_text(org_file.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false"))
    assert run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV).exit_code == 0
    result = run("apply", "reviewed.plan", env={"AZURE_OPENAI_KEY": "sk-another-key-5678"})
    assert result.exit_code == 1
    assert (
        f"Error: {ORG}: files, variables or live changed since the plan, in a value the plan shows for it or one "
        "it does not (a secret from the environment, or a live value)" in result.stderr
    )
    assert "display differs" not in result.stderr
    assert revisions() == 1


def test_a_header_the_plan_showed_edited_after_it_is_refused_naming_its_organization(org_file: Path) -> None:
    """A header the file writes shows beside the masked live value; its value is bound with the secrets,
    and the refusal names the organization whose display it changed."""
    assert run("apply", "org.yaml", "--auto-approve", env=ENV).exit_code == 0
    org_file.write_text(org_file.read_text().replace("X-Tenant-Id: acme", "X-Tenant-Id: acme-x"))
    planned = run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV)
    assert '"acme-x"' in planned.stdout
    org_file.write_text(org_file.read_text().replace("X-Tenant-Id: acme-x", "X-Tenant-Id: acme-y"))
    result = run("apply", "reviewed.plan", env=ENV)
    assert result.exit_code == 1 and revisions() == 1
    assert f"Error: {ORG}: files, variables or live changed since the plan" in result.stderr


def test_a_changed_file_after_the_plan_is_refused(org_file: Path) -> None:
    run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV)
    org_file.write_text(org_file.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false"))
    result = run("apply", "reviewed.plan", env=ENV)
    assert result.exit_code == 1 and "files or variables changed since the plan" in result.stderr
    assert revisions() == 0


def test_a_saved_plan_is_refused_against_another_console(org_file: Path) -> None:
    run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV)
    result = run("--console", "other.db", "apply", "reviewed.plan", env=ENV)
    assert result.exit_code == 1 and "the plan was made against local .clinesync/console.db" in result.stderr
    # Known before any request: a console that does not answer is never tried, only named.
    refused = run(
        "apply",
        "reviewed.plan",
        "--console",
        "http://127.0.0.1:9",
        "--format",
        "json",
        env={**ENV, "CLINE_API_KEY": "t", "CLINESYNC_RETRIES": "0"},
    )
    assert refused.exit_code == 1 and "cannot reach" not in refused.stderr, refused.output
    assert "not http://127.0.0.1:9" in refused.stderr
    assert json.loads(refused.stdout)["summary"]["not_attempted"] == 1


def test_a_damaged_plan_file_is_a_clear_error(org_file: Path) -> None:
    write(org_file.parent / "bad.plan", '{"kind": "clinesync-plan", "format_version": "4"}')
    result = run("apply", "bad.plan", env=ENV)
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: bad.plan is not a readable clinesync plan file (KeyError)\n",
    )


def test_drift_exits_0_in_sync_and_2_with_the_difference(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    assert run("drift", "org.yaml", env=ENV).exit_code == 0
    console = LocalConsole(".clinesync/console.db")
    live = console.read(ORG)
    assert live.document is not None
    console.write(ORG, Document(True, {**live.document.config, "telemetryEnabled": False}), live.revision)
    console.close()
    result = run("drift", "org.yaml", env=ENV)
    assert result.exit_code == 2
    assert f"{ORG} (Acme Engineering, org.yaml) has drifted from its file:" in result.stdout
    assert "  ~ remoteConfig.telemetryEnabled: false -> true" in result.stdout
    report = json.loads(run("drift", "org.yaml", "--format", "json", env=ENV).stdout)
    assert report["summary"]["update"] == 1


def test_one_broken_file_does_not_stop_the_others(in_tmp: Path) -> None:
    shutil.copy(EXAMPLES / "vllm-gateway.yaml", in_tmp / "a.yaml")
    write(in_tmp / "b.yaml", "organization: org-01JZPE4CHW5XTP73W95762121B\nenabled: maybe\n")
    result = run("apply", ".", "--auto-approve", env={"GATEWAY_TOKEN": "gw-token-123456"})
    assert result.exit_code == 1
    assert "Apply complete: 1 applied, 0 unchanged, 1 failed, 0 not attempted." in result.stdout
    assert revisions("org-01JZPF0V3K8Q2N4R6T8W0Y2A4C") == 1


def test_plan_json_is_the_documented_object(org_file: Path) -> None:
    report = json.loads(run("plan", "org.yaml", "--format", "json", env=ENV).stdout)
    assert report["format_version"] == "1"
    assert report["console"] == "local .clinesync/console.db"
    [org] = report["organizations"]
    assert (org["organization"], org["file"], org["action"]) == (ORG, "org.yaml", "create")
    key = next(c for c in org["changes"] if c["path"].endswith("api-key"))
    assert key == {
        "op": "add",
        "path": "remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.api-key",
        "before": None,
        "after": "(sensitive)",
        "sensitive": True,
    }
    assert report["summary"] == {
        "organizations": 1,
        "create": 1,
        "update": 0,
        "no_op": 0,
        "failed": 0,
        "changes": 15,
    }


def test_plan_markdown_for_a_pull_request(org_file: Path) -> None:
    text = run("plan", "org.yaml", "--format", "markdown", env=ENV).stdout
    assert text.startswith(
        "<!-- clinesync-plan -->\n### clinesync plan: 1 organization to create, 0 to update"
    )
    assert f"#### `{ORG} (Acme Engineering, org.yaml)`: create, 15 changes\n\n```diff\n! enabling" in text
    assert "+ remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.api-key: (sensitive)" in text
    assert "<details>" not in text  # 17 lines stay open


def test_long_markdown_plans_fold(in_tmp: Path) -> None:
    shutil.copy(EXAMPLES / "platform-multi-provider.yaml", in_tmp / "platform.yaml")
    env = {"DOCS_MCP_TOKEN": "docs-token-1234", "OTEL_API_KEY": "otel-key-5678"}
    text = run("plan", "platform.yaml", "--format", "markdown", env=env).stdout
    assert "<details><summary>Show the changes</summary>\n\n```diff\n" in text


def test_unknown_live_fields_are_kept_with_a_warning_unless_pruned(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    console = LocalConsole(".clinesync/console.db")
    live = console.read(ORG)
    assert live.document is not None
    config = {**live.document.config, "futureSetting": {"on": True}}
    console.write(ORG, Document(True, config), live.revision)
    console.close()
    kept = run("plan", "org.yaml", "--detailed-exitcode", env=ENV)
    assert kept.exit_code == 0
    assert "Warning: " + ORG + ": live field remoteConfig.futureSetting is not known" in kept.stderr
    pruned = run("plan", "org.yaml", "--prune-unknown", env=ENV)
    assert "  - remoteConfig.futureSetting" in pruned.stdout


def test_export_then_plan_shows_no_changes(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    result = run("export", ORG, "-o", "exported.yaml")
    assert result.exit_code == 0
    assert "CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY" in result.stderr
    exported = Path("exported.yaml").read_text()
    assert SECRET not in exported and "${env:CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY}" in exported
    # Every header value is a possible secret (plan never shows one live): a reference, unless the project
    # names the header under publicHeaders.
    assert "X-Tenant-Id: ${env:CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_X_TENANT_ID}" in exported
    assert run("validate", "exported.yaml").exit_code == 0
    variables = {
        "CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY": SECRET,
        "CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_X_TENANT_ID": "acme",
    }
    plan = run("plan", "exported.yaml", "--detailed-exitcode", env=variables)
    assert plan.exit_code == 0, plan.output

    write(Path("clinesync.yaml"), "publicHeaders: [x-tenant-id]\n")
    assert run("export", ORG, "-o", "public.yaml").exit_code == 0
    exported = Path("public.yaml").read_text()
    assert "X-Tenant-Id: acme" in exported and SECRET not in exported  # named public: written as it is
    del variables["CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_X_TENANT_ID"]
    plan = run("plan", "public.yaml", "--detailed-exitcode", env=variables)
    assert plan.exit_code == 0, plan.output


def test_export_refuses_to_overwrite(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    write(Path("kept.yaml"), "precious\n")
    result = run("export", ORG, "-o", "kept.yaml")
    assert result.exit_code == 1 and "kept.yaml exists: pass --force" in result.stderr
    assert Path("kept.yaml").read_text() == "precious\n"


def test_export_of_an_unknown_organization(in_tmp: Path) -> None:
    result = run("export", ORG)
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {ORG} has no configuration in local .clinesync/console.db\n",
    )
    assert run("export", "../etc/passwd").exit_code == 1


def test_history_and_rollback_restore_an_earlier_revision(org_file: Path) -> None:
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    org_file.write_text(org_file.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false"))
    run("apply", "org.yaml", "--auto-approve", env=ENV)
    history = run("history", ORG)
    assert history.stdout.splitlines()[0] == "Console: local .clinesync/console.db"
    assert [line.split()[0] for line in history.stdout.splitlines()[3:]] == ["1", "2"]
    listed = json.loads(run("history", ORG, "--format", "json").stdout)
    assert listed["format_version"] == "1" and [entry["revision"] for entry in listed["revisions"]] == [1, 2]
    result = run("rollback", ORG, "--to", "1", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "  ~ remoteConfig.telemetryEnabled: false -> true" in result.stdout
    assert revisions() == 3
    console = LocalConsole(".clinesync/console.db")
    assert console.read(ORG).document == console.history(ORG)[0].document
    console.close()
    assert run("rollback", ORG, "--to", "9", "--auto-approve").exit_code == 1
    # Again: nothing to write, and nothing said of the files, which now say otherwise (drift tells).
    again = run("rollback", ORG, "--to", "1", "--auto-approve")
    assert again.exit_code == 0 and revisions() == 3
    assert again.stdout.startswith(
        f"Console: local .clinesync/console.db\n\n{ORG} holds revision 1's document already: nothing to roll back"
    )
    assert "matches the files" not in again.output
    assert run("drift", "org.yaml", env=ENV).exit_code == 2


def test_a_flow_style_yaml_file_is_not_taken_for_a_plan(in_tmp: Path) -> None:
    write(
        in_tmp / "flow.yaml",
        "{organization: org-01JZPE4CHW5XTP73W95762121F, remoteConfig: {kanbanEnabled: true}}\n",
    )
    result = run("apply", "flow.yaml", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "applied (revision 1)" in result.stdout


def test_an_internal_error_is_one_scrubbed_line(org_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError(f"boom with {SECRET}")

    monkeypatch.setattr("clinesync.plans.apply.apply_plan", broken)
    result = run("apply", "org.yaml", "--auto-approve", env=ENV)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        1,
        "Error: internal error (RuntimeError); run with --verbose for details and please report it",
    )
    verbose = run("-v", "apply", "org.yaml", "--auto-approve", env=ENV)
    assert "RuntimeError: boom with (sensitive)" in verbose.stderr and SECRET not in verbose.output


def test_a_reviewed_plan_run_again_after_the_admin_saved_it_is_already_applied(org_file: Path) -> None:
    assert run("plan", "org.yaml", "--out", "reviewed.plan", env=ENV).exit_code == 0
    assert run("apply", "org.yaml", "--auto-approve", env=ENV).exit_code == 0  # the admin's Save, as it were
    for manual in ((), ("--manual", "--timeout", "0")):
        again = run("apply", "reviewed.plan", *manual, env=ENV)
        assert again.exit_code == 0, again.output
        assert (
            "Already applied: live matches the files and the reviewed plan (in every value output shows) in every organization it changes."
            in again.stdout
        )
        assert "stale" not in again.output
    report = run("apply", "reviewed.plan", "--format", "json", env=ENV)  # a script's: JSON on stdout
    assert report.exit_code == 0 and "Already applied" in report.stderr
    assert [org["outcome"] for org in json.loads(report.stdout)["organizations"]] == ["unchanged"]
    console = LocalConsole(".clinesync/console.db")
    live = console.read(ORG)
    assert live.document is not None
    console.write(ORG, Document(False, live.document.config), live.revision)  # then someone switched it off
    console.close()
    refused = run("apply", "reviewed.plan", env=ENV)
    assert refused.exit_code == 1 and "plan is stale" in refused.output


def reviewed_and_applied(in_tmp: Path, url: str, rule: str, env: dict[str, str]) -> str:
    """An MCP server at `url` and a rule saying `rule`, planned into a saved plan and that plan applied: the
    plan's output and the plan file, once apply took the plan."""
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  remoteMCPServers:\n    - name: docs\n      url: {url}\n"
        f"  globalRules:\n    - name: r\n      alwaysEnabled: false\n      contents: {rule}\n",
    )
    planned = run("plan", "org.yaml", "--out", "reviewed.plan", env=env)
    applied = run("apply", "reviewed.plan", env=env)
    assert applied.exit_code == 0 and "applied (revision 1)" in applied.stdout, applied.output
    return planned.output + applied.output + (in_tmp / "reviewed.plan").read_text()


def test_a_literal_env_reference_for_members_machines_is_no_secret_here(in_tmp: Path) -> None:
    """`$${env:TEAM}` is written through for members' Cline to expand: TEAM's value in this run's environment
    is no secret of the plan's, so it is neither masked elsewhere nor a reason to refuse the reviewed plan."""
    said = reviewed_and_applied(
        in_tmp, "https://mcp.example.com/$${env:TEAM}/sse", "the sky is blue", {"TEAM": "blue"}
    )
    assert 'contents: "the sky is blue"' in said and "https://mcp.example.com/${env:TEAM}/sse" in said


def test_a_secret_whose_value_also_stands_in_plain_text_does_not_make_the_reviewed_plan_refused(
    in_tmp: Path,
) -> None:
    """The plan file scrubs a secret's value wherever it stands, a rule's text too: apply compares its display
    with the fresh one scrubbed the same way, so nothing changed means nothing refused."""
    url, rule = "https://mcp.example.com/${env:TENANT_KEY}/sse", "REAL=topsecretvalue"
    said = reviewed_and_applied(in_tmp, url, rule, {"TENANT_KEY": "topsecretvalue"})
    assert "topsecretvalue" not in said
