"""Benchmark: this clinesync side by side with clinesync 0.1.0 (commit d22a891), in one paired run.

Each figure alternates the two versions run for run, so a change in the machine's load falls on both alike;
ratios are what the targets are stated in. Prints figures; asserts nothing. Run with `make bench-versus`, which
installs 0.1.0 into its own virtual environment (OLD_CLINESYNC) and octoDNS as the peer (OCTODNS_SYNC).
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

from common import CLINESYNC, EXAMPLE, octodns_config, org_id, timings, write_fleet
from speed import TOKEN, Server
from validate import paired, peak_mib

OLD = os.path.abspath(os.environ.get("OLD_CLINESYNC", ""))
OCTODNS_SYNC = os.path.abspath(os.environ["OCTODNS_SYNC"]) if os.environ.get("OCTODNS_SYNC") else ""
ENV = {**os.environ, "AZURE_OPENAI_KEY": "bench-stand-in-key", "CLINE_API_KEY": TOKEN}
LATENCY = 0.020
PARALLELISM = 16


def line(what: str, new: float, old: float, target: str) -> None:
    print(
        f"{what:<44} {new * 1000:9.0f} ms  vs 0.1.0 {old * 1000:9.0f} ms  ratio {new / old:5.2f}  ({target})"
    )


def put_p90(url: str, writers: int = 64, each: int = 10) -> tuple[float, int]:
    """The 90th percentile of PUT latency with `writers` concurrent clients, each writing its own organization,
    and how many PUTs failed (a reset connection, an answer other than 200). The clients are the standard
    library's, connected before timing starts and started together: what is timed is the server, not the
    clients (64 httpx clients cost more CPU than the server, on the same cores)."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(url)
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    body = json.dumps({"enabled": True, "value": '{"version":"v1","telemetryEnabled":true}'})
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    ready = threading.Barrier(writers)

    def writer(index: int) -> None:
        path = f"/api/v1/organizations/{org_id(index)}/remote-config"
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
        connection.connect()
        ready.wait()
        for _ in range(each):
            start = time.perf_counter()
            try:
                connection.request("PUT", path, body, headers)
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

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statistics.quantiles(latencies, n=10)[-1], failed[0]


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


def serve_writers(work: Path, rounds: int = 3) -> None:
    news: list[float] = []
    olds: list[float] = []
    failed = {CLINESYNC: 0, OLD: 0}
    for round_ in range(rounds):
        for program, into in ((CLINESYNC, news), (OLD, olds)):
            database = work / f"writers-{round_}-{len(into)}-{Path(program).parent.parent.name}.db"
            server = Server(database, program=program)
            try:
                p90, errors = put_p90(server.url)
            finally:
                server.stop()
            into.append(p90)
            failed[program] += errors
    line(
        "serve, 64 concurrent writers: p90 PUT",
        statistics.median(news),
        statistics.median(olds),
        "target <= 0.50",
    )
    print(f"  failed PUTs, {rounds} x 640 each: {failed[CLINESYNC]} (0.1.0: {failed[OLD]})")


def timed_pair(
    label: str, make: Callable[[str], list[str]], rounds: int, target: str, **options: object
) -> None:
    new, old = paired(make(CLINESYNC), make(OLD), rounds, **options)
    line(label, new, old, target)


def main() -> None:
    if not OLD or not os.path.exists(OLD):
        sys.exit("set OLD_CLINESYNC to clinesync 0.1.0's command (make bench-versus installs it)")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        run = {"env": ENV, "cwd": work}

        help_new = statistics.median(timings([CLINESYNC, "--help"], 15, **run))
        python = statistics.median(timings([sys.executable, "-c", "pass"], 15, **run))
        print(
            f"{'--help':<44} {help_new * 1000:9.0f} ms  vs python -c pass {python * 1000:6.0f} ms  "
            f"ratio {help_new / python:5.2f}  (target <= 3.00)"
        )
        timed_pair("--help", lambda program: [program, "--help"], 15, "for reference", **run)
        if OCTODNS_SYNC:
            (work / "one").mkdir()
            subprocess.run(
                [CLINESYNC, "apply", str(EXAMPLE), "--auto-approve"],
                check=True,
                capture_output=True,
                env=ENV,
                cwd=work / "one",
            )
            config = octodns_config(work)
            ours, theirs = [], []
            for _ in range(15):
                ours += timings([CLINESYNC, "plan", str(EXAMPLE)], env=ENV, cwd=work / "one")
                theirs += timings([OCTODNS_SYNC, "--config-file", str(config)], cwd=work)
            mine, peer = statistics.median(ours), statistics.median(theirs)
            print(
                f"{'plan 1 organization':<44} {mine * 1000:9.0f} ms  vs octodns-sync {peer * 1000:9.0f} ms  "
                f"ratio {mine / peer:5.2f}  (target <= 1.00)"
            )

        write_fleet(work / "fleet", 1000)
        server = Server(work / "latency.db", latency_ms=LATENCY * 1000)
        http = {"env": {**ENV, "CLINESYNC_CONSOLE": server.url}, "cwd": work}
        try:
            subprocess.run(
                [CLINESYNC, "apply", "fleet", "--auto-approve"], check=True, capture_output=True, **http
            )  # type: ignore[call-overload]
            new, old = paired([CLINESYNC, "plan", "fleet"], [OLD, "plan", "fleet"], 3, **http)
            alone = statistics.median(reads_alone(server.url, 1000) for _ in range(3))
        finally:
            server.stop()
        line("plan 1,000 over HTTP, 20 ms latency", new, old, "target <= 0.50")
        floor = 1000 * LATENCY / PARALLELISM
        print(
            f"{'  latency floor (1,000 x 20 ms / 16)':<44} {floor * 1000:9.0f} ms  ratio {new / floor:5.2f}  (target <= 2.00)"
        )
        print(
            f"{'  the reads alone, 16 connections':<44} {alone * 1000:9.0f} ms  ratio {new / alone:5.2f}"
            f"  (0.1.0: {old / alone:.2f}; the best ratio to 0.1.0 any client could have: {alone / old:.2f})"
        )

        write_fleet(work / "big", 10_000)
        for program in (CLINESYNC, OLD):
            (work / Path(program).parent.parent.name).mkdir(exist_ok=True)
        timed_pair(
            "validate 10,000, embedded",
            lambda program: [program, "validate", str(work / "big")],
            3,
            "target <= 0.60",
            **run,
        )
        new_plan, old_plan = [], []
        for _ in range(2):
            for program, into in ((CLINESYNC, new_plan), (OLD, old_plan)):
                into += timings(
                    [program, "plan", str(work / "big")], env=ENV, cwd=work / Path(program).parent.parent.name
                )
        line(
            "plan 10,000, embedded console",
            statistics.median(new_plan),
            statistics.median(old_plan),
            "target <= 0.60",
        )
        print(
            f"{'validate 10,000: peak memory':<44} {peak_mib([CLINESYNC, 'validate', str(work / 'big')], work):9.0f} MiB  (target <= 100)"
        )
        serve_writers(work)


if __name__ == "__main__":
    main()
