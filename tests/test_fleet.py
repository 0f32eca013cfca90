"""Fleets (SPEC §7): many organizations per run, concurrent but bounded, in path order, each one isolated."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from clinesync.cli import app
from clinesync.consoles.base import ConsoleError, Live
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.plans.apply import apply_plan
from clinesync.plans.plan import make_plan

from support import TOKEN, RunningServer, run, write


def org(index: int) -> str:
    return f"org-01JZPE4CHW5XTP73W9576{index:05d}"


def fleet(directory: Path, count: int, telemetry: bool = True) -> list[str]:
    return [
        str(
            write(
                directory / f"org-{index:03d}.yaml",
                f"organization: {org(index)}\nremoteConfig:\n  telemetryEnabled: {str(telemetry).lower()}\n",
            )
        )
        for index in range(count)
    ]


class NetworkLike(LocalConsole):
    """A local database that stands in for a console over the network: its reads go to the thread pool."""

    @property
    def inline(self) -> bool:
        return False


class ShuffledConsole(NetworkLike):
    """Answers reads after a random delay, so they complete out of order."""

    def read(self, organization: str, like: Document | None = None) -> Live:
        time.sleep(random.uniform(0, 0.02))
        return super().read(organization)


class BarrierConsole(NetworkLike):
    """Each read waits until `parties` reads are in flight at once: it only passes if reads are concurrent."""

    def __init__(self, path: Path, parties: int) -> None:
        super().__init__(path)
        self.barrier = threading.Barrier(parties, timeout=10)
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def read(self, organization: str, like: Document | None = None) -> Live:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.barrier.parties > 1:
                self.barrier.wait()
            return super().read(organization)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_results_are_in_path_order_whatever_the_completion_order(tmp_path: Path) -> None:
    files = fleet(tmp_path / "orgs", 40)
    plan = make_plan(files, ShuffledConsole(tmp_path / "c.db"), {}, parallelism=16)
    assert [item.file for item in plan.organizations] == files


def test_reads_run_concurrently_up_to_the_bound(tmp_path: Path) -> None:
    console = BarrierConsole(tmp_path / "c.db", parties=8)
    make_plan(fleet(tmp_path / "orgs", 16), console, {}, parallelism=8)  # would time out if reads were serial
    assert console.most_in_flight == 8


def test_a_local_console_is_read_inline_whatever_the_parallelism(tmp_path: Path) -> None:
    import threading

    readers: set[int] = set()

    class Recording(LocalConsole):
        def read(self, organization: str, like: Document | None = None) -> Live:
            readers.add(threading.get_ident())
            return super().read(organization)

    make_plan(fleet(tmp_path / "orgs", 20), Recording(tmp_path / "c.db"), {}, parallelism=16)
    assert readers == {threading.get_ident()}  # threads would only contend for one database


def test_parallelism_1_reads_one_at_a_time(tmp_path: Path) -> None:
    console = BarrierConsole(tmp_path / "c.db", parties=1)
    make_plan(fleet(tmp_path / "orgs", 6), console, {}, parallelism=1)
    assert console.most_in_flight == 1


class FlakyConsole(LocalConsole):
    """Fails reads of one organization and writes of another."""

    def read(self, organization: str, like: Document | None = None) -> Live:
        if organization == org(1):
            raise ConsoleError(f"{organization}: cannot reach the console (connection refused)")
        return super().read(organization)

    def write_many(self, writes: list[tuple[str, Document, str | None]]) -> list[Live | ConsoleError]:
        results: list[Live | ConsoleError] = []
        for organization, document, if_match in writes:
            if organization == org(2):
                results.append(ConsoleError(f"{organization}: the console answered 500"))
            else:
                results += super().write_many([(organization, document, if_match)])
        return results


def test_one_organizations_failure_leaves_the_others(tmp_path: Path) -> None:
    files = fleet(tmp_path / "orgs", 5)
    write(Path(files[3]), "organization: not-an-id\n")
    console = FlakyConsole(tmp_path / "c.db")
    plan = make_plan(files, console, {})
    assert [item.action for item in plan.organizations] == ["create", "failed", "create", "failed", "create"]
    results = apply_plan(plan, console)
    assert [result.outcome for result in results] == ["applied", "failed", "failed", "failed", "applied"]


def test_cli_summaries_carry_every_organizations_result(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 3)
    write(in_tmp / "orgs" / "org-001.yaml", "organization: org-01JZPE4CHW5XTP73W957600001\nenabled: maybe\n")
    applied = run("apply", "orgs", "--auto-approve")
    assert applied.exit_code == 1
    assert "Apply complete: 2 applied, 0 unchanged, 1 failed, 0 not attempted." in applied.stdout
    report = json.loads(run("plan", "orgs", "--format", "json").stdout)
    assert [entry["action"] for entry in report["organizations"]] == ["no-op", "failed", "no-op"]
    assert report["summary"]["failed"] == 1
    markdown = run("drift", "orgs", "--format", "markdown").stdout
    assert "❌ `org-01JZPE4CHW5XTP73W957600001 (orgs/org-001.yaml)` failed" in markdown
    # Two errors: the review reads the first and where it is, and how many more (validate lists them).
    write(
        in_tmp / "orgs" / "org-001.yaml",
        "organization: org-01JZPE4CHW5XTP73W957600001\nenabled: maybe\nname: 7\n",
    )
    [failed] = [
        entry
        for entry in json.loads(run("plan", "orgs", "--format", "json").stdout)["organizations"]
        if entry["action"] == "failed"
    ]
    assert failed["error"].startswith("enabled: ") and failed["error"].endswith(
        "(orgs/org-001.yaml:2:10), and 1 more error"
    )


def test_shard_takes_every_nth_from_the_kth(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 5)
    report = json.loads(run("plan", "orgs", "--shard", "2/2", "--format", "json").stdout)
    assert [entry["file"] for entry in report["organizations"]] == ["orgs/org-001.yaml", "orgs/org-003.yaml"]
    shards = [
        json.loads(run("validate", "orgs", "--shard", f"{k}/3", "--format", "json").stdout)["files"]
        for k in (1, 2, 3)
    ]
    assert sorted(name for shard in shards for name in shard) == sorted(
        f"orgs/org-{i:03d}.yaml" for i in range(5)
    )


def test_shards_deal_organizations_and_a_base_is_no_shards_organization(in_tmp: Path) -> None:
    """The layout export writes: a shared base beside the organizations. Each shard takes every N-th
    organization whatever bases sort among them, and a base extended only by another shard's organizations is
    not that shard's organization without its `organization:` (a false CS100 failed the sharded drift job)."""
    write(in_tmp / "orgs" / "bases" / "shared.yaml", "remoteConfig:\n  telemetryEnabled: true\n")
    ids = [f"org-01JZPE4CHW5XTP73W95760000{index}" for index in range(4)]
    write(in_tmp / "orgs" / "o0.yaml", f"organization: {ids[0]}\nextends: [bases/shared.yaml]\n")
    for index in range(1, 4):
        write(in_tmp / "orgs" / f"o{index}.yaml", f"organization: {ids[index]}\n")
    for command in ("validate", "drift"):
        for k, expected in ((1, ["orgs/o0.yaml", "orgs/o2.yaml"]), (2, ["orgs/o1.yaml", "orgs/o3.yaml"])):
            result = run(command, "orgs", "--shard", f"{k}/2", "--format", "json")
            assert result.exit_code in (0, 2) and "CS100" not in result.output, result.output
            report = json.loads(result.stdout)
            files = report["files"] if command == "validate" else [o["file"] for o in report["organizations"]]
            assert files == expected
    # A file that declares no organization and that nothing names (its `organization:` line lost) is reported
    # by one shard, as a whole run reports it; an organization written in flow style is one shard's.
    write(in_tmp / "orgs" / "stray.yaml", "remoteConfig:\n  telemetryEnabled: false\n")
    # Named like the base, extended by nothing: whose name a file says is not what makes a base.
    write(in_tmp / "orgs" / "shared.yaml", "remoteConfig:\n  telemetryEnabled: false\n")
    write(in_tmp / "orgs" / "flow.yaml", '{"organization": "org-01JZPE4CHW5XTP73W957000009"}\n')
    whole = run("validate", "orgs").output
    assert "orgs/stray.yaml" in whole and "orgs/shared.yaml" in whole
    shards = [run("validate", "orgs", "--shard", f"{k}/3", "--format", "json") for k in (1, 2, 3)]
    reported = [{problem["file"] for problem in json.loads(shard.stdout)["problems"]} for shard in shards]
    assert sorted(name for files in reported for name in files) == ["orgs/shared.yaml", "orgs/stray.yaml"]
    checked = [name for shard in shards for name in json.loads(shard.stdout)["files"]]
    assert sorted(checked) == sorted(
        ["orgs/flow.yaml", "orgs/shared.yaml", "orgs/stray.yaml", *(f"orgs/o{i}.yaml" for i in range(4))]
    )


