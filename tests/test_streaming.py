"""A plan is written as its organizations are decided (issue 27): only the reads in flight and the totals are
held, whatever the fleet; what it prints is what the whole plan rendered at once prints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clinesync.consoles.base import Live
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.plans.plan import Plan, iter_plan
from clinesync.render.markdown import MarkdownPlan, plan_markdown
from clinesync.render.text import plan_text

from support import run, write


def fleet(directory: Path, count: int) -> list[str]:
    return [
        str(
            write(
                directory / f"org-{index:03d}.yaml",
                f"organization: org-01JZPE4CHW5XTP73W9576{index:05d}\n"
                f"remoteConfig:\n  telemetryEnabled: true\n  kanbanEnabled: {str(index % 2 == 0).lower()}\n",
            )
        )
        for index in range(count)
    ]


class CountingConsole(LocalConsole):
    """Counts the reads asked of it; `network` sends them to the thread pool as a console over HTTP does."""

    def __init__(self, path: Path, network: bool = False) -> None:
        super().__init__(path)
        self.reads = 0
        self.network = network

    @property
    def inline(self) -> bool:
        return not self.network

    def read(self, organization: str, like: Document | None = None) -> Live:
        self.reads += 1
        return super().read(organization, like)


def test_an_organization_is_decided_before_the_next_file_is_read(in_tmp: Path) -> None:
    console = CountingConsole(in_tmp / "console.db")
    organizations = iter_plan(fleet(in_tmp / "orgs", 30), console, {})
    first = next(organizations)
    assert (first.action, console.reads) == ("create", 1)
    assert [org.action for org in organizations] == ["create"] * 29 and console.reads == 30


def test_reads_over_the_network_run_ahead_only_so_far(in_tmp: Path) -> None:
    console = CountingConsole(in_tmp / "console.db", network=True)
    organizations = iter_plan(fleet(in_tmp / "orgs", 60), console, {}, parallelism=2)
    next(organizations)
    assert console.reads <= 4 * 2 + 2  # the reads in flight, not the fleet's
    assert len(list(organizations)) == 59 and console.reads == 60


def test_the_streamed_plan_prints_what_the_whole_plan_prints(in_tmp: Path) -> None:
    paths = [os.path.relpath(path) for path in fleet(in_tmp / "orgs", 12)]
    console = LocalConsole(Path("console.db"))
    whole = Plan(console.description, console.identity, list(iter_plan(paths, console, {})))
    for output_format in ("text", "json", "markdown"):
        printed = run("--console", "console.db", "plan", "orgs", "--format", output_format)
        assert printed.exit_code == 0
        if output_format == "json":
            document = json.loads(printed.stdout)
            assert document["summary"] == {
                "organizations": 12,
                "create": 12,
                "update": 0,
                "no_op": 0,
                "failed": 0,
                "changes": whole.change_count,
            }
            assert [org["file"] for org in document["organizations"]] == [
                org.file for org in whole.organizations
            ]
        elif output_format == "markdown":
            assert printed.stdout == plan_markdown(whole)
        else:
            assert printed.stdout == plan_text(whole, lambda text, **_: text)


def test_a_markdown_plan_keeps_no_more_than_a_comment_can_show(in_tmp: Path) -> None:
    paths = fleet(in_tmp / "orgs", 80)
    console = LocalConsole(in_tmp / "console.db")
    markdown = MarkdownPlan(limit=3_000)
    whole = Plan(console.description, console.identity, list(iter_plan(paths, console, {})))
    markdown.head(whole.totals)
    for org in whole.organizations:
        markdown.organization(org)
    kept = sum(len(row) + 1 for row in markdown._rows)
    kept += sum(len(line) + 1 for section in markdown._sections for line in section)
    assert kept <= 2 * 3_000 and len(markdown._sections) < 80
    text = markdown.tail(whole.totals)
    assert len(text) <= 3_000
    assert "80 to create" in text.replace("organizations ", "")
    # every impact and shared line still counted over the whole fleet, not only the part kept
    assert "(80 organizations" in text or "(40 organizations" in text


def test_a_plan_file_that_cannot_be_written_is_refused_and_leaves_nothing(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 2)
    LocalConsole(in_tmp / "console.db").close()
    result = run("--console", "console.db", "plan", "orgs", "--out", "missing/folder/p.plan")
    assert result.exit_code == 1 and "cannot write missing/folder/p.plan" in result.stderr
    assert not list(in_tmp.rglob(".clinesync-*"))


def test_a_plan_with_a_failure_is_shown_whole_and_not_saved(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 3)
    LocalConsole(in_tmp / "console.db").close()
    write(in_tmp / "orgs" / "org-001.yaml", "organization: org-01JZPE4CHW5XTP73W957600001\nenabled: maybe\n")
    result = run("--console", "console.db", "plan", "orgs", "--out", "p.plan")
    assert result.exit_code == 1
    assert "1 failed" in result.stdout and "org-002.yaml" in result.stdout  # the plan goes on past it
    assert "a plan with failed organizations is not saved" in result.stderr
    assert not (in_tmp / "p.plan").exists() and not list(in_tmp.glob(".clinesync-*"))


def test_a_saved_plan_names_the_cline_release_it_describes_and_shows_as_planned(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 3)
    LocalConsole(in_tmp / "console.db").close()
    planned = run("--console", "console.db", "plan", "orgs", "--out", "p.plan")
    saved = json.loads((in_tmp / "p.plan").read_text())
    assert (saved["format_version"], saved["cline"]) == ("4", "Cline 2026-08")
    assert [entry["file"] for entry in saved["organizations"]] == [
        f"orgs/org-00{index}.yaml" for index in range(3)
    ]
    assert run("show", "p.plan").stdout == planned.stdout
    assert run("--console", "console.db", "apply", "p.plan").exit_code == 0


def test_a_saved_plan_given_as_path_is_pointed_to_apply_and_show(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 1)
    LocalConsole(in_tmp / "console.db").close()
    assert run("--console", "console.db", "plan", "orgs", "--out", "p.plan").exit_code == 0
    (in_tmp / "cut.plan").write_text((in_tmp / "p.plan").read_text()[:200])  # cut short: not JSON
    for name in ("p.plan", "cut.plan"):
        for command in (
            ("validate",),
            ("--console", "console.db", "plan"),
            ("--console", "console.db", "drift"),
        ):
            result = run(*command, name)
            assert (result.exit_code, result.stdout) == (1, ""), (command, name)
            assert result.stderr == (
                f"Error: {name} is a saved plan, not an organization file: apply it with `clinesync apply "
                f"{name}`, or read it with `clinesync show {name}`\n"
            )
    broken = run("--console", "console.db", "apply", "cut.plan")
    assert broken.exit_code == 1 and "cut.plan is not a readable clinesync plan file" in broken.stderr


def test_a_later_organizations_secret_is_scrubbed_from_an_earlier_ones_lines(in_tmp: Path) -> None:
    """Two organizations reach the gateway through a tenant path from the environment; the first moves off it,
    so its plan shows its live URL, which holds the second one's secret: scrubbed in every output and file."""
    token = "acme-private-tenant-7731"
    gateway = "https://gw.example.com/${env:GW_TOKEN}/v1"
    for name, number in (("a", 1), ("b", 2)):
        write(
            in_tmp / "orgs" / f"{name}.yaml",
            f"organization: org-01JZPE4CHW5XTP73W9576000{number}Y\nremoteConfig:\n  providerSettings:\n"
            f"    OpenAiCompatible:\n      openAiBaseUrl: {gateway}\n",
        )
    env = {"GW_TOKEN": token}
    assert run("apply", "orgs", "--auto-approve", env=env).exit_code == 0
    moved = (in_tmp / "orgs" / "a.yaml").read_text().replace(gateway, "https://gw.example.com/v2")
    write(in_tmp / "orgs" / "a.yaml", moved)
    for output_format in ("text", "json", "markdown"):
        result = run("plan", "orgs", "--format", output_format, "--out", "p.plan", env=env)
        assert result.exit_code == 0, result.output
        assert "gw.example.com" in result.stdout and token not in result.output
        assert token not in (in_tmp / "p.plan").read_text()


