"""Two applies to one organization never lose a write: every acknowledged write is a revision, and a write
based on a stale read is refused, never silently overwriting the other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clinesync.apply import apply_plan
from clinesync.consoles.local import LocalConsole
from clinesync.plan import make_plan

from conftest import write

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
            applied += output.count(": applied (revision")
            refused += output.count("changed in the console since it was read")
            in_sync += output.count("No changes. Live state matches the files.")
            assert process.returncode in (0, 1), output
    console = LocalConsole(in_tmp / "console.db")
    history = console.history(ORG)
    console.close()
    assert applied == len(history) >= 5, outputs
    assert applied + refused + in_sync == 10, outputs
    assert [revision.number for revision in history] == list(range(1, len(history) + 1))
