"""Staged rollouts: `rollout:` waves in clinesync.yaml, `apply PLANFILE --wave`, `rollout status|next`, told from
live state and the console's revision times alone."""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinesync.consoles.http import HttpConsole
from clinesync.files.waves import Wave, assign, duration, said
from clinesync.plans.rollout import Organization, WaveStatus, decide

from fake_llm import KEY, FakeLLM
from support import TOKEN, RunningServer, edit_live, run, write

SECRET = "az-planted-rollout-7f3a9c"
ORGS = [f"org-{index:026d}" for index in range(30)]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


def org_text(organization: str, llm_port: int, telemetry: bool) -> str:
    return f"""\
organization: {organization}
enabled: true
remoteConfig:
  version: v1
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: http://127.0.0.1:{llm_port}/v1
      openAiHeaders:
        x-gateway-token: ${{env:AZ_KEY}}
      models:
        - id: gpt-4o
  telemetryEnabled: {str(telemetry).lower()}
"""


CONFIGURATION = f"""\
paths: [orgs/]
rollout:
  - name: canary
    organizations: [{ORGS[0]}, {ORGS[1]}, {ORGS[2]}]
    hold: 1h
    checks: [drift, {{probe: {{apiKeyEnv: MEMBER_KEY}}}}]
  - name: early
    share: 0.3
    hold: 30m
    checks: [{{probe: {{apiKeyEnv: MEMBER_KEY}}}}]
  - name: rest
"""


@pytest.fixture
def fleet(in_tmp: Path, llm: FakeLLM, console_server: RunningServer) -> dict[str, str]:
    """30 organizations live with telemetry off (revision 1), their files now turning it on, and a plan of it
    saved with its waves. Returns the environment the commands run with."""
    env = {
        "CLINESYNC_CONSOLE": console_server.url,
        "CLINE_API_KEY": TOKEN,
        "CLINESYNC_RETRIES": "1",
        "AZ_KEY": SECRET,
        "MEMBER_KEY": KEY,
    }
    for index, organization in enumerate(ORGS):
        write(in_tmp / "orgs" / f"o{index:02d}.yaml", org_text(organization, llm.port, telemetry=False))
    assert run("apply", "orgs/", "--auto-approve", env=env).exit_code == 0
    for index, organization in enumerate(ORGS):
        write(in_tmp / "orgs" / f"o{index:02d}.yaml", org_text(organization, llm.port, telemetry=True))
    write(in_tmp / "clinesync.yaml", CONFIGURATION)
    planned = run("plan", "--out", "p.plan", "--format", "json", env=env)
    assert planned.exit_code == 0, planned.output
    assert "rollout next p.plan" in planned.stderr
    return env


def status(env: dict[str, str]) -> dict[str, object]:
    result = run("rollout", "status", "p.plan", "--format", "json", env=env)
    assert SECRET not in result.output
    return dict(json.loads(result.stdout), exit_code=result.exit_code)


@contextlib.contextmanager
def console_of(env: dict[str, str]) -> Iterator[HttpConsole]:
    console = HttpConsole(env["CLINESYNC_CONSOLE"], TOKEN)
    try:
        yield console
    finally:
        console.close()


def live_telemetry(env: dict[str, str]) -> dict[str, bool]:
    with console_of(env) as console:
        return {org: console.read(org).document.tree()["remoteConfig"]["telemetryEnabled"] for org in ORGS}  # type: ignore[union-attr]


def hold_passes(console_server: RunningServer) -> None:
    """Two hours pass, as far as the console's revision times tell: every revision made two hours earlier."""
    import sqlite3

    with sqlite3.connect(console_server.database) as database:
        database.execute("UPDATE revisions SET created_at = datetime(created_at, '-2 hours') || '+00:00'")


