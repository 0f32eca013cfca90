"""Apply's guarantees against consoles that misbehave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinesync.consoles.base import ConsoleError, Live, NotAttempted, WritesUnsupported
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.plans.apply import UNDER_WAY, ApplyInterrupted, apply_plan
from clinesync.plans.plan import make_plan

from support import write

Writes = list[tuple[str, Document, str | None]]


class DroppingConsole(LocalConsole):
    """Acknowledges every write but stores the document without `telemetryEnabled`, as a console that
    normalises or drops a field would. (Writes of the embedded console go through `write_many`.)"""

    def write_many(self, writes: Writes) -> list[Live | ConsoleError]:
        dropped = [
            (
                organization,
                Document(
                    document.enabled, {k: v for k, v in document.config.items() if k != "telemetryEnabled"}
                ),
                if_match,
            )
            for organization, document, if_match in writes
        ]
        return super().write_many(dropped)


class ReadOnlyConsole(LocalConsole):
    writes = 0

    def write_many(self, writes: Writes) -> list[Live | ConsoleError]:
        ReadOnlyConsole.writes += 1
        raise WritesUnsupported("the console answered PUT with 405: it has no write endpoint")


def files(directory: Path, count: int) -> list[str]:
    return [
        str(
            write(
                directory / f"{index}.yaml",
                f"organization: org-01JZPE4CHW5XTP73W9576212{index:02d}\nremoteConfig:\n  telemetryEnabled: true\n",
            )
        )
        for index in range(count)
    ]


def test_verification_catches_a_console_that_stores_something_else(tmp_path: Path) -> None:
    console = DroppingConsole(tmp_path / "console.db")
    [result] = apply_plan(make_plan(files(tmp_path, 1), console, {}), console)
    assert result.outcome == "failed"
    assert result.error == "apply not verified: the console stored something other than what was written"
    assert [(change.op, change.where) for change in result.unverified] == [
        ("add", "remoteConfig.telemetryEnabled")
    ]


def test_a_console_that_refuses_writes_stops_the_rest(tmp_path: Path) -> None:
    console = ReadOnlyConsole(tmp_path / "console.db")
    results = apply_plan(make_plan(files(tmp_path, 3), console, {}), console)
    assert [result.outcome for result in results] == ["failed", "not attempted", "not attempted"]
    assert ReadOnlyConsole.writes == 1


class CountingConsole(LocalConsole):
    transactions = 0

    def write_many(self, writes: Writes) -> list[Live | ConsoleError]:
        CountingConsole.transactions += 1
        return super().write_many(writes)


def test_the_embedded_console_takes_an_apply_in_batches_each_one_transaction(tmp_path: Path) -> None:
    """600 organizations: three transactions (one sync to disk each), not 600; each write still verified by
    its own read, and every organization applied once."""
    console = CountingConsole(tmp_path / "console.db")
    results = apply_plan(make_plan(files(tmp_path, 600), console, {}), console)
    assert CountingConsole.transactions == 3
    assert [result.outcome for result in results] == ["applied"] * 600
    assert all(len(console.history(result.plan.organization or "")) == 1 for result in results)


class FailingSecondBatch(LocalConsole):
    batches = 0

    def write_many(self, writes: Writes) -> list[Live | ConsoleError]:
        FailingSecondBatch.batches += 1
        if FailingSecondBatch.batches == 2:
            raise ConsoleError("local console: disk I/O error")  # the transaction fails whole
        return super().write_many(writes)


def test_a_batch_whose_transaction_fails_is_failed_whole_and_the_batches_before_it_stay_applied(
    tmp_path: Path,
) -> None:
    """Half-way: the first batch committed is reported applied; the failed one is failed for each of its
    organizations and wrote none of them; the next batch is still written."""
    console = FailingSecondBatch(tmp_path / "console.db")
    results = apply_plan(make_plan(files(tmp_path, 600), console, {}), console)
    outcomes = [result.outcome for result in results]
    assert outcomes == ["applied"] * 256 + ["failed"] * 256 + ["applied"] * 88
    assert all(result.error == "local console: disk I/O error" for result in results[256:512])
    written = [len(console.history(result.plan.organization or "")) for result in results]
    assert written == [1] * 256 + [0] * 256 + [1] * 88


class GoneAfterWriting(LocalConsole):
    """Takes each write, then is gone before the read that verifies it (killed mid-apply)."""

    gone = False

    def read(self, organization: str, like: Document | None = None) -> Live:
        if self.gone:
            raise NotAttempted("not attempted: console unreachable (connection refused)")
        return super().read(organization)


class GoneAfterWritingOneByOne(GoneAfterWriting):
    """The same, written one organization at a time from threads, as an HTTP console is."""

    inline = False
    write_many = None  # type: ignore[assignment]

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
        [written] = LocalConsole.write_many(self, [(organization, document, if_match)])
        assert not isinstance(written, ConsoleError)
        return written


@pytest.mark.parametrize("kind", [GoneAfterWriting, GoneAfterWritingOneByOne])
def test_a_write_the_console_took_is_never_reported_not_attempted(tmp_path: Path, kind: type) -> None:
    console = kind(tmp_path / "console.db")
    plan = make_plan(files(tmp_path, 3), console, {})
    console.gone = True
    results = apply_plan(plan, console, parallelism=2)
    console.gone = False
    for result in results:
        assert result.plan.organization is not None
        assert console.read(result.plan.organization).revision == "1"  # written
        assert (result.outcome, result.revision) == ("failed", "1")
        assert result.error == (
            "written (revision 1), but not verified: the read after it failed: console unreachable "
            "(connection refused)"
        )


def test_an_organization_whose_read_was_never_sent_is_not_attempted_not_failed(tmp_path: Path) -> None:
    """The console settled down while the plan read: the organizations not read were never asked anything."""

    class DownWhilePlanning(LocalConsole):
        def read(self, organization: str, like: Document | None = None) -> Live:
            if organization.endswith("01"):
                raise NotAttempted("not attempted: console unreachable (connection refused)")
            return super().read(organization)

    console = DownWhilePlanning(tmp_path / "console.db")
    results = apply_plan(make_plan(files(tmp_path, 2), console, {}), console)
    assert [(result.outcome, result.error) for result in results] == [
        ("applied", None),
        ("not attempted", "console unreachable (connection refused)"),
    ]


class InterruptedInSecondBatch(LocalConsole):
    """Ctrl-C lands while the second batch is being written."""

    batches = 0

    def write_many(self, writes: Writes) -> list[Live | ConsoleError]:
        InterruptedInSecondBatch.batches += 1
        if InterruptedInSecondBatch.batches == 2:
            raise KeyboardInterrupt
        return super().write_many(writes)


class InterruptedAtTheThirdWrite(GoneAfterWritingOneByOne):
    """Ctrl-C lands while the third write, one at a time, is under way."""

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
        if organization.endswith("02"):
            raise KeyboardInterrupt
        return super().write(organization, document, if_match)


def test_an_interrupted_apply_says_what_each_organization_came_to(tmp_path: Path) -> None:
    """Batched: the batch written before stays applied, the one under way may have been taken, the rest were
    never attempted; one at a time: likewise for each write."""
    InterruptedInSecondBatch.batches = 0
    console = InterruptedInSecondBatch(tmp_path / "batched.db")
    with pytest.raises(ApplyInterrupted) as batched:
        apply_plan(make_plan(files(tmp_path / "a", 600), console, {}), console)
    outcomes = [result.outcome for result in batched.value.results]
    assert outcomes == ["applied"] * 256 + ["failed"] * 256 + ["not attempted"] * 88
    assert batched.value.results[256].error == UNDER_WAY.args[0]
    assert batched.value.results[512].error == "the run was interrupted first"
    assert isinstance(batched.value.interruption, KeyboardInterrupt)

    console = InterruptedAtTheThirdWrite(tmp_path / "alone.db")
    with pytest.raises(ApplyInterrupted) as alone:
        apply_plan(make_plan(files(tmp_path / "b", 5), console, {}), console, parallelism=1)
    assert [(result.outcome, result.revision) for result in alone.value.results] == [
        ("applied", "1"),
        ("applied", "1"),
        ("failed", None),
        ("not attempted", None),
        ("not attempted", None),
    ]


def test_once_the_run_is_interrupted_no_write_begins(tmp_path: Path) -> None:
    """A worker thread about to write when the run is interrupted: either the report counts it under way, or
    it never writes; never reported not attempted and written."""
    from clinesync.plans.apply import _Ledger

    console = LocalConsole(tmp_path / "console.db")
    first, second = make_plan(files(tmp_path, 2), console, {}).organizations
    ledger = _Ledger()
    ledger.begin(first)
    outcomes = ledger.interrupted([first, second])
    assert outcomes[id(first)] is UNDER_WAY and isinstance(outcomes[id(second)], NotAttempted)
    with pytest.raises(NotAttempted, match="the run was interrupted first"):
        ledger.begin(second)


def test_a_signal_landing_as_a_batch_commits_is_the_signal_and_the_batch_stays_written(
    tmp_path: Path,
) -> None:
    """Ctrl-C arriving while COMMIT syncs to disk is raised once COMMIT returns: the run ends as interrupted,
    with the batch under way (it was taken), never as a failed transaction that let the run go on."""
    import sqlite3

    class SignalAfterCommit(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            cursor = super().execute(sql, *args)
            if sql == "COMMIT":
                raise KeyboardInterrupt
            return cursor

    class Console(LocalConsole):
        def _open(self) -> sqlite3.Connection:
            return sqlite3.connect(self.path, isolation_level=None, factory=SignalAfterCommit)

    console = Console(tmp_path / "console.db")
    plan = make_plan(files(tmp_path, 3), console, {})
    with pytest.raises(ApplyInterrupted) as interrupted:
        apply_plan(plan, console)
    assert [result.outcome for result in interrupted.value.results] == ["failed"] * 3
    assert all("under way" in (result.error or "") for result in interrupted.value.results)
    written = LocalConsole(tmp_path / "console.db")
    assert [len(written.history(result.plan.organization or "")) for result in interrupted.value.results] == [
        1
    ] * 3


class InterruptedWhileVerifying(LocalConsole):
    """Takes each write; Ctrl-C lands during the read that verifies the first."""

    verifying = False

    def read(self, organization: str, like: Document | None = None) -> Live:
        if self.verifying:
            raise KeyboardInterrupt
        return super().read(organization)


class InterruptedWhileVerifyingOneByOne(InterruptedWhileVerifying, GoneAfterWritingOneByOne):
    pass


@pytest.mark.parametrize("kind", [InterruptedWhileVerifying, InterruptedWhileVerifyingOneByOne])
def test_a_write_the_console_acknowledged_before_the_interruption_is_reported_written(
    tmp_path: Path, kind: type
) -> None:
    console = kind(tmp_path / "console.db")
    plan = make_plan(files(tmp_path, 3), console, {})
    console.verifying = True
    with pytest.raises(ApplyInterrupted) as interrupted:
        apply_plan(plan, console, parallelism=1)
    first = interrupted.value.results[0]
    assert (first.outcome, first.revision) == ("failed", "1")
    assert (
        first.error
        == "written (revision 1), but not verified: the read after it failed: the run was interrupted first"
    )
