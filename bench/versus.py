"""Benchmark: this clinesync side by side with clinesync 0.1.0 (commit d22a891), in one paired run: the figures
issue 27 states its targets in.

Each figure alternates the two versions run for run (at least 5 rounds), so a change in the machine's load
falls on both alike; each prints min/median/max and the ratio of the medians, which is what the targets are
stated in. CPU is user + system time of the whole process tree; disk is the blocks it wrote (`ru_oublock`).
Prints figures; asserts nothing. Run with `make bench-versus`, which installs 0.1.0 into its own virtual
environment (OLD_CLINESYNC) and octoDNS as the peer (OCTODNS_SYNC). Terraform is not run: neither it nor a
provider installs on a machine without the internet.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common import CLINESYNC, EXAMPLE, octodns_config, org_id, write_fleet
from speed import TOKEN, Server

OLD = os.path.abspath(os.environ.get("OLD_CLINESYNC", ""))
OCTODNS_SYNC = os.path.abspath(os.environ["OCTODNS_SYNC"]) if os.environ.get("OCTODNS_SYNC") else ""
ENV = {**os.environ, "AZURE_OPENAI_KEY": "bench-stand-in-key", "CLINE_API_KEY": TOKEN}
LATENCY = 0.020
PARALLELISM = 16
ROUNDS = 5

_MEASURED = (
    "import resource, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "wall = time.perf_counter() - started\n"
    "used = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(done.returncode, wall, used.ru_utime + used.ru_stime, used.ru_maxrss, used.ru_oublock)"
)


def measured(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """One run of `command`: wall seconds, CPU seconds of its whole process tree, the largest process's peak
    MiB and the blocks written, measured by a parent that runs only it."""
    report = subprocess.run(
        [sys.executable, "-c", _MEASURED, *command],
        cwd=cwd,
        env=env or ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    code, wall, cpu, peak, blocks = report.stdout.split()
    if int(code) not in (0, 2):
        raise SystemExit(f"{' '.join(command)} failed with exit code {code}")
    return {"wall": float(wall), "cpu": float(cpu), "peak": int(peak) / 1024, "blocks": float(blocks)}


def spread(values: list[float], scale: float = 1000, unit: str = "ms") -> str:
    """min/median/max, with two decimals where the figures are small (CPU per organization)."""
    shown = [value * scale for value in (min(values), statistics.median(values), max(values))]
    digits = 2 if shown[1] < 10 else 0
    return "/".join(f"{value:.{digits}f}" for value in shown) + f" {unit}"


def compare(
    what: str, new: list[float], old: list[float], target: str, scale: float = 1000, unit: str = "ms"
) -> None:
    ratio = statistics.median(new) / statistics.median(old)
    print(
        f"{what:<42} {spread(new, scale, unit):>22}  0.1.0 {spread(old, scale, unit):>22}  "
        f"ratio {ratio:5.2f}  ({target})"
    )


def paired_runs(
    make: Callable[[str], list[str]],
    cwd: Callable[[str], Path],
    rounds: int = ROUNDS,
    env: dict[str, str] | None = None,
    before: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """`rounds` runs of each version, alternating; `before` prepares each run (outside the measurement)."""
    runs: dict[str, list[dict[str, float]]] = {CLINESYNC: [], OLD: []}
    for _ in range(rounds):
        for program in (CLINESYNC, OLD):
            if before:
                before(program)
            runs[program].append(measured(make(program), cwd(program), env))
    return runs[CLINESYNC], runs[OLD]


def of(runs: list[dict[str, float]], key: str) -> list[float]:
    return [run[key] for run in runs]


def request_latencies(
    url: str, method: str, clients: int = 64, each: int = 10
) -> tuple[list[float], int, float]:
    """Each request's latency with `clients` concurrent clients, each on its own organization, how many
    failed (a reset connection, an answer other than 200), and the seconds from their start to the last
    answer. The clients are the standard library's, connected before timing starts and started together:
    what is timed is the server, not the clients (64 httpx clients cost more CPU than the server, on the
    same cores), nor how fast it accepts connections."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(url)
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    body = json.dumps({"enabled": True, "value": '{"version":"v1","telemetryEnabled":true}'})
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    started: list[float] = []
    ready = threading.Barrier(clients, action=lambda: started.append(time.perf_counter()))

    def client(index: int) -> None:
        path = f"/api/v1/organizations/{org_id(index)}/remote-config"
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
        connection.connect()
        ready.wait()
        for _ in range(each):
            start = time.perf_counter()
            try:
                connection.request(method, path, body if method == "PUT" else None, headers)
                answer = connection.getresponse()
                answer.read()
                ok = answer.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()  # the next request connects again
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - start)
                else:
                    failed[0] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failed[0], time.perf_counter() - started[0]