def test_three_waves_over_30_organizations_each_after_its_hold_then_a_failing_probe_stops_and_is_rolled_back(
    fleet: dict[str, str], llm: FakeLLM, console_server: RunningServer
) -> None:
    env = fleet
    plan = json.loads(Path("p.plan").read_text())
    waves = {wave["name"]: wave["organizations"] for wave in plan["rollout"]["waves"]}
    assert waves["canary"] == ORGS[:3]
    assert len(waves["early"]) == 9  # 30% of the 27 no wave names, rounded up
    assert sorted(waves["canary"] + waves["early"] + waves["rest"]) == ORGS

    before = status(env)
    assert (before["verdict"], before["wave"], before["exit_code"]) == ("ready", "canary", 0)
    assert all(wave["state"] == "pending" for wave in before["waves"])  # type: ignore[attr-defined]

    first = run("rollout", "next", "p.plan", env=env)
    assert first.exit_code == 0, first.output
    assert [org for org, on in live_telemetry(env).items() if on] == waves["canary"]

    holding = status(env)
    assert (holding["verdict"], holding["wave"]) == ("holding", "canary")
    canary = holding["waves"][0]  # type: ignore[index]
    assert canary["state"] == "applied" and canary["since"] and canary["holdPassed"] is False
    assert [(check["check"], check["passed"]) for check in canary["checks"]] == [
        ("drift", True),
        ("probe", True),
    ]
    again = run("rollout", "next", "p.plan", env=env)  # the scheduled job, within the hold: nothing applied
    assert again.exit_code == 0 and "Waiting: wave canary is holding until" in again.stdout
    assert sum(live_telemetry(env).values()) == 3

    hold_passes(console_server)
    ready = status(env)
    assert ready["verdict"] == "ready" and ready["waves"][0]["holdPassed"] is True  # type: ignore[index]
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0
    on = {org for org, value in live_telemetry(env).items() if value}
    assert on == set(waves["canary"] + waves["early"])

    assert status(env)["verdict"] == "holding"  # early's own hold
    hold_passes(console_server)
    llm.stop()  # the endpoint goes down: the probes fail (the canary's first), and the rollout stops
    stopped = run("rollout", "next", "p.plan", env=env)
    assert stopped.exit_code == 1
    assert "FAILED: probe" in stopped.stdout and "Stopped: wave canary: probe failed" in stopped.stdout
    assert {org for org, value in live_telemetry(env).items() if value} == on  # rest untouched
    assert SECRET not in stopped.output
    found = status(env)
    assert found["verdict"] == "stopped" and found["exit_code"] == 1
    assert sorted(entry["organization"] for entry in found["rollback"]) == sorted(on)  # type: ignore[attr-defined]

    # The rollback the stop prints, command by command: exactly the applied waves go back to revision 1.
    commands = [
        line.split() for line in stopped.stdout.splitlines() if line.strip().startswith("clinesync rollback")
    ]
    assert len(commands) == len(on)
    for command in commands:
        assert command[3:] == ["--to", "1"]
        assert run(*command[1:], "--auto-approve", env=env).exit_code == 0
    assert not any(live_telemetry(env).values())


def test_a_wave_is_applied_alone_and_a_plan_file_whose_waves_were_edited_is_refused(
    fleet: dict[str, str],
) -> None:
    env = fleet
    applied = run("apply", "p.plan", "--wave", "early", env=env)
    assert applied.exit_code == 0, applied.output
    plan = json.loads(Path("p.plan").read_text())
    early = next(wave for wave in plan["rollout"]["waves"] if wave["name"] == "early")["organizations"]
    assert {org for org, on in live_telemetry(env).items() if on} == set(early)
    # status: canary not applied yet, early applied out of order: canary comes next
    assert status(env)["wave"] == "canary"

    # Moving an organization into the canary wave by editing the plan: the wave's binding no longer holds.
    rest = next(wave for wave in plan["rollout"]["waves"] if wave["name"] == "rest")
    canary = plan["rollout"]["waves"][0]
    canary["organizations"].append(rest["organizations"].pop())
    Path("p.plan").write_text(json.dumps(plan))
    refused = run("apply", "p.plan", "--wave", "canary", env=env)
    assert refused.exit_code == 1
    assert "plan again" in refused.stderr
    assert sum(live_telemetry(env).values()) == len(early)

    unknown = run("apply", "p.plan", "--wave", "late", env=env)
    assert (
        unknown.exit_code == 1
        and "the plan has no wave 'late'; its waves: canary, early, rest" in unknown.stderr
    )


def test_a_plan_made_without_waves_says_how_to_get_them(in_tmp: Path) -> None:
    write(in_tmp / "o.yaml", f"organization: {ORGS[0]}\nenabled: true\nremoteConfig: {{version: v1}}\n")
    assert run("plan", "o.yaml", "--out", "p.plan").exit_code == 0
    result = run("rollout", "status", "p.plan")
    assert result.exit_code == 1
    assert "p.plan was made without waves: add rollout: to clinesync.yaml and plan again" in result.stderr
    assert "--wave applies one wave of a saved plan" in run("apply", "o.yaml", "--wave", "x").stderr


