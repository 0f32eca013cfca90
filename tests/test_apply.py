"""Apply's guarantees against consoles that misbehave."""

from __future__ import annotations

from pathlib import Path

from clinesync.consoles.base import Live, WritesUnsupported
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.plans.apply import apply_plan
from clinesync.plans.plan import make_plan

from support import write


class DroppingConsole(LocalConsole):
    """Acknowledges every write but stores the document without `telemetryEnabled`, as a console that
    normalises or drops a field would."""

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
        config = {key: value for key, value in document.config.items() if key != "telemetryEnabled"}
        return super().write(organization, Document(document.enabled, config), if_match)


class ReadOnlyConsole(LocalConsole):
    writes = 0

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
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
