"""Every signal ends the whole run: a cancelled CI job (SIGTERM), a closed terminal (SIGHUP) or a killed parent
leaves no worker behind holding the run's environment, and a read hung on a silent console does not hold the
run until its deadline. Real processes, as CI runners signal them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fake_llm import JsonHandler, serving

SECRET = "planted-sigterm-secret-5a1f"


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def clinesync(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CLINE_API_KEY": SECRET, "CLINESYNC_RETRIES": "1"}
    env.pop("CI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "clinesync", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # signals reach this run alone, as a runner sends them
    )


@pytest.fixture
def silent_console() -> Iterator[str]:
    """A console that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def fleet(root: Path, count: int) -> Path:
    folder = root / "orgs"
    folder.mkdir()
    for number in range(count):
        (folder / f"o{number:05d}.yaml").write_text(
            f"organization: org-01JZPE4CHW5XTP73W957{number:06d}Y\nremoteConfig:\n  providerSettings:\n"
            "    OpenAiCompatible:\n      openAiBaseUrl: https://llm.corp.example.com/v1\n"
        )
    return folder


def gone(workers: set[int], seconds: float = 10) -> bool:
    """Whether every worker has ended within `seconds`; any still alive then is killed, so a failing test
    leaves no orphan behind."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return not left


def wait_for_workers(run: subprocess.Popen[str], seconds: float = 20) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and run.poll() is None:
        workers = children(run.pid)
        if workers:
            return workers
        time.sleep(0.01)
    pytest.fail("the run started no worker process: the fleet is too small for this machine")


@pytest.fixture(scope="module")
def large_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough files that the run is still checking them, in workers, when the signal comes, on a busy
    machine too (20,000: about 2.5 s of checking on an idle one)."""
    root = tmp_path_factory.mktemp("signals")
    fleet(root, 20_000)
    return root


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_landing_while_the_workers_are_forked_ends_the_run(
    tmp_path: Path, sent: signal.Signals, code: int
) -> None:
    """Python drops what a signal handler raises inside a fork's hooks: a Ctrl-C landing while the workers were
    forked went unheard, and an apply went on to write every organization. A hook sends it at that moment."""
    fleet(tmp_path, 600)
    script = (
        "import os, sys\n"
        f"os.register_at_fork(before=lambda: os.kill(os.getpid(), {int(sent)}))\n"
        "from clinesync.cli import main\n"
        "sys.argv = ['clinesync', 'apply', 'orgs', '--auto-approve']\n"
        "main()\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code, done.stderr[-2000:]
    assert "Interrupted" in done.stderr and "Exception ignored" not in done.stderr
    assert not (tmp_path / ".clinesync" / "console.db").exists()  # nothing was written


def test_holding_the_signals_leaves_the_mask_as_it_was_whatever_lands_meanwhile() -> None:
    """A handler waiting to run does so as the mask changes: what it raises from the blocking call must still
    find the mask restored, or the run-ending signals stay blocked for the rest of the process."""
    script = (
        "import os, signal, threading, time\n"
        "from clinesync import signals\n"
        "armed = False\n"
        "def handler(*_):\n"  # raises once per arming: never outside the `try` below
        "    global armed\n"
        "    if armed:\n"
        "        armed = False\n"
        "        raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGINT, handler)\n"
        "def send():\n"
        "    signals.leave_to_main_thread()\n"
        "    end = time.monotonic() + 1.5\n"
        "    while time.monotonic() < end:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        time.sleep(0.0002)\n"
        "sender = threading.Thread(target=send)\n"
        "sender.start()\n"
        "while sender.is_alive():\n"
        "    try:\n"
        "        armed = True\n"
        "        with signals.held():\n"
        "            pass\n"
        "        armed = False\n"
        "    except KeyboardInterrupt:\n"
        "        pass\n"
        "sender.join()\n"
        "print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr[-1000:]


def test_a_ctrl_c_reaching_the_workers_as_they_start_is_the_runs_alone(tmp_path: Path) -> None:
    """A terminal sends Ctrl-C to the whole group: workers that start under held signals leave them to the run
    (which ends them), and say nothing of their own."""
    fleet(tmp_path, 600)
    script = (
        "import os, signal, sys\n"
        "os.register_at_fork(after_in_parent=lambda: os.killpg(0, signal.SIGINT))\n"
        "from clinesync.cli import main\n"
        "sys.argv = ['clinesync', 'validate', 'orgs']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # the group the signal is sent to is this run's alone
    )
    assert done.returncode == 130, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr


def test_ctrl_c_while_the_modules_load_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """The run's own handling is in place once its modules are loaded: a Ctrl-C before (a busy runner takes
    longer to load them) printed the interpreter's traceback. A finder sends it as the command's module loads."""
    script = (
        "import os, signal, sys\n"
        "class Interrupting:\n"
        "    def find_spec(self, name, *_):\n"
        "        if name == 'clinesync.cli.app':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.meta_path.insert(0, Interrupting())\n"
        "from clinesync.cli import main\n"
        "sys.argv = ['clinesync', 'validate', '.']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (130, "\nInterrupted.\n")


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_end_the_run_and_its_workers(
    large_fleet: Path, sent: signal.Signals, code: int
) -> None:
    run = clinesync("validate", "orgs", cwd=large_fleet)
    workers = wait_for_workers(run)
    run.send_signal(sent)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == code, stderr[-2000:]
    assert stderr.strip().splitlines()[-1].startswith("Interrupted.")
    assert "Traceback" not in stderr
    assert gone(workers), "a worker outlived its run"


def test_workers_end_by_themselves_when_their_run_is_killed(large_fleet: Path) -> None:
    run = clinesync("validate", "orgs", cwd=large_fleet)
    workers = wait_for_workers(run)
    run.kill()  # SIGKILL: no handler runs, the workers must notice on their own
    run.communicate(timeout=30)
    assert gone(workers), "a worker outlived its killed run"


def test_sigterm_does_not_wait_for_reads_hung_on_a_silent_console(
    tmp_path: Path, silent_console: str
) -> None:
    fleet(tmp_path, 40)
    run = clinesync("plan", "orgs", "--console", silent_console, cwd=tmp_path)
    time.sleep(1.5)  # the reads are sent and hang (each answer's deadline is 30 s)
    assert run.poll() is None
    started = time.monotonic()
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 143
    assert time.monotonic() - started < 10, "the run waited for its hung reads"
    assert "Interrupted." in stderr and SECRET not in stdout + stderr


def test_a_signal_click_turns_into_its_abort_keeps_its_exit_code() -> None:
    """Outside a command's body (parsing, after it returns), click turns an interruption into Abort, with the
    interruption as its cause: the exit code is still 128 + the signal."""
    import click

    from clinesync.cli.app import Terminated, _exit_code

    for number, code in ((signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        try:
            try:
                raise Terminated(number)
            except KeyboardInterrupt as interruption:
                raise click.Abort() from interruption
        except click.Abort as aborted:
            assert _exit_code(aborted) == code
    assert _exit_code(click.Abort()) == 130 and _exit_code(KeyboardInterrupt()) == 130


def test_a_failure_while_cleaning_up_after_a_signal_is_the_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool's shutdown can fail under a signal (found under load): the run ends as the signal says."""
    from clinesync.cli import app, files

    def interrupted_then_broken(*args: object, **kwargs: object) -> object:
        try:
            raise app.Terminated(signal.SIGTERM)
        finally:
            raise RuntimeError("cannot schedule new futures after shutdown")

    monkeypatch.setattr(files, "expand_paths", interrupted_then_broken)
    from support import run

    result = run("validate", "orgs")
    assert result.exit_code == 143
    assert "Interrupted." in result.stderr and "internal error" not in result.stderr


class _StallingConsole(JsonHandler):
    """Takes the first three writes, then holds every later one unanswered: a signal lands mid-apply."""

    stored: ClassVar[dict[str, Any]] = {}
    writes = 0
    release = threading.Event()

    def do_GET(self) -> None:
        self._answer(200, {"success": True, "data": _StallingConsole.stored.get(self.path)})

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _StallingConsole.writes += 1
        if _StallingConsole.writes > 3:
            _StallingConsole.release.wait(30)
            return
        _StallingConsole.stored[self.path] = body
        self._answer(200, {"success": True, "data": body})


@pytest.mark.parametrize(
    ("output_format", "sent", "code"), [("json", signal.SIGTERM, 143), ("text", signal.SIGINT, 130)]
)
def test_an_apply_interrupted_mid_way_reports_which_organizations_were_applied(
    tmp_path: Path, output_format: str, sent: signal.Signals, code: int
) -> None:
    """A cancelled CI job's log still says what each organization came to: the report is printed, then the
    interruption ends the run as ever."""
    _StallingConsole.stored, _StallingConsole.writes = {}, 0
    _StallingConsole.release.clear()
    fleet(tmp_path, 6)
    with serving(_StallingConsole) as url:
        run = clinesync(
            "apply", "orgs", "--auto-approve", "--parallelism", "1", "--format", output_format,
            "--console", url, cwd=tmp_path,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while _StallingConsole.writes < 4 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.02)
        run.send_signal(sent)
        stdout, stderr = run.communicate(timeout=30)
        _StallingConsole.release.set()
    assert run.returncode == code, stderr[-2000:]
    assert stderr.strip().splitlines()[-1].startswith("Interrupted.") and "Traceback" not in stderr
    assert SECRET not in stdout + stderr
    if output_format == "json":
        report = json.loads(stdout)
        assert report["summary"] == {
            "applied": 3, "unchanged": 0, "failed": 1, "not_attempted": 2, "exit_code": 143,
        }  # fmt: skip
        assert "under way: the console may have taken it" in report["organizations"][3]["error"]
    else:
        assert "Apply interrupted: 3 applied, 0 unchanged, 1 failed, 2 not attempted." in stdout
        assert stdout.count(": applied (revision") == 0 and stdout.count(": applied") == 3


def test_a_second_signal_while_the_interrupted_report_is_written_keeps_the_first_exit_code(
    monkeypatch: pytest.MonkeyPatch, in_tmp: Path
) -> None:
    """Ctrl-C, then SIGTERM while the report goes out: the run ends 130, as the report it began says."""
    from clinesync.cli import app
    from clinesync.plans import apply

    from support import run

    def interrupted(plan: Any, *args: Any) -> Any:
        raise apply.ApplyInterrupted(KeyboardInterrupt(), [])

    def cut_short(console: str, results: Any, exit_code: int) -> str:
        assert exit_code == 130
        raise app.Terminated(signal.SIGTERM)

    monkeypatch.setattr(apply, "apply_plan", interrupted)
    monkeypatch.setitem(app.APPLY_RENDERERS, "json", cut_short)
    fleet(in_tmp, 1)
    result = run("apply", "orgs", "--auto-approve", "--format", "json")
    assert result.exit_code == 130 and "Interrupted." in result.stderr, result.output


def test_the_first_signal_of_the_run_gives_its_exit_code_whatever_lands_after_it() -> None:
    """Ctrl-C, then SIGTERM while the run ends (closing its console, its pool): exit 130, as the first said."""
    from clinesync.cli import app

    with app._signals_end_the_run():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except app.Terminated as second:
                assert app._exit_code(second) == 130
            else:
                pytest.fail("the second signal did not end the wait")
        else:
            pytest.fail("the first signal did not end the wait")
    with app._signals_end_the_run():  # a new run starts afresh
        assert app._exit_code(app.Terminated(signal.SIGTERM)) == 143