def test_a_command_check_sees_its_wave_and_its_failure_stops_the_rollout(
    in_tmp: Path, console_server: RunningServer
) -> None:
    env = {
        "CLINESYNC_CONSOLE": console_server.url,
        "CLINE_API_KEY": TOKEN,
        "PROBE_API_KEY": "pk-planted-77aa",
    }
    for index in range(2):
        write(
            in_tmp / f"orgs/o{index}.yaml",
            f"organization: {ORGS[index]}\nenabled: true\nremoteConfig: {{version: v1}}\n",
        )
    write(
        in_tmp / "clinesync.yaml",
        f"""\
paths: [orgs/]
rollout:
  - {{name: one, organizations: [{ORGS[0]}], hold: 0s, checks: [{{command: 'echo "$CLINESYNC_WAVE $CLINESYNC_ORGANIZATIONS $PROBE_API_KEY"; test -e ok'}}]}}
  - {{name: two}}
""",
    )
    assert run("plan", "--out", "p.plan", env=env).exit_code == 0
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0
    stopped = run("rollout", "next", "p.plan", env=env)
    assert stopped.exit_code == 1
    assert f"one {ORGS[0]}" in stopped.stderr  # the command's output, on stderr
    assert "pk-planted-77aa" not in stopped.output  # a variable named like a credential: scrubbed
    assert "Stopped: wave one: command" in stopped.stdout and "(exit 1)" in stopped.stdout
    assert f"{ORGS[0]}: created by this plan, no earlier revision" in stopped.stdout
    write(in_tmp / "ok", "")
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0
    assert "Complete: every wave is applied." in run("rollout", "status", "p.plan", env=env).stdout


# The pieces.


def test_waves_take_named_organizations_first_then_shares_of_the_rest_by_a_stable_hash() -> None:
    organizations = [(f"org-{index}", f"orgs/team-{index % 3}/o{index}.yaml") for index in range(20)]
    waves = [
        Wave("share", share=0.25),
        Wave("named", organizations=("org-7",)),
        Wave("team0", paths=("orgs/team-0/",)),
        Wave("rest"),
    ]
    members, unassigned = assign(waves, organizations, ".")
    assert members["named"] == ["org-7"]
    assert members["team0"] == [org for org, file in organizations if "team-0" in file and org != "org-7"]
    claimed = 1 + len(members["team0"])
    assert len(members["share"]) == -(-(20 - claimed) // 4)  # a quarter of the rest, rounded up
    dealt = [org for wave in members.values() for org in wave]
    assert sorted(dealt) == sorted(org for org, _ in organizations) and not unassigned
    # The same organizations lead every plan that holds them, whatever else it holds.
    again, _ = assign(waves, [*organizations, ("org-99", "orgs/x.yaml")], ".")
    assert set(members["share"]) - set(again["share"]) <= {max(members["share"], key=str)}
    # Without a wave for the rest, what no wave takes is named.
    _, left = assign([Wave("named", organizations=("org-7",))], organizations, ".")
    assert len(left) == 19 and "org-7" not in left


def test_durations() -> None:
    assert duration("90m") == 5400 and duration("1h30m") == 5400 and duration("2d") == 172800
    assert said(5400) == "1h30m" and said(0) == "0s" and said(3600) == "1h"


def _wave(name: str, *standings: str, since: datetime.datetime | None = None, hold: float = 60) -> WaveStatus:
    organizations = [
        Organization(f"org-{name}-{index}", "f.yaml", standing, since=since)
        for index, standing in enumerate(standings)
    ]  # type: ignore[arg-type]
    return WaveStatus(Wave(name, hold=hold), organizations)


def test_decide() -> None:
    now = datetime.datetime(2027, 1, 1, 12, tzinfo=datetime.timezone.utc)
    recent, old = now - datetime.timedelta(seconds=10), now - datetime.timedelta(hours=2)
    assert decide([_wave("a", "applied", since=recent), _wave("b", "pending")], [], now).verdict == "holding"
    assert decide([_wave("a", "applied", since=old), _wave("b", "pending")], [], now).wave.wave.name == "b"  # type: ignore[union-attr]
    # The last wave's hold keeps nothing waiting.
    assert decide([_wave("a", "applied", since=recent)], [], now).verdict == "complete"
    assert decide([_wave("a", "applied", "pending")], [], now).verdict == "partial"
    assert decide([_wave("a", "applied", "moved", since=old)], [], now).verdict == "stopped"
    # A console without revision times cannot count a hold: the rollout waits, it never guesses.
    assert decide([_wave("a", "applied"), _wave("b", "pending")], [], now).verdict == "holding"
    assert decide([_wave("a"), _wave("b", "pending")], [], now).wave.wave.name == "b"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ("[{name: a}, {name: a}]", "wave a is named twice"),
        (
            f"[{{name: a, organizations: [{ORGS[0]}]}}, {{name: b, organizations: [{ORGS[0]}]}}]",
            f"{ORGS[0]} is already in wave a",
        ),
        (
            f"[{{name: a, organizations: [{ORGS[0]}], share: 0.5}}]",
            "a wave has a share, or names what it takes",
        ),
        ("[{name: a, hold: 1 hour}]", "rollout[0].hold"),
        ("[{name: A}]", "rollout[0].name"),
    ],
)
def test_rollout_configuration_problems_are_located(in_tmp: Path, rollout: str, message: str) -> None:
    write(in_tmp / "clinesync.yaml", f"rollout: {rollout}\n")
    result = run("validate", ".")
    assert result.exit_code == 1
    assert "clinesync.yaml:1:" in result.stderr and message in result.stderr


