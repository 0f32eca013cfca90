"""Two applies to one organization never lose a write: every acknowledged write is a revision, and a write
based on a stale read is refused, never silently overwriting the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from clinesync.consoles.local import LocalConsole
from clinesync.plans.apply import apply_plan
from clinesync.plans.plan import make_plan

from support import write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"


def org_file(path: Path, telemetry: bool, model: str) -> str:
    write(
        path,
        f"organization: {ORG}\nremoteConfig:\n  telemetryEnabled: {str(telemetry).lower()}\n"
        f"  providerSettings:\n    Cline:\n      models: [{{id: {model}}}]\n",
    )
    return str(path)


def test_the_second_of_two_applies_from_the_same_read_is_refused(in_tmp: Path) -> None:
    console = LocalConsole("console.db")
    first = make_plan([org_file(in_tmp / "a.yaml", True, "a")], console, {})
    second = make_plan([org_file(in_tmp / "b.yaml", False, "b")], console, {})
    [won] = apply_plan(first, console)
    [lost] = apply_plan(second, console)
    assert won.outcome == "applied"
    assert lost.outcome == "failed" and "changed in the console since it was read" in (lost.error or "")
    assert [revision.number for revision in console.history(ORG)] == [1]
    assert console.read(ORG).document == first.organizations[0].target
    console.close()


def test_racing_processes_never_lose_an_acknowledged_write(in_tmp: Path) -> None:
    files = [org_file(in_tmp / f"{index}.yaml", index == 0, f"model-{index}") for index in range(2)]
    env = {**os.environ, "CLINESYNC_CONSOLE": str(in_tmp / "console.db")}
    applied = refused = in_sync = 0
    outputs: list[str] = []
    for _ in range(5):  # bounded: 10 processes in all
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "clinesync", "apply", name, "--auto-approve"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name in files
        ]
        for process in processes:
            output, _ = process.communicate(timeout=60)
            outputs.append(output)
            # one organization a process; a refusal is in the report and, as an error, on stderr too
            applied += ": applied (revision" in output
            refused += "changed in the console since it was read" in output
            in_sync += "No changes. Live state matches the files." in output
            assert process.returncode in (0, 1), output
    console = LocalConsole(in_tmp / "console.db")
    history = console.history(ORG)
    console.close()
    assert applied == len(history) >= 5, outputs
    assert applied + refused + in_sync == 10, outputs
    assert [revision.number for revision in history] == list(range(1, len(history) + 1))


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    """First use by several processes at the same moment: each must open it, none may see "locked"."""
    go = tmp_path / "go"
    # Each process imports, then waits for `go`, so all open the database within a millisecond of each other.
    script = (
        "import os, sys, time\n"
        "from clinesync.consoles.local import LocalConsole\n"
        "deadline = time.monotonic() + 20\n"
        "while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:\n"
        "    time.sleep(0.0005)\n"
        f"LocalConsole(sys.argv[1]).read('{ORG}')\n"
    )
    for round_number in range(2):  # bounded: 16 processes in all
        database = tmp_path / f"fresh{round_number}" / "console.db"
        go.unlink(missing_ok=True)
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(database), str(go)], stderr=subprocess.PIPE, text=True
            )
            for _ in range(8)
        ]
        time.sleep(1.0)  # every process reaches its wait
        go.touch()
        errors = [process.communicate(timeout=60)[1] for process in processes]
        assert [process.returncode for process in processes] == [0] * 8, errors


def test_threads_giving_connections_back_together_never_keep_more_than_the_pool_holds(tmp_path: Path) -> None:
    import threading

    from clinesync.consoles import local

    class Pausing(list):  # type: ignore[type-arg]
        """The pool's list, yielding to other threads whenever its length is asked: a check-then-append race
        shows at once instead of once in many runs."""

        def __len__(self) -> int:
            length = super().__len__()
            time.sleep(0.001)  # the length read, then other threads run before the caller acts on it
            return length

    console = LocalConsole(tmp_path / "console.db", wal=True)
    console._idle = Pausing(console._idle)
    holding = threading.Barrier(40)

    def reader() -> None:
        with console._connected():
            holding.wait(timeout=30)  # all 40 hold a connection at once, then give them back together

    threads = [threading.Thread(target=reader) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert list.__len__(console._idle) <= local._KEPT_OPEN
    finally:
        console.close()
