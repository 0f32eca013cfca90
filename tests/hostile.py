"""Hostile organization files, made on demand: each with the rule and message it must be refused with.

Used by tests/test_hostile.py (which bounds time and memory) and bench/hostile.py (which reports them).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ORG = "organization: org-01JZPE4CHW5XTP73W95762121Y\n"


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[], bytes]
    rule: str
    says: str
    line: int | None = None  # where the problem must be, when it is known


def _billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        previous = chr(ord("a") + level - 1)
        lines.append(
            f"{chr(ord('a') + level)}: &{chr(ord('a') + level)} [" + ",".join([f"*{previous}"] * 9) + "]"
        )
    return (ORG + "\n".join(lines) + "\n").encode()


def _alias_in_key_bomb() -> bytes:
    return (ORG + "x: &x {a: 1}\n" + "".join(f"k{index}: *x\n" for index in range(50_000))).encode()


def _merge_bomb() -> bytes:
    return (ORG + "base: &base {telemetryEnabled: true}\nremoteConfig:\n  <<: *base\n").encode()


def _deep_block() -> bytes:
    """700 levels of indentation: as deep as block style gets under 1 MiB (10,000 levels would be 100 MB)."""
    return (
        ORG + "".join("  " * depth + f"k{depth}:\n" for depth in range(700)) + "  " * 700 + "v\n"
    ).encode()


CASES = [
    Hostile("billion laughs", _billion_laughs, "CS103", "anchors and aliases are not supported", 2),
    Hostile("50,000 aliases to one anchor", _alias_in_key_bomb, "CS103", "anchors and aliases", 2),
    Hostile("merge key through an alias", _merge_bomb, "CS103", "anchors and aliases", 2),
    Hostile(
        "merge key written out",
        lambda: (ORG + "remoteConfig:\n  <<: {telemetryEnabled: true}\n").encode(),
        "CS103",
        "merge keys",
        3,
    ),
    Hostile(
        "10,000-deep flow nesting",
        lambda: (ORG + "x: " + "[" * 10_000 + "]" * 10_000 + "\n").encode(),
        "CS103",
        "nesting",
        2,
    ),
    Hostile("700-deep block nesting", _deep_block, "CS103", "nesting deeper than 64", 66),
    Hostile(
        "50 MiB file",
        lambda: ORG.encode() + b"name: " + b"x" * (50 * 1024 * 1024) + b"\n",
        "CS103",
        "over 1 MiB",
        1,
    ),
    Hostile("binary junk", lambda: random.Random(7).randbytes(4096), "CS103", "", None),
    Hostile("NUL byte", lambda: (ORG + "name: a\x00b\n").encode(), "CS103", "not allowed", 2),
    Hostile("UTF-16 with BOM", lambda: ORG.encode("utf-16"), "CS103", "not UTF-8", 1),
    Hostile("UTF-32 with BOM", lambda: ORG.encode("utf-32"), "CS103", "not UTF-8", 1),
    Hostile(
        "UTF-8 then Latin-1",
        lambda: (ORG + "name: café\n").encode() + "name2: caf\xe9\n".encode("latin-1"),
        "CS103",
        "not UTF-8",
        3,
    ),
    Hostile(
        "Cyrillic look-alike key",
        lambda: (
            ORG + "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
            "      openAiBаseUrl: https://x.example.com/v1\n"
        ).encode(),
        "CS101",
        "U+0430 CYRILLIC SMALL LETTER A",
        5,
    ),
    Hostile(
        "!!python/object/apply",
        lambda: (ORG + 'name: !!python/object/apply:os.system ["id"]\n').encode(),
        "CS103",
        "tag",
        2,
    ),
    Hostile(
        "!!python/name", lambda: (ORG + "name: !!python/name:os.system ''\n").encode(), "CS103", "tag", 2
    ),
    Hostile("custom tag", lambda: (ORG + "name: !vault abc\n").encode(), "CS103", "tag", 2),
    Hostile(
        "100,000-digit integer",
        lambda: (ORG + "remoteConfig:\n  openTelemetryLogBatchSize: " + "9" * 100_000 + "\n").encode(),
        "CS100",
        "expected a number",
        3,
    ),
    Hostile("one 900 KiB value", lambda: (ORG + "name: " + "x" * 900_000 + "\n").encode(), "", "", None),
    Hostile(
        "60,000 keys",
        lambda: (ORG + "remoteConfig:\n" + "".join(f"  k{index}: 1\n" for index in range(60_000))).encode(),
        "CS101",
        "unknown key",
        3,
    ),
    Hostile(
        "two documents", lambda: (ORG + "---\n" + ORG).encode(), "CS103", "more than one YAML document", 2
    ),
]


def write_all(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for index, case in enumerate(CASES):
        path = directory / f"{index:02d}.yaml"
        path.write_bytes(case.make())
        paths[case.name] = path
    return paths


# Runs the CLI as `clinesync` would, then reports the process's own peak memory on stderr. VmHWM, not
# ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and exec.
MEASURED = (
    "import re, sys\n"
    "from clinesync.cli import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    "    sys.stderr.write(f'\\npeak-kib {peak}\\n')\n"
)


def measure(path: Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - start
    peak = int(re.search(r"peak-kib (\d+)", result.stderr).group(1))  # type: ignore[union-attr]
    return result, elapsed, peak
