"""Benchmark: time and peak memory of `clinesync validate` on every hostile file (tests/hostile.py).

Prints figures and the worst of each; asserts nothing (tests/test_hostile.py bounds them)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile import CASES, measure


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for case in CASES:
            path = Path(scratch) / "hostile.yaml"
            path.write_bytes(case.make())
            result, seconds, peak = measure(path)
            rows.append((case.name, seconds, peak, result.returncode))
    width = max(len(name) for name, *_ in rows)
    for name, seconds, peak, code in rows:
        print(f"{name:<{width}}  {seconds * 1000:8.1f} ms  {peak / 1024:6.1f} MiB  exit {code}")
    worst_time = max(rows, key=lambda row: row[1])
    worst_memory = max(rows, key=lambda row: row[2])
    print(f"worst time:   {worst_time[1] * 1000:.1f} ms ({worst_time[0]})")
    print(f"worst memory: {worst_memory[2] / 1024:.1f} MiB ({worst_memory[0]})")


if __name__ == "__main__":
    main()