def test_a_wave_of_a_mass_change_is_refused_without_the_allowance(fleet: dict[str, str]) -> None:
    env = fleet
    Path("clinesync.yaml").write_text(CONFIGURATION + "massChange: {share: 0.5}\n")
    planned = run("plan", "--out", "p.plan", env=env)
    assert "Mass change" in planned.output
    refused = run("rollout", "next", "p.plan", env=env)  # the canary alone is 3 of 30: the plan is the change
    assert refused.exit_code == 1 and "--allow-mass-change" in refused.stderr
    assert not any(live_telemetry(env).values())
    assert run("rollout", "next", "p.plan", "--allow-mass-change", env=env).exit_code == 0


def test_the_waves_holds_and_checks_are_the_repositorys_not_the_plan_files(fleet: dict[str, str]) -> None:
    """A plan file whose waves say otherwise than clinesync.yaml (edited, or the configuration changed since)
    applies nothing: the hourly job calls it superseded, apply --wave refuses it."""
    env = fleet
    plan = json.loads(Path("p.plan").read_text())
    plan["rollout"]["waves"][0]["hold"] = "1s"
    plan["rollout"]["waves"][0]["checks"] = []
    Path("p.plan").write_text(json.dumps(plan))
    said = run("rollout", "next", "p.plan", env=env)  # the hourly job: nothing of it applies, quietly
    assert said.exit_code == 0
    assert "Superseded: its waves are not what clinesync.yaml's rollout: deals: plan again" in said.stdout
    refused = run("apply", "p.plan", "--wave", "canary", env=env)
    assert (
        refused.exit_code == 1 and "its waves are not what clinesync.yaml's rollout: deals" in refused.stderr
    )
    assert not any(live_telemetry(env).values())
    for broken in ({"waves": [{"name": 7}], "unassigned": []}, {"waves": "x"}):
        plan["rollout"] = broken
        Path("p.plan").write_text(json.dumps(plan))
        result = run("rollout", "status", "p.plan", env=env)
        assert result.exit_code == 1 and "is not a readable clinesync plan file (ValueError)" in result.stderr
        assert "Traceback" not in result.output


