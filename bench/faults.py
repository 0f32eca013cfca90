"""Benchmark: clinesync under faults and load. Prints figures; asserts nothing. Run with `make bench-faults`.

- a drift over 1,000 organizations against a dead console: wall time, and TCP connection attempts;
- 200 concurrent clients against `clinesync serve`: latency p50/p99 and errors;
- file descriptors the server holds before and after 10,000 requests;
- an authenticated GET's latency while 0, 64 and 500 idle sockets are open on `clinesync serve`.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import CLINESYNC, org_id

TOKEN = "bench-token-not-a-secret"

# Runs the CLI in a child process, counting every TCP connection attempt it makes.
_COUNTED_RUN = """
import socket, sys
attempts = 0
real = socket.socket.connect
def counted(self, address):
    global attempts
    attempts += 1
    return real(self, address)
socket.socket.connect = counted
from clinesync.cli import main
try:
    main()
finally:
    print(f"connection attempts: {attempts}", file=sys.stderr)
"""


def dead_console(work: Path) -> None:
    (work / "fleet").mkdir()
    for index in range(1000):
        (work / "fleet" / f"org-{index:04d}.yaml").write_text(
            f"organization: {org_id(index)}\nremoteConfig:\n  kanbanEnabled: true\n"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
        env = {**os.environ, "CLINESYNC_CONSOLE": f"http://127.0.0.1:{port}", "CLINE_API_KEY": TOKEN}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _COUNTED_RUN, "drift", "fleet"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    attempts = done.stderr.strip().splitlines()[-1]
    not_attempted = done.stdout.count("not attempted: console unreachable")
    print(
        f"drift 1,000 organizations, dead console   {elapsed * 1000:9.1f} ms  {attempts}, {not_attempted} not attempted"
    )


class Server:
    def __init__(self, database: Path) -> None:
        self.process = subprocess.Popen(
            [CLINESYNC, "serve", "--db", str(database), "--port", "0"],
            env={**os.environ, "CLINESYNC_SERVER_TOKENS": TOKEN},
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.url = self.process.stderr.readline().split(" on ", 1)[1].split(" ", 1)[0]
        threading.Thread(target=lambda: [None for _ in self.process.stderr or []], daemon=True).start()

    def descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def burst(url: str, clients: int = 200) -> None:
    path = f"/api/v1/organizations/{org_id(0)}/remote-config"
    latencies: list[float] = []
    errors: list[str] = []
    gate = threading.Barrier(clients)

    def one() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
            gate.wait()
            started = time.perf_counter()
            try:
                http.get(path).raise_for_status()
                latencies.append(time.perf_counter() - started)
            except httpx.HTTPError as error:
                errors.append(type(error).__name__)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    print(
        f"serve, {clients} concurrent clients          p50 {statistics.median(latencies) * 1000:7.1f} ms"
        f"  p99 {p99 * 1000:7.1f} ms  errors {len(errors)}"
    )


def descriptors_after(server: Server, url: str, requests: int = 10_000) -> None:
    path = f"/api/v1/organizations/{org_id(0)}/remote-config"
    before = server.descriptors()

    def some(count: int) -> None:
        for _ in range(count // 100):  # a new connection every 100 requests, as a fleet's clients come and go
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                for _ in range(100):
                    http.get(path)

    threads = [threading.Thread(target=some, args=(requests // 8,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    time.sleep(0.5)
    print(f"serve descriptors, 10,000 requests        before {before}, after {server.descriptors()}")


def idle_sockets(url: str, counts: tuple[int, ...] = (0, 64, 500), requests: int = 50) -> None:
    """Sockets that connect and send nothing must not slow an authenticated request: they wait in the
    server's loop, holding nothing but a descriptor."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    path = f"/api/v1/organizations/{org_id(0)}/remote-config"
    for count in counts:
        idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(count)]
        try:
            latencies = []
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
                for _ in range(requests):
                    started = time.perf_counter()
                    http.get(path).raise_for_status()
                    latencies.append(time.perf_counter() - started)
            latencies.sort()
            print(
                f"serve, authenticated GET, {count:3d} idle sockets   p50 {statistics.median(latencies) * 1000:7.2f} ms"
                f"  max {latencies[-1] * 1000:7.2f} ms"
            )
        finally:
            for connection in idle:
                connection.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        dead_console(work)
        server = Server(work / "served.db")
        try:
            idle_sockets(server.url)
            burst(server.url)
            descriptors_after(server, server.url)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
