"""The console contract: what every console (local SQLite today, HTTP next) must do. Each test takes the
`console` fixture; adding a console to CONSOLES runs the whole contract against it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clinesync.consoles.base import Conflict, Console
from clinesync.consoles.http import HttpConsole
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document

from support import TOKEN, start_server

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
OTHER = "org-01JZPE4CHW5XTP73W95762121Z"


def local(directory: Path) -> Iterator[Console]:
    console = LocalConsole(directory / "console.db")
    yield console
    console.close()


def http(directory: Path) -> Iterator[Console]:
    """The HTTP client against `clinesync serve`, over real sockets on 127.0.0.1."""
    running = start_server(directory / "served.db")
    console = HttpConsole(running.url, TOKEN, retries=0)
    yield console
    console.close()
    running.stop()


CONSOLES: dict[str, Callable[[Path], Iterator[Console]]] = {"local": local, "http": http}


@pytest.fixture(params=sorted(CONSOLES))
def console(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Console]:
    yield from CONSOLES[request.param](tmp_path)


def document(version: str = "v1", **fields: object) -> Document:
    return Document(True, {"version": version, **fields})


def test_an_unknown_organization_has_no_configuration(console: Console) -> None:
    assert console.read(ORG).document is None


def test_a_write_is_read_back_whole(console: Console) -> None:
    written = document(
        telemetryEnabled=True, providerSettings={"OpenAiCompatible": {"openAiBaseUrl": "https://x"}}
    )
    console.write(ORG, written, console.read(ORG).revision)
    assert console.read(ORG).document == written


def test_a_read_like_the_stored_text_shares_its_configuration_and_any_other_is_decoded(
    console: Console,
) -> None:
    """A plan reads each organization like its desired document: a fleet in sync is then read without
    decoding, and the live document is still what the console holds (its own `enabled` too)."""
    stored = document(telemetryEnabled=True)
    console.write(ORG, stored, console.read(ORG).revision)
    same = Document(True, {"version": "v1", "telemetryEnabled": True})
    assert console.read(ORG, like=same).document is same
    switched = Document(False, same.config)
    live = console.read(ORG, like=switched).document
    assert live == stored and live is not None and live.config is same.config
    other = document(telemetryEnabled=False)
    live = console.read(ORG, like=other).document
    assert live == stored and live is not None and live.config is not other.config


def test_every_write_is_a_new_numbered_revision(console: Console) -> None:
    for number in range(3):
        console.write(ORG, document(telemetryEnabled=number % 2 == 0), console.read(ORG).revision)
    history = console.history(ORG)
    assert [revision.number for revision in history] == [1, 2, 3]
    assert [revision.document.config["telemetryEnabled"] for revision in history] == [True, False, True]
    assert console.read(ORG).document == history[-1].document


def test_organizations_are_separate(console: Console) -> None:
    console.write(ORG, document(kanbanEnabled=True), None)
    assert console.read(OTHER).document is None
    assert console.history(OTHER) == []


def test_discovery_lists_every_organization_it_holds(console: Console) -> None:
    assert console.organizations() == []
    console.write(OTHER, document(), None)
    console.write(ORG, document(), None)
    assert sorted(found.id for found in console.organizations()) == [ORG, OTHER]


def test_a_write_against_a_stale_revision_is_refused(console: Console) -> None:
    first = console.read(ORG).revision
    console.write(ORG, document(kanbanEnabled=True), first)
    with pytest.raises(Conflict):
        console.write(ORG, document(kanbanEnabled=False), first)
    assert console.read(ORG).document == document(kanbanEnabled=True)
    assert len(console.history(ORG)) == 1


def test_concurrent_writers_never_lose_a_write(console: Console) -> None:
    """Eight writers each read-modify-write their own rule, retrying on conflict: every rule survives."""

    def writer(index: int) -> None:
        while True:
            live = console.read(ORG)
            config = dict(live.document.config) if live.document else {"version": "v1"}
            rule = {"name": f"rule{index}", "alwaysEnabled": True, "contents": "x"}
            config["globalRules"] = [*config.get("globalRules", []), rule]
            try:
                console.write(ORG, Document(True, config), live.revision)
                return
            except Conflict:
                continue

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    final = console.read(ORG).document
    assert final is not None
    assert {rule["name"] for rule in final.config["globalRules"]} == {f"rule{index}" for index in range(8)}
    assert len(console.history(ORG)) == 8
