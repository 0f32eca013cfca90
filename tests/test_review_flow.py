"""Review that reads like a change, and saved plans that apply exactly what was reviewed: scoped to the
organizations they change, version-bound, renderable with `show`, honoured by `--manual`; comments that fit."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from clinesync.consoles.local import LocalConsole
from clinesync.diff import Change
from clinesync.document import Document
from clinesync.plans.plan import OrgPlan, Plan, make_plan
from clinesync.render.markdown import MAX_COMMENT, plan_markdown

from support import TOKEN, run, start_server, write

A, B = "org-01JZPE4CHW5XTP73W957AAAAAA", "org-01JZPE4CHW5XTP73W957BBBBBB"


def org(organization: str, model: str, extra: str = "") -> str:
    return (
        f"organization: {organization}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        f"      openAiBaseUrl: https://gw.example.com/v1\n      models:\n        - id: {model}\n"
        f"          contextWindow: 128000\n{extra}"
    )


def revisions_in(database: str, organization: str) -> int:
    console = LocalConsole(database)
    count = len(console.history(organization))
    console.close()
    return count


def revisions(organization: str) -> int:
    console = LocalConsole(".clinesync/console.db")
    count = len(console.history(organization))
    console.close()
    return count


def test_a_saved_plan_is_stale_only_for_the_organizations_it_changes(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    write(in_tmp / "orgs" / "b.yaml", org(B, "gpt-4o"))
    assert run("apply", "orgs", "--auto-approve").exit_code == 0
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4.1"))  # the pull request changes A only
    assert run("plan", "orgs", "--out", "reviewed.plan").exit_code == 0
    # Meanwhile another pull request changes B, and someone edits B in the console.
    write(in_tmp / "orgs" / "b.yaml", org(B, "o3"))
    console = LocalConsole(".clinesync/console.db")
    console.write(B, Document(False, {"version": "v1"}), None)
    console.close()
    result = run("apply", "reviewed.plan")
    assert result.exit_code == 0, result.output
    assert f"{A} (orgs/a.yaml): applied" in result.stdout
    assert "1 organization(s) the plan leaves unchanged: skipped." in result.stderr
    assert revisions(A) == 2 and revisions(B) == 2  # B: the first apply and the console edit, nothing more


def test_the_organizations_a_saved_plan_leaves_unchanged_are_reported_unchanged(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    write(in_tmp / "orgs" / "b.yaml", org(B, "gpt-4o"))
    assert run("apply", "orgs", "--auto-approve").exit_code == 0
    write(in_tmp / "orgs" / "b.yaml", org(B, "gpt-4.1"))
    assert run("plan", "orgs", "--out", "reviewed.plan").exit_code == 0
    result = run("apply", "reviewed.plan", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(each["organization"], each["outcome"]) for each in report["organizations"]] == [
        (A, "unchanged"),  # in the order of their files, as every report
        (B, "applied"),
    ]
    assert report["summary"]["unchanged"] == 1


def test_a_saved_plan_that_changes_nothing_says_nothing_of_live_which_it_does_not_read(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    write(in_tmp / "orgs" / "b.yaml", org(B, "gpt-4o"))
    assert run("apply", "orgs", "--auto-approve").exit_code == 0
    assert run("plan", "orgs", "--out", "reviewed.plan").exit_code == 0
    console = LocalConsole(".clinesync/console.db")
    console.write(B, Document(False, {"version": "v1"}), None)  # edited in the console after the review
    console.close()
    for output_format in ("text", "json"):
        result = run("apply", "reviewed.plan", "--format", output_format)
        assert result.exit_code == 0, result.output
        assert "matches" not in result.output
        said = result.stdout if output_format == "text" else result.stderr
        assert said == (
            "The reviewed plan changes nothing: nothing to apply. The 2 organization(s) it leaves unchanged were "
            "not read: `clinesync drift` compares them with live.\n"
        )
    report = json.loads(result.stdout)
    assert [each["outcome"] for each in report["organizations"]] == ["unchanged", "unchanged"]
    assert revisions(A) == 1 and revisions(B) == 2  # nothing written
    assert run("drift", "orgs").exit_code == 2  # what the message points to finds the edit
    elsewhere = run("apply", "reviewed.plan", "--format", "json", "--console", "other.db")
    assert elsewhere.exit_code == 1 and "the plan was made against" in elsewhere.stderr
    assert json.loads(elsewhere.stdout)["summary"]["exit_code"] == 1  # a script reads the refusal too


def test_flags_a_saved_plan_cannot_honour_are_refused_and_another_version_is_refused(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    assert run("plan", "orgs", "--out", "reviewed.plan").exit_code == 0
    for extra in (("--shard", "1/2"), ("orgs/a.yaml",), ("--prune-unknown",)):
        refused = run("apply", "reviewed.plan", *extra, "--console", ".clinesync/console.db")
        assert refused.exit_code == 1 and "it is applied whole, as reviewed" in refused.stderr
    saved = json.loads((in_tmp / "reviewed.plan").read_text())
    saved["clinesync_version"] = "0.0.1"
    (in_tmp / "old.plan").write_text(json.dumps(saved))
    old = run("apply", "old.plan")
    assert old.exit_code == 1 and "was made by clinesync 0.0.1" in old.stderr
    assert not (in_tmp / ".clinesync" / "console.db").exists()


def test_show_renders_a_saved_plan_as_it_was_reviewed(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o", "  openAiHeaders:\n    api-key: ${env:KEY}\n"))
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    planned = run("plan", "orgs", "--out", "reviewed.plan")
    assert run("show", "reviewed.plan").stdout.splitlines()[:3] == planned.stdout.splitlines()[:3]
    shown = json.loads(run("show", "reviewed.plan", "--format", "json").stdout)
    as_planned = json.loads(run("plan", "orgs", "--format", "json").stdout)
    assert shown["organizations"][0]["changes"] == as_planned["organizations"][0]["changes"]
    markdown = run("show", "reviewed.plan", "--format", "markdown").stdout
    assert markdown.startswith("<!-- clinesync-plan -->") and "gw.example.com" in markdown


def test_a_new_model_is_one_block_and_a_removed_one_shows_what_it_was(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", org(A, "o1-preview"))
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0
    write(in_tmp / "org.yaml", org(A, "gpt-4.1"))
    lines = run("plan", "org.yaml", "--no-color").stdout.splitlines()
    models = "remoteConfig.providerSettings.OpenAiCompatible.models"
    added = lines.index(f"  + {models}[id=gpt-4.1]")
    assert lines[added + 1] == "  +     contextWindow: 128000"
    removed = lines.index(f"  - {models}[id=o1-preview]")
    assert lines[removed + 1] == "  -     contextWindow: 128000"
    assert lines[3].startswith("  ! ") or all(not line.startswith("  ! ") for line in lines)  # impacts first


def test_a_comment_for_a_thousand_organizations_fits_and_says_what_it_cut(in_tmp: Path) -> None:
    for index in range(1000):
        write(in_tmp / "orgs" / f"{index:04d}.yaml", org(f"org-01JZPE4CHW5XTP73W9{index:08d}", "gpt-4.1"))
    console = LocalConsole(in_tmp / "scratch.db")
    plan = make_plan(sorted(str(path) for path in (in_tmp / "orgs").iterdir()), console, {})
    console.close()
    from clinesync.render.markdown import plan_markdown

    text = plan_markdown(plan)
    assert len(text) <= MAX_COMMENT
    lines = text.splitlines()
    assert lines[5:8] == ["**Must not miss:**", "", "```diff"]  # right after the headline
    assert "| organization | result | changes |" in lines
    shared = "+ remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4.1]    (1000 organizations: "
    [line] = [line for line in lines if line.startswith(shared)]
    assert line.count("orgs/") == 10 and line.endswith("orgs/0009.yaml and 990 more)")
    assert "**Cut to fit a comment:**" in text and "artifacts" in text


def test_at_a_thousand_organizations_every_impact_is_shown_counted_and_named_never_cut(in_tmp: Path) -> None:
    """A third of a thousand organizations move their base URL to another host: the must-not-miss block names
    that once, with its count, right after the headline, however much of the rest is cut."""
    files = []
    writes: list[tuple[str, Document, str | None]] = []
    for index in range(1000):
        organization = f"org-01JZPE4CHW5XTP73W9{index:08d}"
        text = org(organization, "gpt-4.1")
        model = {"id": "gpt-4.1", "contextWindow": 128000}
        settings = {"openAiBaseUrl": "https://gw.example.com/v1", "models": [model]}
        writes.append(
            (organization, Document(True, {"providerSettings": {"OpenAiCompatible": settings}}), None)
        )
        if index % 3 == 0:
            text = text.replace("gw.example.com", "other-gw.example.net")
        write(in_tmp / "orgs" / f"{index:04d}.yaml", text + "          maxTokens: 4096\n" * (index % 2))
        files.append(str(in_tmp / "orgs" / f"{index:04d}.yaml"))
    console = LocalConsole(in_tmp / "scratch.db")
    console.write_many(writes)
    plan = make_plan(files, console, {})
    console.close()
    from clinesync.render.markdown import plan_markdown

    text = plan_markdown(plan)
    assert len(text) <= MAX_COMMENT and "**Cut to fit a comment:**" in text
    head = text.split("| organization | result | changes |")[0]
    moved = [
        line for line in head.splitlines() if "moves from gw.example.com to other-gw.example.net" in line
    ]
    assert len(moved) == 1 and "(334 organizations: " in moved[0] and "and 324 more)" in moved[0]


def test_impacts_past_what_a_comment_holds_keep_naming_their_one_organization(in_tmp: Path) -> None:
    """Each of 800 organizations moves to a host of its own: 800 distinct impacts cannot all fit. Those shown
    still say which organization each is; the comment says how many more there are."""
    from clinesync.render.markdown import plan_markdown

    settings = {
        "openAiBaseUrl": "https://gw.example.com/v1",
        "models": [{"id": "gpt-4.1", "contextWindow": 128000}],
    }
    live = Document(True, {"providerSettings": {"OpenAiCompatible": settings}})
    organizations = [f"org-01JZPE4CHW5XTP73W9{index:08d}" for index in range(800)]
    for index, organization in enumerate(organizations):
        text = org(organization, "gpt-4.1").replace("gw.example", f"gw-{index}.example")
        write(in_tmp / "orgs" / f"{index:04d}.yaml", text)
    console = LocalConsole(in_tmp / "scratch.db")
    console.write_many([(organization, live, None) for organization in organizations])
    plan = make_plan(sorted(str(path) for path in (in_tmp / "orgs").iterdir()), console, {})
    console.close()
    text = plan_markdown(plan)
    assert len(text) <= MAX_COMMENT
    moves = [
        line for line in text.splitlines() if line.startswith("! ") and "moves from gw.example.com" in line
    ]
    assert 0 < len(moves) < 800
    for index, line in enumerate(moves):
        assert f"to gw-{index}.example.com" in line and line.endswith(
            f"(1 organization: {in_tmp}/orgs/{index:04d}.yaml)"
        )
    assert f"{800 - len(moves)} more impact lines: the full plan is in this run's artifacts" in text


def test_a_drift_comment_says_each_failure_once_whatever_it_cuts(in_tmp: Path) -> None:
    """The nightly drift of a thousand organizations with a token the console refuses: the reason is in the
    head, once, with how many it concerns, and the cut note does not send the reader to a plan file."""
    from clinesync.consoles.base import ConsoleError, Live
    from clinesync.render.markdown import plan_markdown

    class Refusing(LocalConsole):
        def read(self, organization: str, like: Document | None = None) -> Live:
            raise ConsoleError("https://console.example.com refused the token (401): check CLINE_API_KEY")

    for index in range(1000):
        write(in_tmp / "orgs" / f"{index:04d}.yaml", org(f"org-01JZPE4CHW5XTP73W9{index:08d}", "gpt-4.1"))
    console = Refusing(in_tmp / "scratch.db")
    plan = make_plan(sorted(str(path) for path in (in_tmp / "orgs").iterdir()), console, {})
    console.close()
    text = plan_markdown(plan, "drift")
    assert len(text) <= MAX_COMMENT and "**Cut to fit a comment:**" in text
    head = text.split("| organization | result | changes |")[0]
    [reason] = [line for line in head.splitlines() if "refused the token (401)" in line]
    assert "(1000 organizations: " in reason and reason.endswith("and 990 more)")
    assert "show PLANFILE" not in text and "clinesync drift --format json" in text


def test_apply_reports_per_organization_results_as_json(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    write(in_tmp / "orgs" / "b.yaml", f"organization: {B}\nenabled: maybe\n")
    result = run("apply", "orgs", "--auto-approve", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["summary"]["exit_code"] == 1
    assert [entry["outcome"] for entry in report["organizations"]] == ["applied", "failed"]
    assert report["summary"] | {"exit_code": 0} == {
        "applied": 1,
        "unchanged": 0,
        "failed": 1,
        "not_attempted": 0,
        "exit_code": 0,
    }
    assert "will be created" in result.stderr  # the plan, for the people reading the log


def test_a_saved_plan_applied_by_hand_is_verified_by_reading_never_called_applied(
    in_tmp: Path, tmp_path: Path
) -> None:
    hosted = start_server(tmp_path / "hosted.db", read_only=True)
    env = {"CLINESYNC_CONSOLE": hosted.url, "CLINE_API_KEY": TOKEN}
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    # An organization the pull request does not change has drifted: the wait is for the plan's alone.
    write(in_tmp / "orgs" / "b.yaml", org(B, "gpt-4o"))
    drifted = LocalConsole(hosted.database)
    drifted.write(B, Document(True, {"version": "v1"}), None)
    drifted.close()
    try:
        assert run("plan", "orgs/a.yaml", "--out", "reviewed.plan", env=env).exit_code == 0
        target = make_plan(["orgs/a.yaml"], LocalConsole(tmp_path / "scratch.db"), {}).organizations[0].target
        assert target is not None

        reads_before = hosted.server.requests["GET"]

        def admin_clicks_save() -> None:
            # Only once apply polls: its second read. The first (the staleness check) may still be in flight
            # when the server counts it, and a save before its answer would make the plan stale.
            deadline = time.monotonic() + 60
            while hosted.server.requests["GET"] < reads_before + 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            console = LocalConsole(hosted.database)
            console.write(A, target, None)
            console.close()

        threading.Thread(target=admin_clicks_save).start()
        result = run(
            "apply", "reviewed.plan", "--manual", "--timeout", "20", "--poll-interval", "0.2", env=env
        )
        waited = run(
            "apply", "reviewed.plan", "--manual", "--timeout", "0.3", "--poll-interval", "0.1", env=env
        )
    finally:
        hosted.stop()
    assert result.exit_code == 0, result.output
    assert "In the admin console" in result.stdout and "matches the files (verified)" in result.stdout
    assert "applied" not in result.stdout.replace("not applied", "")
    assert hosted.server.requests["PUT"] == 0
    assert B not in result.stdout  # never read, never waited for
    # run again once applied by hand, the reviewed plan says so: nothing left to write, nothing stale
    assert (
        waited.exit_code == 0
        and "Already applied: live matches the files and the reviewed plan" in waited.stdout
    )


def test_run_again_after_part_of_the_checklist_was_saved_manual_says_what_still_differs(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    assert run("apply", "orgs", "--auto-approve").exit_code == 0
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4.1").replace("gw.example.com", "gw2.example.com"))
    assert run("plan", "orgs", "--out", "reviewed.plan").exit_code == 0
    console = LocalConsole(".clinesync/console.db")  # the admin saves the new base URL, not yet the model
    provider = {
        "openAiBaseUrl": "https://gw2.example.com/v1",
        "models": [{"id": "gpt-4o", "contextWindow": 128000}],
    }
    console.write(
        A, Document(True, {"version": "v1", "providerSettings": {"OpenAiCompatible": provider}}), None
    )
    console.close()
    again = run("apply", "reviewed.plan", "--manual", "--timeout", "0")
    assert again.exit_code == 1 and "plan is stale: live changed since the plan" in again.stderr
    assert "live moved since the plan; what still differs from the reviewed files:" in again.stderr
    left = again.stderr.split("what still differs from the reviewed files:\n", 1)[1]
    assert "gpt-4.1" in left and "gw2.example.com" not in left  # the model is left; the URL is done
    assert "finish it in the console and run again" in again.stderr
    refused = run("apply", "reviewed.plan")  # without --manual: refused, and no checklist
    assert refused.exit_code == 1 and "what still differs" not in refused.stderr


def test_show_prints_exactly_what_plan_printed_and_a_field_added_to_a_live_item_reads_as_such(
    in_tmp: Path,
) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o", "        - id: o1\n          contextWindow: 200000\n"))
    assert run("apply", "orgs", "--auto-approve").exit_code == 0
    write(
        in_tmp / "orgs" / "a.yaml",
        org(
            A,
            "gpt-4o",
            "          maxTokens: 4096\n        - id: gpt-4.1\n          contextWindow: 1000000\n",
        ).replace("gw.example.com", "gw2.example.com"),
    )
    planned = run("plan", "orgs", "--out", "reviewed.plan")
    assert planned.exit_code == 0, planned.output
    lines = planned.stdout.splitlines()
    added = lines.index("  ~ remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4o]")
    assert lines[added + 1] == "  +     maxTokens: 4096"  # under the live item, not a new one
    assert "  + remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4.1]" in lines
    assert "  - remoteConfig.providerSettings.OpenAiCompatible.models[id=o1]" in lines
    assert "  -     contextWindow: 200000" in lines
    assert run("show", "reviewed.plan").stdout == planned.stdout
    for output_format in ("markdown", "json"):
        fresh = run("plan", "orgs", "--format", output_format).stdout
        assert run("show", "reviewed.plan", "--format", output_format).stdout == fresh, output_format


def _reviewed(index: int, lines: list[str]) -> OrgPlan:
    """An organization's plan as a saved plan holds it: its lines as reviewed."""
    change = Change("add", ("remoteConfig", "telemetryEnabled"), None, True)
    return OrgPlan(
        f"orgs/{index:04d}.yaml", f"org-{index:026d}", action="update", changes=[change], saved_lines=lines
    )


