"""`pip install .` ships the schema inside the package: build a wheel, install it into a fresh virtual
environment, and validate from another directory. Offline: the wheel is built without isolation and the
runtime packages come from this environment."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from support import EXAMPLES, REPO


@pytest.mark.environment
def test_wheel_in_a_fresh_venv_validates_from_another_directory(tmp_path: Path) -> None:
    source = tmp_path / "source"  # pip builds inside the tree it is given: keep the checkout clean
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    dist = tmp_path / "dist"
    pip_wheel = ["pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)]
    subprocess.run([sys.executable, "-m", *pip_wheel], check=True, capture_output=True)
    [wheel] = dist.glob("clinesync-*.whl")
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    fresh_python = target / "bin" / "python"
    subprocess.run(
        [fresh_python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    # The runtime packages come from this environment; clinesync itself only from the fresh one.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(site.getsitepackages())}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = subprocess.run(
        [fresh_python, "-c", "import clinesync, sys; print(clinesync.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.startswith(str(target))
    result = subprocess.run(
        [target / "bin" / "clinesync", "validate", str(EXAMPLES)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    schema = subprocess.run(
        [fresh_python, "-m", "clinesync", "schema"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0 and str(target) in schema.stderr
    quick_help = subprocess.run(
        [target / "bin" / "clinesync", "--help"],
        cwd=elsewhere,
        env={**env, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert quick_help.stdout == (REPO / "clinesync" / "cli" / "help.txt").read_text()  # shipped in the wheel
