"""Benchmark: how validate and plan scale with the fleet, 10 to 100,000 organizations (the bench fleet of
`common.write_fleet`, on the embedded console, empty: every organization a create). For each size, one run of
each command (plan in text, and in JSON and markdown with a saved plan): wall time, CPU per organization (the whole process tree's user and system time, workers
included), and peak memory (the largest process). Prints the markdown table of docs/performance.md;
`make bench-scaling` writes it there. One run per size, on whatever else the machine is doing: the figures are
this machine's, for seeing the shape (flat, linear), not for ratios; `bench/versus.py` pairs those.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from common import CLINESYNC, write_fleet

SIZES = (10, 100, 1_000, 10_000, 100_000)


_WRAPPER = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "used = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(done.returncode, used.ru_utime + used.ru_stime, used.ru_maxrss)"
)


def measured(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of every process of the command (workers included), and the largest one's
    peak MiB: measured by a parent that runs only it."""
    started = time.perf_counter()
    report = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], cwd=cwd, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    code, cpu, peak = report.stdout.split()
    if int(code) not in (0, 2):
        raise SystemExit(f"{' '.join(command[1:])} failed with exit code {code}")
    return wall, float(cpu), int(peak) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    sizes = [int(size) for size in sys.argv[1:]] or list(SIZES)
    env = {**os.environ, "AZURE_OPENAI_KEY": "bench-stand-in-key"}
    os.environ.update(env)
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            write_fleet(work / "orgs", size)
            for name, command in (
                ("validate", [CLINESYNC, "validate", "orgs"]),
                ("plan", [CLINESYNC, "plan", "orgs"]),  # the embedded console, empty: every one a create
                # The other formats, with a saved plan beside them: each streamed, none held whole.
                (
                    "plan --format json --out",
                    [CLINESYNC, "plan", "orgs", "--format", "json", "--out", "json.plan"],
                ),
                (
                    "plan --format markdown --out",
                    [CLINESYNC, "plan", "orgs", "--format", "markdown", "--out", "markdown.plan"],
                ),
            ):
                wall, cpu, peak = measured(command, work)
                rows.append((name, size, wall, cpu * 1000 / size, peak))
                print(
                    f"{name:28} {size:>7,}  wall {wall:7.2f} s  cpu/org {cpu * 1000 / size:6.2f} ms  peak {peak:7.0f} MiB",
                    file=sys.stderr,
                )
    print("| command | organizations | wall | CPU per organization | peak memory |")
    print("|---|---:|---:|---:|---:|")
    for name, size, wall, per, peak in rows:
        print(f"| `{name}` | {size:,} | {wall:.2f} s | {per:.2f} ms | {peak:.0f} MiB |")
    print(f"\nMeasured {date.today().isoformat()} on {os.cpu_count()} cores, one run per size.")


if __name__ == "__main__":
    main()