def test_the_status_of_a_plan_made_against_another_console_is_refused_before_any_request(
    in_tmp: Path,
) -> None:
    write(in_tmp / "orgs/o.yaml", f"organization: {ORGS[0]}\nenabled: true\nremoteConfig: {{version: v1}}\n")
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nrollout: [{name: all}]\n")
    assert run("plan", "--out", "p.plan").exit_code == 0
    env = {"CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "0"}
    result = run("rollout", "status", "p.plan", "--console", "http://127.0.0.1:9", env=env)
    assert result.exit_code == 1 and "cannot reach" not in result.stderr, result.output
    assert "the plan was made against local .clinesync/console.db, not http://127.0.0.1:9" in result.stderr


def test_a_wave_with_nothing_to_change_applies_nothing(in_tmp: Path, console_server: RunningServer) -> None:
    env = {"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": TOKEN}
    write(in_tmp / "orgs/o.yaml", f"organization: {ORGS[0]}\nenabled: true\nremoteConfig: {{version: v1}}\n")
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nrollout: [{name: all}, {name: none}]\n")
    assert run("plan", "--out", "p.plan", env=env).exit_code == 0
    result = run("apply", "p.plan", "--wave", "none", env=env)
    assert result.exit_code == 0 and "Wave none changes nothing: nothing to apply." in result.stdout
    as_json = run(
        "apply", "p.plan", "--wave", "none", "--format", "json", env=env
    )  # the report, as any apply's
    assert as_json.exit_code == 0 and "Wave none changes nothing" in as_json.stderr
    assert json.loads(as_json.stdout)["summary"] == {
        "applied": 0,
        "unchanged": 0,
        "failed": 0,
        "not_attempted": 0,
        "exit_code": 0,
    }
    # Even an empty wave of another console's plan is refused, not "applied".
    elsewhere = run("apply", "p.plan", "--wave", "none", "--console", "other.db", env=env)
    assert elsewhere.exit_code == 1 and "the plan was made against" in elsewhere.stderr


def test_the_hold_counts_from_when_live_became_what_it_holds_and_rollback_restores_what_came_before() -> None:
    from clinesync.consoles.base import Revision
    from clinesync.document import Document
    from clinesync.plans.rollout import revision_times

    old, new = Document(True, {"version": "v1"}), Document(True, {"version": "v1", "telemetryEnabled": True})
    history = [
        Revision(1, old, "2027-01-01T10:00:00+00:00"),
        Revision(2, new, "2027-01-01T11:00:00+00:00"),  # the plan
        Revision(3, new, "2027-01-01T12:00:00+00:00"),  # a Save in the console that changed nothing
    ]
    since, restore = revision_times(history)
    assert (since, restore) == (datetime.datetime(2027, 1, 1, 11, tzinfo=datetime.timezone.utc), 1)
    assert revision_times(history[1:])[1] is None  # created by the plan: nothing before it
    # An admin's edit put back since (revisions 3 and 4): what came before the plan is still the one it read.
    edited = Document(True, {"version": "v1", "telemetryEnabled": True, "mcpMarketplaceEnabled": False})
    put_back = [*history[:2], Revision(3, edited, "t3"), Revision(4, new, "t4")]
    assert revision_times(put_back)[1] == 3  # without the plan file's word, the history alone misleads
    assert revision_times(put_back, read_at=1)[1] == 1
    assert revision_times(history[1:], read_at=0)[1] is None  # read before there was any revision


def test_only_a_revision_after_the_one_the_plan_read_can_be_the_plans() -> None:
    from clinesync.consoles.base import Revision
    from clinesync.document import Document
    from clinesync.plans.planfile import revision_number
    from clinesync.plans.rollout import plan_in_history

    before, after = (
        Document(True, {"version": "v1"}),
        Document(True, {"version": "v1", "telemetryEnabled": True}),
    )
    target = before.canonical()  # a plan that reverts `after`
    history = [Revision(1, before, "t1"), Revision(2, after, "t2")]
    assert plan_in_history(history, target, read_at=2) == (False, None)  # live before the plan, not its doing
    assert plan_in_history(history, target) == (True, None)  # where the read revision is not known
    rolled_back = [Revision(1, after, "t1"), Revision(2, before, "t2"), Revision(3, after, "t3")]
    assert plan_in_history(rolled_back, before.canonical(), read_at=1) == (True, 1)  # applied, then changed
    assert [revision_number(text) for text in ("7", '"7"', 'W/"7"', "0", None, "abc", 7)] == [
        7,
        7,
        7,
        0,
        None,
        None,
        7,
    ]


def test_a_history_that_cannot_be_read_is_a_console_error_that_the_rollout_commands_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    import clinesync.cli.rollouts as rollouts
    from clinesync.cli.app import UserError
    from clinesync.consoles.base import ConsoleError
    from clinesync.plans.rollout_history import in_history

    from support import mocked

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"success": False, "error": "bad request"})

    console = HttpConsole("https://console.example.test", TOKEN, exchange=mocked(handler))
    with pytest.raises(ConsoleError, match="rejected the request") as raised:
        in_history(console, Organization(ORGS[0], "o.yaml", "moved"), "{}")

    def failing(*arguments: object) -> None:
        raise raised.value

    monkeypatch.setattr(rollouts, "_status", failing)
    with pytest.raises(UserError, match="rejected the request"):  # said as the command's error, no traceback
        rollouts.rollout_status(None, console, None)  # type: ignore[arg-type]