def test_a_bug_met_with_the_first_organization_is_told_without_the_secrets(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first organization is decided before the files' secrets are learnt: a bug met there still prints
    its traceback (--verbose) scrubbed of them."""
    from clinesync.plans import plan

    secret = "sk-planted-first-9d41c2"
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n"
        "    OpenAiCompatible:\n      openAiBaseUrl: https://gw.example.com/v1\n      openAiHeaders:\n"
        "        api-key: ${env:GW_KEY}\n",
    )

    def broken(*_: object, **__: object) -> None:
        raise KeyError(secret)

    monkeypatch.setattr(plan, "plan_organization", broken)
    result = run("--verbose", "plan", "org.yaml", env={"GW_KEY": secret})
    assert result.exit_code == 1 and "KeyError" in result.output
    assert secret not in result.output


def test_the_names_a_run_can_resolve_are_read_from_its_files_and_their_bases(in_tmp: Path) -> None:
    from clinesync.files.references import environment_names

    write(in_tmp / "bases" / "deep.yaml", "remoteConfig:\n  x: ${env:DEEP_KEY}\n")
    write(in_tmp / "bases" / "mid.yaml", "extends:\n- deep.yaml\nremoteConfig:\n  y: ${env:MID_KEY:-none}\n")
    write(in_tmp / "orgs" / "a.yaml", "organization: o\nextends: [../bases/mid.yaml]  # shared\n")
    write(
        in_tmp / "orgs" / "b.yaml", "organization: p\nextends:\n  - '../bases/mid.yaml'\nname: ${env:OWN}\n"
    )
    write(in_tmp / "orgs" / "c.yaml", "organization: q\nextends: [../bases/missing.yaml, {not: a path}]\n")
    files = [str(in_tmp / "orgs" / name) for name in ("a.yaml", "b.yaml", "c.yaml")]
    assert environment_names(files) == {"DEEP_KEY", "MID_KEY", "OWN"}


def test_table_rows_have_their_own_room_so_a_late_failure_is_still_listed(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinesync.render import markdown

    paths = fleet(in_tmp / "orgs", 40)
    write(in_tmp / "orgs" / "org-039.yaml", "organization: org-01JZPE4CHW5XTP73W957600039\nenabled: maybe\n")
    console = LocalConsole(in_tmp / "console.db")
    whole = Plan(console.description, console.identity, list(iter_plan(paths, console, {})))
    text = markdown.plan_markdown(whole, limit=6_000)  # sections fill a comment long before the rows do
    assert "org-039.yaml)` | failed |" in text and "1 failed" in text
    monkeypatch.setattr(markdown, "_TRACKED", 1)  # past it, impact lines are counted, never dropped unsaid
    counted = markdown.plan_markdown(whole)
    assert "more impact lines, each first met past 1 others" in counted


def test_dotted_paths_tell_a_boolean_from_a_number() -> None:
    from clinesync.fields import Item, dotted

    assert dotted(("models", Item("id", 1))) != dotted(("models", Item("id", True)))
