"""Hostile files: each gets a located error, in a process that ends (a hang guard, not a speed target) and
stays within a memory bound. Figures: bench/hostile.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hostile import CASES, Hostile, measure

MEMORY_BOUND_KIB = 200 * 1024


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_hostile_file_gets_a_located_error_within_bounds(case: Hostile, tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(case.make())
    result, _, peak = measure(path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output
    assert peak < MEMORY_BOUND_KIB, f"{peak} KiB"
    if not case.rule:
        assert result.returncode == 0, output
        return
    assert result.returncode == 1, output
    located = re.findall(
        rf"^{re.escape(str(path))}:(\d+):(\d+): error: (.*) \[{case.rule}\]$", result.stdout, re.M
    )
    assert located, output[:2000]
    assert any(case.says in message for _, _, message in located), output[:2000]
    if case.line is not None:
        assert any(int(line) == case.line for line, _, _ in located), output[:2000]