def test_a_console_without_revisions_holds_the_rollout_and_says_why() -> None:
    import httpx

    from clinesync.consoles.http import HttpConsole
    from clinesync.plans.rollout_history import with_times

    from support import mocked

    def handler(request: httpx.Request) -> httpx.Response:  # Cline's envelope, for any 404
        return httpx.Response(404, json={"success": False, "error": "Not Found"})

    console = HttpConsole("https://console.example.test", TOKEN, exchange=mocked(handler))
    applied = Organization(ORGS[0], "o.yaml", "applied")
    assert with_times(console, applied) == applied  # no revision times, and no error
    now = datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)
    held = decide([_wave("a", "applied"), _wave("b", "pending")], [], now)
    assert held.verdict == "holding" and "keeps no revision times" in held.reason


def test_a_wave_of_a_mass_change_cannot_be_made_small_by_editing_the_plan_file(fleet: dict[str, str]) -> None:
    env = fleet
    Path("clinesync.yaml").write_text(CONFIGURATION + "massChange: {share: 0.5}\n")
    assert run("plan", "--out", "p.plan", env=env).exit_code == 0
    plan = json.loads(Path("p.plan").read_text())
    plan["mass_change"] = []
    Path("p.plan").write_text(json.dumps(plan))
    refused = run("apply", "p.plan", "--wave", "canary", env=env)
    assert refused.exit_code == 1 and "--allow-mass-change" in refused.stderr


def test_a_rollout_whose_files_changed_since_is_superseded_not_stopped(
    fleet: dict[str, str], llm: FakeLLM
) -> None:
    env = fleet
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # the canary
    canary = Path("orgs/o00.yaml")
    canary.write_text(
        canary.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false")
    )  # a later merge
    result = run("rollout", "next", "p.plan", env=env)
    assert result.exit_code == 0 and "Superseded:" in result.stdout and "rollback" not in result.stdout
    assert sum(live_telemetry(env).values()) == 3


def test_a_console_edit_the_plan_leaves_alone_keeps_a_wave_applied(fleet: dict[str, str]) -> None:
    env = fleet
    Path("clinesync.yaml").write_text(CONFIGURATION + "unmanaged: [remoteConfig.mcpMarketplaceEnabled]\n")
    assert run("plan", "--out", "p.plan", env=env).exit_code == 0
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0

    with console_of(env) as console:  # an admin's edit of an unmanaged setting
        edit_live(console, ORGS[0], lambda config: config.update(mcpMarketplaceEnabled=True))
    found = status(env)
    assert (found["verdict"], found["waves"][0]["state"]) == ("holding", "applied")  # type: ignore[index]


def test_a_failing_check_of_a_wave_applied_out_of_order_stops_the_rollout(
    fleet: dict[str, str], llm: FakeLLM
) -> None:
    env = fleet
    assert run("apply", "p.plan", "--wave", "early", env=env).exit_code == 0  # skipping ahead, by hand
    whole = run("apply", "p.plan", env=env)  # the emergency whole apply, too late: says why
    assert whole.exit_code == 1 and "This plan has waves: once one of them is applied" in whole.stderr
    llm.stop()  # early's probe fails
    stopped = run("rollout", "next", "p.plan", env=env)
    assert stopped.exit_code == 1 and "Stopped: wave early: probe failed" in stopped.stdout
    assert sum(live_telemetry(env).values()) == 9  # the canary was not applied after all