def reads_alone(url: str, count: int, parallelism: int = PARALLELISM) -> float:
    """Seconds for the least any client can do for that plan: each organization's read, over `parallelism`
    kept-alive standard-library connections made before timing, the answers read and nothing else. It is the
    floor with the console's own time per answer in it, which the latency floor leaves out."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(url)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connections = [
        http.client.HTTPConnection(address.hostname or "", address.port) for _ in range(parallelism)
    ]
    for connection in connections:
        connection.connect()
    started = time.perf_counter()

    def reader(first: int) -> None:
        connection = connections[first]
        for index in range(first, count, parallelism):
            connection.request("GET", f"/api/v1/organizations/{org_id(index)}/remote-config", headers=headers)
            connection.getresponse().read()

    threads = [threading.Thread(target=reader, args=(first,)) for first in range(parallelism)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return elapsed


def serve_latencies(work: Path, rounds: int = ROUNDS) -> None:
    """`serve` under 64 concurrent writers, then 64 concurrent readers: latency deciles, mean and throughput.

    The 64 clients run a closed loop (each sends its next request when its answer is in), so by Little's law
    the mean latency is 64 divided by the throughput: a server that answers every client in turn has its median
    near that mean, and only one that lets some clients wait while others pass has a median far below it
    (0.1.0's writers backed off on SQLite's lock: a low median, a long tail, a third of the throughput). The
    mean and the throughput are the targets; the median is printed for reference."""
    figures: dict[str, dict[str, list[float]]] = {CLINESYNC: {}, OLD: {}}
    failed = {CLINESYNC: 0, OLD: 0}
    for round_ in range(rounds):
        for program in (CLINESYNC, OLD):
            database = work / f"serve-{round_}-{Path(program).parent.parent.name}.db"
            server = Server(database, program=program)
            try:
                phases = []
                for method in ("PUT", "GET"):
                    latencies, errors, seconds = request_latencies(server.url, method)
                    phases.append((method, latencies, seconds))
                    failed[program] += errors
            finally:
                server.stop()
            for name, values, seconds in phases:
                deciles = statistics.quantiles(values, n=10)
                figures[program].setdefault(f"{name} p50", []).append(statistics.median(values))
                figures[program].setdefault(f"{name} p90", []).append(deciles[-1])
                figures[program].setdefault(f"{name} mean", []).append(statistics.mean(values))
                figures[program].setdefault(f"{name} per second", []).append(len(values) / seconds)
    targets = {
        "PUT mean": "target <= 1.0",
        "PUT p90": "target <= 0.3",
        "PUT p50": "for reference: a closed loop, see serve_latencies",
        "GET mean": "target <= 1.0",
        "GET p50": "target <= 1.0",
        "GET p90": "for reference",
    }
    for name, target in targets.items():
        compare(f"serve, 64 clients: {name}", figures[CLINESYNC][name], figures[OLD][name], target)
    for name in ("PUT per second", "GET per second"):
        compare(
            f"serve, 64 clients: {name}",
            figures[CLINESYNC][name],
            figures[OLD][name],
            "target >= 1.0",
            scale=1,
            unit="/s",
        )
    print(f"  failed requests, {rounds} x 1,280 each: {failed[CLINESYNC]} (0.1.0: {failed[OLD]})")


# Run in the measured child: the plan, then the names of the modules it imported, on stderr's last line.
_MODULES_OF_PLAN = (
    "import atexit, os, sys\n"
    "atexit.register(lambda: os.write(2, ('\\n' + ' '.join(sorted(sys.modules))).encode()))\n"
    "sys.argv = ['clinesync', 'plan', sys.argv[1]]\n"
    "from clinesync.cli import main\n"
    "main()"
)


def floors(home: dict[str, Path]) -> None:
    """What the one-organization plan's CPU target leaves room for: the modules that plan imports, imported
    and nothing run, with click and without it (and whatever only click brings), in rounds with 0.1.0's
    plan. Each import ends as plan does (`gc.freeze()`, no collection at exit)."""
    ran = subprocess.run(
        [sys.executable, "-c", _MODULES_OF_PLAN, str(EXAMPLE)],
        cwd=home[CLINESYNC],
        env=ENV,
        capture_output=True,
        text=True,
    )
    modules = ran.stderr.rsplit("\n", 1)[-1].split()
    alone = subprocess.run(
        [sys.executable, "-c", "import sys, click; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
    )
    bare = subprocess.run(
        [sys.executable, "-c", "import sys; print(' '.join(sys.modules))"], capture_output=True, text=True
    )
    clicks = set(alone.stdout.split()) - set(bare.stdout.split())
    # Top-level packages and clinesync's own modules: importing them brings the rest as plan's run did.
    imported = [
        name for name in modules if ("." not in name or name.startswith("clinesync.")) and name != "__main__"
    ]
    imported = [name for name in imported if not name.startswith("_cython") and name != "cython_runtime"]
    without = [name for name in imported if name not in clicks and not name.startswith("clinesync.cli")]
    cases = {
        "  plan's modules imported, nothing run": imported,
        "  the same without click (nor what only it brings)": without,
    }
    cpu: dict[str, list[float]] = {what: [] for what in cases}
    old: list[float] = []
    for _ in range(15):
        old.append(measured([OLD, "plan", str(EXAMPLE)], home[OLD])["cpu"])
        for what, names in cases.items():
            code = f"import gc, {', '.join(names)}; gc.freeze()"
            cpu[what].append(measured([sys.executable, "-c", code], home[CLINESYNC])["cpu"])
    for what, values in cpu.items():
        compare(what, values, old, "against 0.1.0's plan, same rounds")


def main() -> None:
    if not OLD or not os.path.exists(OLD):
        sys.exit("set OLD_CLINESYNC to clinesync 0.1.0's command (make bench-versus installs it)")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        home = {program: work / Path(program).parent.parent.name for program in (CLINESYNC, OLD)}
        for folder in home.values():
            folder.mkdir()

        python = [measured([sys.executable, "-c", "pass"], work)["wall"] for _ in range(15)]
        helps = [measured([CLINESYNC, "--help"], work)["wall"] for _ in range(15)]
        ratio = statistics.median(helps) / statistics.median(python)
        print(
            f"{'--help':<42} {spread(helps):>22}  python -c pass {spread(python)}  ratio {ratio:5.2f}  (target <= 2.0)"
        )

        # The pull-request case: one organization, in sync, on the embedded console.
        for program in (CLINESYNC, OLD):
            subprocess.run(
                [program, "apply", str(EXAMPLE), "--auto-approve"],
                check=True,
                capture_output=True,
                env=ENV,
                cwd=home[program],
            )
        new, old = paired_runs(lambda program: [program, "plan", str(EXAMPLE)], home.__getitem__, rounds=15)
        compare("plan 1 organization: CPU", of(new, "cpu"), of(old, "cpu"), "target <= 0.8")
        compare("plan 1 organization: wall", of(new, "wall"), of(old, "wall"), "for reference")
        floors(home)
        if OCTODNS_SYNC:
            config = octodns_config(work)
            peer = [measured([OCTODNS_SYNC, "--config-file", str(config)], work)["cpu"] for _ in range(15)]
            ratio = statistics.median(of(new, "cpu")) / statistics.median(peer)
            print(
                f"{'  octodns-sync, one zone: CPU':<42} {spread(peer):>22}  ratio {ratio:5.2f}  (for reference)"
            )
        # Not measured: `terraform plan` of one resource needs terraform and a provider, neither of which a
        # machine without the internet can install; the figure (3.2x) is not reproduced here.
        print("  terraform plan of one resource: not measured here (no terraform on this machine)")

        # The HTTP fleet: 1,000 organizations, 20 ms from the console.
        write_fleet(work / "fleet", 1000)
        server = Server(work / "latency.db", latency_ms=LATENCY * 1000)
        http = {**ENV, "CLINESYNC_CONSOLE": server.url}
        try:
            subprocess.run(
                [CLINESYNC, "apply", str(work / "fleet"), "--auto-approve"],
                check=True,
                capture_output=True,
                env=http,
                cwd=work,
            )
            new, old = paired_runs(
                lambda program: [program, "plan", str(work / "fleet")], home.__getitem__, env=http
            )
            alone = [reads_alone(server.url, 1000) for _ in range(ROUNDS)]
        finally:
            server.stop()
        compare("plan 1,000 over HTTP, +20 ms: wall", of(new, "wall"), of(old, "wall"), "for reference")
        floor = 1000 * LATENCY / PARALLELISM
        walls = of(new, "wall")
        print(
            f"{'  latency floor (1,000 x 20 ms / 16)':<42} {floor * 1000:>19.0f} ms  ratio {statistics.median(walls) / floor:5.2f} (min {min(walls) / floor:.2f}, max {max(walls) / floor:.2f})  (target <= 1.3)"
        )
        print(
            f"{'  the reads alone, 16 connections':<42} {spread(alone):>22}  ratio {statistics.median(walls) / statistics.median(alone):5.2f}"
        )

        # The fleet on the embedded console: 10,000 organizations.
        write_fleet(work / "big", 10_000)
        new, old = paired_runs(lambda program: [program, "validate", str(work / "big")], home.__getitem__)
        compare("validate 10,000: wall", of(new, "wall"), of(old, "wall"), "for reference")
        # Twice: every organization a create (the most a plan renders), then the fleet applied and planned in
        # sync (drift's usual night, where the issue measured its 1.69 ms of CPU per organization).
        for case in ("creates", "in sync"):
            if case == "in sync":
                for program in (CLINESYNC, OLD):
                    subprocess.run(
                        [program, "apply", str(work / "big"), "--auto-approve"],
                        check=True,
                        capture_output=True,
                        env=ENV,
                        cwd=home[program],
                    )
            new, old = paired_runs(lambda program: [program, "plan", str(work / "big")], home.__getitem__)
            compare(f"plan 10,000 {case}, embedded: wall", of(new, "wall"), of(old, "wall"), "target <= 0.45")
            compare(
                f"plan 10,000 {case}: CPU per organization",
                [cpu / 10_000 for cpu in of(new, "cpu")],
                [cpu / 10_000 for cpu in of(old, "cpu")],
                "target <= 1.0 ms",
                scale=1000,
                unit="ms",
            )
            compare(
                f"plan 10,000 {case}: peak memory",
                of(new, "peak"),
                of(old, "peak"),
                "for reference",
                scale=1,
                unit="MiB",
            )

        # Writes: 2,000 creates on a fresh embedded console, blocks written per apply.
        def fresh(program: str) -> None:
            for name in (".clinesync",):
                subprocess.run(["rm", "-rf", str(home[program] / name)], check=True)

        write_fleet(work / "creates", 2000)
        new, old = paired_runs(
            lambda program: [program, "apply", str(work / "creates"), "--auto-approve"],
            home.__getitem__,
            before=fresh,
        )
        compare(
            "apply 2,000 creates: blocks written",
            of(new, "blocks"),
            of(old, "blocks"),
            "target <= 1.0",
            scale=1,
            unit="blocks",
        )
        compare("apply 2,000 creates: wall", of(new, "wall"), of(old, "wall"), "for reference")
        serve_latencies(work)


if __name__ == "__main__":
    main()
