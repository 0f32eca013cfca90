"""Benchmark: `clinesync serve` requests per second on loopback, and whole-process plan/apply of 1,000
organizations over HTTP. Prints figures; asserts nothing. Run with `make bench`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import CLINESYNC, org_id, timed, write_fleet

TOKEN = "bench-token-not-a-secret"
CLIENTS, REQUESTS_EACH = 8, 500


def start_server(database: Path, latency_ms: float = 0) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [CLINESYNC, "serve", "--db", str(database), "--port", "0", "--latency-ms", str(latency_ms)],
        env={**os.environ, "CLINESYNC_SERVER_TOKENS": TOKEN},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    line = server.stderr.readline()  # "clinesync console server on http://127.0.0.1:PORT (...)"
    url = line.split(" on ", 1)[1].split(" ", 1)[0]
    threading.Thread(target=server.stderr.read, daemon=True).start()  # drain the access log
    return server, url


def requests_per_second(url: str) -> float:
    path = f"/api/v1/organizations/{org_id(0)}/remote-config"

    def client() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            for _ in range(REQUESTS_EACH):
                http.get(path).raise_for_status()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return CLIENTS * REQUESTS_EACH / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        write_fleet(work / "fleet", 1000)
        server, url = start_server(work / "served.db")
        env = {
            **os.environ,
            "CLINESYNC_CONSOLE": url,
            "CLINE_API_KEY": TOKEN,
            "AZURE_OPENAI_KEY": "bench-key",
        }
        try:
            apply_all = timed([CLINESYNC, "apply", "fleet", "--auto-approve"], env=env, cwd=work)
            plan_all = timed([CLINESYNC, "plan", "fleet"], repeat=3, env=env, cwd=work)
            rate = requests_per_second(url)
        finally:
            server.terminate()
            server.wait(10)
    print(f"serve: GET requests per second, {CLIENTS} clients on loopback: {rate:8,.0f}")
    print(f"apply 1,000 organizations over HTTP:        {apply_all * 1000:8.1f} ms")
    print(f"plan 1,000 organizations over HTTP:         {plan_all * 1000:8.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