def test_a_plan_that_reverts_a_change_rolls_out_and_so_does_the_change_planned_again(
    fleet: dict[str, str],
) -> None:
    """The plan's document live before the plan was made (a revert of a change, or the change again after a
    rollback) is not one the plan applied: only a revision after the one the plan read can be the plan's."""
    env = fleet
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # the canary turns telemetry on

    def files_say(telemetry: bool) -> None:
        for path in sorted(Path("orgs").glob("*.yaml")):
            text = path.read_text()
            path.write_text(
                text.replace(
                    f"telemetryEnabled: {str(not telemetry).lower()}",
                    f"telemetryEnabled: {str(telemetry).lower()}",
                )
            )

    files_say(False)  # `git revert`: the canary's three organizations go back to what they held before
    assert run("plan", "--out", "revert.plan", env=env).exit_code == 0
    reverted = run("rollout", "next", "revert.plan", env=env)
    assert reverted.exit_code == 0, reverted.output
    assert "changed back" not in reverted.stdout and "enabled: false" not in reverted.stdout
    assert not any(live_telemetry(env).values())
    files_say(True)  # the change again, fixed: its plan rolls out from the canary, as the first did
    assert run("plan", "--out", "again.plan", env=env).exit_code == 0
    again = run("rollout", "next", "again.plan", env=env)
    assert again.exit_code == 0 and "changed back" not in again.stdout, again.output
    assert [org for org, on in live_telemetry(env).items() if on] == ORGS[:3]


def test_a_later_plan_waits_for_the_canary_still_holding_an_earlier_plans_change(
    fleet: dict[str, str], console_server: RunningServer, llm: FakeLLM
) -> None:
    """The canary holds the change of p.plan; a later merge's plan changes nothing there (or, planned from the
    files the pull request changed, does not hold the canary at all), and must not take the held change to
    the other organizations before the canary's hold and checks have passed."""
    env = fleet
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # the canary takes telemetry on
    later = Path("orgs/o10.yaml")
    later.write_text(later.read_text() + "  mcpMarketplaceEnabled: false\n")  # an unrelated later merge
    assert (
        run("plan", "orgs/o10.yaml", "--out", "scoped.plan", env=env).exit_code == 0
    )  # as the workflow plans
    scoped = run("rollout", "next", "scoped.plan", env=env)
    assert scoped.exit_code == 0 and "Waiting: wave canary is holding until" in scoped.stdout, scoped.output
    assert run("plan", "--out", "later.plan", env=env).exit_code == 0
    found = json.loads(run("rollout", "status", "later.plan", "--format", "json", env=env).stdout)
    assert (found["verdict"], found["wave"]) == ("holding", "canary")
    canary = found["waves"][0]
    assert canary["state"] == "applied" and canary["holdPassed"] is False
    assert [org["beforePlan"] for org in canary["organizations"]] == [True, True, True]
    assert [(check["check"], check["passed"]) for check in canary["checks"]] == [
        ("drift", True),
        ("probe", True),
    ]
    waiting = run("rollout", "next", "later.plan", env=env)
    assert waiting.exit_code == 0 and "Waiting: wave canary is holding until" in waiting.stdout
    assert "canary  unchanged by this plan, as it is since" in waiting.stdout
    assert sum(live_telemetry(env).values()) == 3  # nothing more than the canary
    hold_passes(console_server)
    assert run("rollout", "next", "later.plan", env=env).exit_code == 0  # now the next wave
    assert sum(live_telemetry(env).values()) == 3 + 9
    llm.stop()  # the canary's probe fails: the later plan stops, and its way back is its own wave only
    stopped = json.loads(run("rollout", "status", "later.plan", "--format", "json", env=env).stdout)
    assert (stopped["verdict"], stopped["wave"]) == ("stopped", "canary")
    early = json.loads(Path("later.plan").read_text())["rollout"]["waves"][1]["organizations"]
    assert sorted(entry["organization"] for entry in stopped["rollback"]) == sorted(early)


def test_a_canary_put_back_stops_a_later_plan_that_would_take_its_change_on(
    fleet: dict[str, str], console_server: RunningServer
) -> None:
    env = fleet
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # the canary takes telemetry on
    assert run("plan", "--out", "later.plan", env=env).exit_code == 0  # the canary: nothing to change
    assert run("rollback", ORGS[0], "--to", "1", "--auto-approve", env=env).exit_code == 0  # it went wrong
    hold_passes(console_server)
    stopped = run("rollout", "next", "later.plan", env=env)
    assert stopped.exit_code == 1, stopped.output
    assert f"Stopped: {ORGS[0]} (orgs/o00.yaml): live is not what its files say" in stopped.stdout
    assert sum(live_telemetry(env).values()) == 2  # the change went no further


