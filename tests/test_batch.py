"""A fleet is checked in worker processes: the same results, in the same order, as checking in one."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinesync.files import batch

from support import EXAMPLES, run, write


def fleet(root: Path) -> None:
    template = (EXAMPLES / "org.yaml").read_text()
    for number in range(40):
        text = template.replace("95762121Y", f"9576{number:04d}Y").replace(
            "X-Tenant-Id: acme", f"X-Tenant-Id: t{number}"
        )
        write(root / "orgs" / f"org-{number:03d}.yaml", text)
    write(root / "orgs" / "org-005.yaml", template.replace("95762121Y", "95760004Y"))  # declared twice
    write(root / "orgs" / "org-017.yaml", "organization: org-01JZPE4CHW5XTP73W95760017Y\nenabled: maybe\n")
    write(root / "orgs" / "z-base.yaml", "remoteConfig:\n  telemetryEnabled: true\n")
    write(
        root / "orgs" / "org-030.yaml",
        "organization: org-01JZPE4CHW5XTP73W95760030Y\nextends: [z-base.yaml]\n",
    )


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_worker_processes_give_what_one_process_gives(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    fleet(in_tmp)
    env = {"AZURE_OPENAI_KEY": "key-planted-in-the-environment"}
    alone = run(command, "orgs", env=env)
    monkeypatch.setattr(batch, "POOL_FROM", 10)
    monkeypatch.setattr(batch, "_CHUNK", 4)
    monkeypatch.setattr(batch, "_HEAD_START", 2)
    pooled = run(command, "orgs", env=env)
    assert (pooled.exit_code, pooled.stdout, pooled.stderr) == (alone.exit_code, alone.stdout, alone.stderr)
    assert (
        "org-005.yaml:6:15: error: organization org-01JZPE4CHW5XTP73W95760004Y is also declared"
        in alone.output
    )
    assert "org-017.yaml:2:10: error" in alone.output and "z-base.yaml:1:1" not in alone.output
    assert "orgs/z-base.yaml)" not in alone.output  # a base, not an organization
    assert "key-planted-in-the-environment" not in alone.output


def test_workers_that_cannot_start_leave_the_checking_to_this_process(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    fleet(in_tmp)
    alone = run("validate", "orgs")
    monkeypatch.setattr(batch, "POOL_FROM", 10)
    monkeypatch.setattr(batch, "_CHUNK", 4)
    monkeypatch.setattr(batch, "_HEAD_START", 2)
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__spec__", None, raising=False)
    monkeypatch.setattr(main, "__file__", str(in_tmp / "gone" / "main.py"), raising=False)
    assert not batch._workers_can_start()  # what the parent sees: it does not try
    monkeypatch.setattr(batch, "_workers_can_start", lambda: True)  # and if it did, they would die at start
    broken = run("validate", "orgs")
    assert (broken.exit_code, broken.stdout) == (alone.exit_code, alone.stdout)
    assert "40 files checked" in broken.stderr


@pytest.mark.parametrize("share", [True, False])
def test_files_come_in_path_order_whoever_checks_them(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, share: bool
) -> None:
    fleet(in_tmp)
    paths = sorted(str(path) for path in (in_tmp / "orgs").glob("*.yaml"))
    alone = [(checked.path, checked.problems) for checked in batch.iter_checked(paths)]
    monkeypatch.setattr(batch, "POOL_FROM", 10)
    monkeypatch.setattr(batch, "_CHUNK", 4)
    monkeypatch.setattr(batch, "_HEAD_START", 2)
    monkeypatch.setattr(batch, "_WINDOW", 3)  # several windows, the last one short
    monkeypatch.setattr(batch, "_FIRST_CHUNK", 3)  # the first chunk shorter than the others
    pooled = [(checked.path, checked.problems) for checked in batch.iter_checked(paths, share=share)]
    assert pooled == alone and len(alone) == 40  # every organization once; the base is not one


def test_a_fleet_checked_by_forked_workers_gives_what_one_process_gives(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    fleet(in_tmp)
    template = (EXAMPLES / "org.yaml").read_text()
    count = batch.POOL_FROM + 20  # enough files for the pool, checked in a process of one thread
    for number in range(40, count):
        write(in_tmp / "orgs" / f"org-{number:03d}.yaml", template.replace("95762121Y", f"9576{number:04d}Y"))
    monkeypatch.setattr(batch, "POOL_FROM", 10**9)
    alone = run("validate", "orgs")
    # The command as users run it, telling on stderr how its workers were started.
    script = (
        "import sys\n"
        "from clinesync.files import batch\n"
        "chosen = batch._start_method\n"
        "batch._start_method = lambda: print('workers:', chosen(), file=sys.stderr) or chosen()\n"
        "from clinesync.cli import main\n"
        "sys.argv = ['clinesync', 'validate', 'orgs']\n"
        "sys.exit(main())\n"
    )
    forked = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=in_tmp)
    assert (forked.returncode, forked.stdout) == (alone.exit_code, alone.stdout)
    assert "workers: fork" in forked.stderr and f"{count} files checked" in forked.stderr


def test_forked_workers_leave_a_plans_own_process_only_the_first_file_to_check(in_tmp: Path) -> None:
    """A plan's process has each organization's read, diff and rendering to do, and its reads over HTTP wait on
    its interpreter lock: forked workers start in milliseconds, so they check every file but the first, which
    the plan's process checks while they fork, so that its read goes first."""
    import subprocess
    import sys

    fleet(in_tmp)
    script = (
        "import os, pathlib\n"
        "from clinesync.files import batch\n"
        "batch.POOL_FROM = 10\n"
        "method, parent, here, real = batch._start_method(), os.getpid(), [], batch.check_one\n"
        "def counted(path, *args):\n"
        "    if os.getpid() == parent:\n"
        "        here.append(path)\n"
        "    return real(path, *args)\n"
        "batch.check_one = counted\n"
        "paths = sorted(str(path) for path in pathlib.Path('orgs').glob('*.yaml'))\n"
        "checked = list(batch.iter_checked(paths, share=False))\n"
        "print(method, len(checked), here == paths[:1])\n"
    )
    forked = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=in_tmp)
    assert forked.stdout.split() == ["fork", "40", "True"], forked.stderr


def test_workers_are_forked_only_from_a_process_of_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import threading

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert batch._start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # a console read, a test's server
    assert batch._start_method() == "spawn"
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert batch._start_method() == "spawn"


@pytest.mark.parametrize(("cores", "sharing", "alone"), [(1, 0, 0), (2, 1, 2), (4, 3, 4), (32, 7, 8)])
def test_a_plan_that_leaves_the_checking_to_workers_has_one_for_each_core(
    monkeypatch: pytest.MonkeyPatch, cores: int, sharing: int, alone: int
) -> None:
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    # Sharing (validate), this process checks files on a core of its own; a plan's own work comes and
    # goes, so its workers take every core. One core is left to this process alone: no worker to feed.
    assert (batch._workers(share=True), batch._workers(share=False)) == (sharing, alone)