def test_a_comment_stays_within_its_limit_however_large_what_organizations_share() -> None:
    """Pairs of organizations sharing long lines: the shared block is counted, then cut, never the limit."""
    hosts = [
        f"+ remoteConfig.providerSettings.OpenAiCompatible.models[id=model-{index // 2:04d}-{'x' * 60}]"
        for index in range(1000)
    ]
    plan = Plan(
        "local",
        "local",
        [_reviewed(index, [hosts[index], hosts[index] + ".b", hosts[index] + ".c"]) for index in range(1000)],
    )
    text = plan_markdown(plan)
    assert len(text) <= MAX_COMMENT
    assert "Changes several organizations share:" in text and "more shared changes" in text


def test_the_mass_change_verdict_survives_any_number_of_distinct_impacts() -> None:
    impacts = [
        f"! remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl moves to host-{index}.example.com"
        for index in range(1000)
    ]
    organizations = [
        _reviewed(index, [impacts[index], "~ remoteConfig.telemetryEnabled: false -> true"])
        for index in range(1000)
    ]
    plan = Plan(
        "local",
        "local",
        organizations,
        mass_change=("it updates 1000 of 1000 organizations (100%), more than massChange.share (25%)",),
    )
    text = plan_markdown(plan)
    assert len(text) <= MAX_COMMENT
    head = text.split("| organization | result | changes |")[0]
    assert "! Mass change: it updates 1000 of 1000 organizations" in head
    assert "host-0.example.com" in head and "more impact lines" in head