def test_a_wave_rolled_back_is_never_applied_again_and_an_edited_one_is_in_the_way_back(
    fleet: dict[str, str],
) -> None:
    env = fleet
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # the canary: 3 organizations
    edit = run("export", ORGS[1], env=env)  # an admin edits one canary organization since
    assert edit.exit_code == 0
    # neither the plan's document nor the one before it (put back as before, it would be rolled back already)
    with console_of(env) as console:
        edit_live(
            console,
            ORGS[1],
            lambda config: config["providerSettings"]["OpenAiCompatible"]["models"].append(
                {"id": "admin-pick"}
            ),
        )
    stopped = run("rollout", "status", "p.plan", "--format", "json", env=env)
    assert stopped.exit_code == 1
    way_back = {entry["organization"]: entry["to"] for entry in json.loads(stopped.stdout)["rollback"]}
    assert way_back == {ORGS[0]: 1, ORGS[1]: 1, ORGS[2]: 1}  # the edited one too: the plan applied it
    for organization in ORGS[:3]:
        assert run("rollback", organization, "--to", "1", "--auto-approve", env=env).exit_code == 0
    again = run("rollout", "next", "p.plan", env=env)  # the hourly job, after the rollback
    assert again.exit_code == 1 and "was changed back since (a rollback?)" in again.stdout
    assert not any(live_telemetry(env).values())


def test_the_way_back_leaves_out_what_was_rolled_back_and_restores_the_revision_the_plan_read(
    fleet: dict[str, str], console_server: RunningServer
) -> None:
    """A rollout rolled back in part: what is back as before the plan leaves the way back and the rollout
    stops, an admin's edit put back since is not what the way back restores, and the plan, rolled back
    whole, is never applied again: whole or by wave."""
    env = fleet
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # canary
    hold_passes(console_server)
    assert run("rollout", "next", "p.plan", env=env).exit_code == 0  # early
    plan = json.loads(Path("p.plan").read_text())
    waves = {wave["name"]: wave["organizations"] for wave in plan["rollout"]["waves"]}
    applied = waves["canary"] + waves["early"]

    rolled = waves["early"][:3]  # it went wrong there
    for organization in rolled:
        assert run("rollback", organization, "--to", "1", "--auto-approve", env=env).exit_code == 0
    # An admin edits one still applied, then puts it back (revisions 3 and 4): the way back is still revision 1.
    edited = waves["early"][3]
    with console_of(env) as console:
        for telemetry in (False, True):
            edit_live(console, edited, lambda config: config.update(telemetryEnabled=telemetry))  # noqa: B023
    found = status(env)
    assert (found["verdict"], found["exit_code"]) == ("stopped", 1)
    assert "was changed back since (a rollback?)" in str(found["reason"])
    way_back = {entry["organization"]: entry["to"] for entry in found["rollback"]}  # type: ignore[attr-defined]
    assert way_back == {organization: 1 for organization in applied if organization not in rolled}
    stopped = run("rollout", "next", "p.plan", env=env)
    assert stopped.exit_code == 1 and "was changed back since (a rollback?)" in stopped.stdout
    assert sum(live_telemetry(env).values()) == len(applied) - len(rolled)

    for organization in way_back:
        assert run("rollback", organization, "--to", "1", "--auto-approve", env=env).exit_code == 0
    assert not any(live_telemetry(env).values())
    assert status(env)["rollback"] == []
    for refused in (run("apply", "p.plan", env=env), run("apply", "p.plan", "--wave", "early", env=env)):
        assert refused.exit_code == 1, refused.output
        assert "was changed back since (a rollback?)" in refused.stderr
        assert "Nothing was written" in refused.stderr
    assert not any(live_telemetry(env).values())


def test_a_wave_applied_out_of_order_then_rolled_back_in_part_stops_the_rollout(
    fleet: dict[str, str],
) -> None:
    """`apply --wave rest` by hand, then part of it rolled back: `rollout next` must not go on with the canary
    as if nothing happened."""
    env = fleet
    assert run("apply", "p.plan", "--wave", "rest", env=env).exit_code == 0
    rest = next(
        wave for wave in json.loads(Path("p.plan").read_text())["rollout"]["waves"] if wave["name"] == "rest"
    )
    assert run("rollback", rest["organizations"][0], "--to", "1", "--auto-approve", env=env).exit_code == 0
    stopped = run("rollout", "next", "p.plan", env=env)
    assert stopped.exit_code == 1 and "was changed back since (a rollback?)" in stopped.stdout
    assert sum(live_telemetry(env).values()) == len(rest["organizations"]) - 1  # the canary was not applied
