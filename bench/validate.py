"""Benchmark: `clinesync validate` (jsonschema at run time) side by side with `octodns-validate`, in one run.

Prints figures and the ratios the targets are stated in; asserts nothing. Run with `make bench-validate`.
Runs alternate between the two commands, so a change in the machine's load falls on both alike.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import CLINESYNC, EXAMPLE, octodns_config, timings, write_fleet

OCTODNS_VALIDATE = (
    os.path.abspath(os.environ["OCTODNS_VALIDATE"]) if os.environ.get("OCTODNS_VALIDATE") else ""
)


def paired(first: list[str], second: list[str], rounds: int, **options: object) -> tuple[float, float]:
    """Medians of `rounds` alternating runs of each command."""
    ones, twos = [], []
    for _ in range(rounds):
        ones += timings(first, **options)
        twos += timings(second, **options)
    return statistics.median(ones), statistics.median(twos)


_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], capture_output=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_mib(command: list[str], cwd: Path) -> float:
    """Peak resident memory of one run of `command`, in MiB, measured by a parent that runs only it."""
    import subprocess

    child = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], cwd=cwd, capture_output=True, text=True, check=True
    )
    return int(child.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        one = [CLINESYNC, "validate", str(EXAMPLE)]
        if OCTODNS_VALIDATE:
            peer = [OCTODNS_VALIDATE, "--config-file", str(octodns_config(work))]
            ours, theirs = paired(one, peer, 15, cwd=work)
            print(f"validate 1 organization            {ours * 1000:8.1f} ms")
            print(f"octodns-validate, tiny zone (peer)  {theirs * 1000:8.1f} ms")
            print(f"  ratio clinesync / octoDNS         {ours / theirs:8.2f}  (target <= 1.00)")
        else:
            print("octodns-validate not found: set OCTODNS_VALIDATE", file=sys.stderr)
        write_fleet(work / "fleet", 1000)
        fleet = statistics.median(timings([CLINESYNC, "validate", "fleet"], 5, cwd=work))
        print(f"validate 1,000 organizations        {fleet * 1000:8.1f} ms")
        print(f"  ratio to 1 s                      {fleet:8.2f}  (target <= 1.00)")
        write_fleet(work / "fleet10k", 10_000)
        print(
            f"validate 10,000 organizations, peak {peak_mib([CLINESYNC, 'validate', 'fleet10k'], work):8.1f} MiB"
            "  (target <= 100)"
        )


if __name__ == "__main__":
    main()