def test_a_saved_plan_refused_for_another_console_leaves_no_database_behind(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    LocalConsole("a.db").close()  # the reviewed console, where A is not yet
    assert run("plan", "orgs", "--out", "reviewed.plan", "--console", "sqlite:a.db").exit_code == 0
    refused = run("apply", "reviewed.plan")  # no --console: the embedded one, which the plan was not made for
    assert refused.exit_code == 1 and "the plan was made against" in refused.stderr
    assert run("apply", "orgs", "--auto-approve", "--console", "a.db").exit_code == 0
    assert run("plan", "orgs", "--out", "nothing.plan", "--console", "a.db").exit_code == 0  # no changes
    refused = run("apply", "nothing.plan")  # changing nothing, it is still refused as made elsewhere
    assert refused.exit_code == 1 and "the plan was made against" in refused.stderr
    assert not (in_tmp / ".clinesync" / "console.db").exists()


def test_already_applied_is_said_only_of_the_console_the_plan_was_made_against(in_tmp: Path) -> None:
    """Another console that happens to match is no news of the reviewed one: refused as made elsewhere."""
    write(in_tmp / "orgs" / "a.yaml", org(A, "gpt-4o"))
    LocalConsole("a.db").close()  # the reviewed console, where A is not yet
    assert run("plan", "orgs", "--out", "reviewed.plan", "--console", "a.db").exit_code == 0
    assert run("apply", "orgs", "--auto-approve", "--console", "b.db").exit_code == 0  # b matches the files
    elsewhere = run("apply", "reviewed.plan", "--console", "b.db")
    assert elsewhere.exit_code == 1, elsewhere.output
    assert "Already applied" not in elsewhere.output and "the plan was made against" in elsewhere.output
    assert revisions_in("a.db", A) == 0  # the reviewed console still lacks it
