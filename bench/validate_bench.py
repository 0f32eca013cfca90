"""Benchmark: `clinesync validate` of one file and of 1,000 files, whole process, through the venv's own script.

Prints figures; asserts nothing. Run with `make bench`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import CLINESYNC, EXAMPLE, timed, write_fleet


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        fleet = Path(scratch) / "fleet"
        write_fleet(fleet, 1000)
        one = timed([CLINESYNC, "validate", str(EXAMPLE)], repeat=9)
        help_time = timed([CLINESYNC, "--help"], repeat=9)
        many = timed([CLINESYNC, "validate", str(fleet)], repeat=3)
    print(f"clinesync --help:                 {help_time * 1000:7.1f} ms")
    print(f"validate 1 file:                  {one * 1000:7.1f} ms")
    print(f"validate 1,000 files:             {many * 1000:7.1f} ms  ({1000 / many:,.0f} files/s)")


if __name__ == "__main__":
    main()
