"""Benchmark: every speed figure clinesync promises, whole process, on this machine, against its target, and
octoDNS's dry run as the peer. Prints figures; asserts nothing. Run with `make bench`, which installs
clinesync (not editable) and octoDNS into their own virtual environments first.

Figures are medians of several runs. Request counts are read from the server's access log.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import CLINESYNC, EXAMPLE, octodns_config, org_id, timed, timings, write_fleet

TOKEN = "bench-token-not-a-secret"
OCTODNS_SYNC = os.path.abspath(os.environ["OCTODNS_SYNC"]) if os.environ.get("OCTODNS_SYNC") else ""
ENV = {**os.environ, "AZURE_OPENAI_KEY": "bench-stand-in-key", "CLINE_API_KEY": TOKEN}

rows: list[tuple[str, str, str]] = []


def report(what: str, seconds: float, target: float | None = None, note: str = "") -> None:
    figure = f"{seconds * 1000:9.1f} ms"
    rows.append((what, figure, _verdict(seconds, target, note)))


def measure(
    what: str, command: list[str], repeat: int, target: float | None = None, **options: object
) -> float:
    """Median and best of `repeat` runs: this machine's timings vary run to run by a third."""
    times = timings(command, repeat, **options)
    median = statistics.median(times)
    rows.append(
        (what, f"{median * 1000:9.1f} ms", _verdict(median, target, f"(best {times[0] * 1000:.1f} ms)"))
    )
    return median


def _verdict(seconds: float, target: float | None, note: str) -> str:
    verdict = (
        "" if target is None else f"target {target * 1000:.0f} ms: {'met' if seconds < target else 'MISSED'}"
    )
    return " ".join(part for part in (verdict, note) if part)


class Server:
    """`clinesync serve` (of `program`: this version by default) in a subprocess, its access log counted."""

    def __init__(self, database: Path, latency_ms: float = 0, program: str = CLINESYNC) -> None:
        self.process = subprocess.Popen(
            [program, "serve", "--db", str(database), "--port", "0", "--latency-ms", str(latency_ms)],
            env={**os.environ, "CLINESYNC_SERVER_TOKENS": TOKEN},
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.url = self.process.stderr.readline().split(" on ", 1)[1].split(" ", 1)[0]
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def count(self, method: str) -> int:
        return sum(1 for line in self.log if f" {method} /api/v1/organizations/" in line)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def requests_per_second(url: str, clients: int = 8, each: int = 500) -> float:
    path = f"/api/v1/organizations/{org_id(0)}/remote-config"

    def client() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            for _ in range(each):
                http.get(path).raise_for_status()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * each / (time.perf_counter() - start)


def octodns(work: Path) -> float | None:
    if not OCTODNS_SYNC or not shutil.which(OCTODNS_SYNC):
        return None
    config = octodns_config(work)
    return timed([OCTODNS_SYNC, "--config-file", str(config)], repeat=9, cwd=work)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        run = {"env": ENV, "cwd": work}
        measure("python start-up (this venv)", [sys.executable, "-c", "pass"], 21)
        measure("clinesync --help", [CLINESYNC, "--help"], 21, 0.050, **run)
        measure("validate 1 organization", [CLINESYNC, "validate", str(EXAMPLE)], 21, 0.100, **run)
        timed([CLINESYNC, "apply", str(EXAMPLE), "--auto-approve"], **run)
        plan_one = measure(
            "plan 1 organization, embedded console", [CLINESYNC, "plan", str(EXAMPLE)], 21, 0.150, **run
        )
        peer = octodns(work)
        if peer is not None:
            report(
                "octodns-sync dry run, tiny zone (peer)",
                peer,
                note=f"clinesync plan is {peer / plan_one:.2f}x faster",
            )
        write_fleet(work / "fleet", 1000)
        measure("validate 1,000 organizations", [CLINESYNC, "validate", "fleet"], 3, 2.0, **run)
        write_fleet(work / "fleet500", 500)
        report(
            "apply 500 organizations, embedded console",
            timed([CLINESYNC, "apply", "fleet500", "--auto-approve"], **run),
        )

        server = Server(work / "latency.db", latency_ms=20)
        http = {"env": {**ENV, "CLINESYNC_CONSOLE": server.url}, "cwd": work}
        try:
            timed([CLINESYNC, "apply", "fleet", "--auto-approve"], **http)
            before = server.count("GET")
            plan_all = timed([CLINESYNC, "plan", "fleet"], **http)
            reads = server.count("GET") - before
            report("plan 1,000 over HTTP, 20 ms latency", plan_all, 3.0, f"{reads} reads")
            for path in sorted((work / "fleet").iterdir())[:100]:
                path.write_text(path.read_text().replace("maxTokens: 16384", "maxTokens: 8192", 1))
            writes, reads = server.count("PUT"), server.count("GET")
            apply_some = timed([CLINESYNC, "apply", "fleet", "--auto-approve"], **http)
            report(
                "apply 1,000 over HTTP (100 change), 20 ms",
                apply_some,
                note=(f"{server.count('PUT') - writes} writes, {server.count('GET') - reads} reads"),
            )
        finally:
            server.stop()
        fast = Server(work / "fast.db")
        try:
            rate = requests_per_second(fast.url)
        finally:
            fast.stop()
    width = max(len(what) for what, _, _ in rows)
    for what, figure, note in rows:
        print(f"{what:<{width}}  {figure}  {note}")
    print(f"{'serve: GET requests per second, 8 clients':<{width}}  {rate:9,.0f}")


if __name__ == "__main__":
    main()