def test_an_empty_shard_reads_nothing_and_says_so(in_tmp: Path) -> None:
    """More shards than files (a fixed matrix over a small fleet): not "live matches the files"."""
    fleet(in_tmp / "orgs", 2)
    for command in ("plan", "drift"):
        empty = run(command, "orgs", "--shard", "3/3")
        assert empty.exit_code == 0
        assert "No organization files to compare with live: nothing was read." in empty.stdout
        assert "matches" not in empty.output
        markdown = run(command, "orgs", "--shard", "3/3", "--format", "markdown").stdout
        assert "nothing was read" in markdown and "matches" not in markdown


@pytest.mark.parametrize("shard", ["0/2", "3/2", "2", "a/b", "1/0"])
def test_a_bad_shard_is_a_usage_error(in_tmp: Path, shard: str) -> None:
    fleet(in_tmp / "orgs", 2)
    result = run("plan", "orgs", "--shard", shard)
    assert result.exit_code == 1 and "K/N with 1 <= K <= N" in result.stderr


def test_progress_shows_only_on_a_terminal_and_for_more_than_one(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []

    class Recorder:
        settings = app.Settings()

        def err(self, text: str) -> None:
            shown.append(text)

    monkeypatch.setattr(app.sys.stderr, "isatty", lambda: False, raising=False)
    assert app.progress(Recorder(), "Reading") is None  # type: ignore[arg-type]
    monkeypatch.setattr(app.sys.stderr, "isatty", lambda: True, raising=False)
    show = app.progress(Recorder(), "Reading")  # type: ignore[arg-type]
    assert show is not None
    show(1, 1)
    assert shown == []
    show(1, 2)
    show(2, 2)
    assert shown == ["\rReading: 1/2", "\rReading: 2/2\n"]


def test_no_progress_in_captured_output(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 3)
    assert "\r" not in run("plan", "orgs").stderr


def test_one_read_per_organization_and_writes_only_for_changes(
    in_tmp: Path, console_server: RunningServer
) -> None:
    env = {"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": TOKEN}
    files = fleet(in_tmp / "orgs", 20)
    requests = console_server.server.requests

    def counted(*args: str) -> tuple[int, int]:
        before = dict(requests)
        assert run(*args, env=env).exit_code in (0, 2)
        return requests["GET"] - before["GET"], requests["PUT"] - before["PUT"]

    assert counted("plan", "orgs") == (20, 0)
    assert counted("apply", "orgs", "--auto-approve") == (
        20 + 20,
        20,
    )  # read, then a verifying read per write
    for name in files[:5]:
        Path(name).write_text(Path(name).read_text().replace("true", "false"))
    assert counted("apply", "orgs", "--auto-approve") == (20 + 5, 5)
    assert counted("drift", "orgs") == (20, 0)
    assert counted("apply", "orgs", "--auto-approve") == (20, 0)


def test_apply_writes_over_the_connections_its_reads_opened(
    in_tmp: Path, console_server: RunningServer
) -> None:
    env = {"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": TOKEN}
    fleet(in_tmp / "orgs", 24)
    assert run("apply", "orgs", "--auto-approve", "--parallelism", "4", env=env).exit_code == 0
    assert console_server.server.requests["PUT"] == 24
    assert console_server.server.connections <= 4  # reads, writes and verifying reads: one pool of four


def test_verbose_lists_the_organizations_without_changes(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 2)
    run("apply", "orgs", "--auto-approve")
    assert "matches its file" not in run("plan", "orgs").stdout
    verbose = run("-v", "plan", "orgs").stdout
    assert f"{org(0)} (orgs/org-000.yaml) matches its file." in verbose
    assert f"{org(1)} (orgs/org-001.yaml) matches its file." in verbose


def test_the_organization_line_is_found_across_pieces_and_no_further_than_a_mebibyte(tmp_path: Path) -> None:
    from clinesync.files.paths import declared_organization

    late = write(tmp_path / "late.yaml", "#" * 70_000 + "\norganization: org-01JZPE4CHW5XTP73W957000001\n")
    too_late = write(tmp_path / "too-late.yaml", "#" * (1024 * 1024) + "\norganization: org-2\n")
    assert declared_organization(str(late)) == "org-01JZPE4CHW5XTP73W957000001"
    assert declared_organization(str(too_late)) is None
    assert declared_organization(str(tmp_path / "absent.yaml")) is None


def test_a_link_that_leads_nowhere_is_reported_where_it_is_never_passed_over(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "ok.yaml", "organization: org-01JZPE4CHW5XTP73W957000001\n")
    (in_tmp / "orgs" / "loop.yaml").symlink_to("loop.yaml")
    (in_tmp / "orgs" / "dangling.yaml").symlink_to("gone.yaml")
    result = run("validate", "orgs")
    assert result.exit_code == 1 and "3 files checked" in result.stderr, result.output
    assert (
        "orgs/loop.yaml:1:1: error: cannot read the file: Too many levels of symbolic links [CS103]"
        in result.stdout
    )
    assert (
        "orgs/dangling.yaml:1:1: error: cannot read the file: No such file or directory [CS103]"
        in result.stdout
    )
    named = run("validate", "orgs/loop.yaml")
    assert (
        named.stderr
        == "Error: orgs/loop.yaml: a symbolic link that leads nowhere (its target is missing, or a loop)\n"
    )
