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


@pytest.mark.environment
def test_the_release_builds_an_sdist_and_a_wheel_that_twine_accepts(tmp_path: Path) -> None:
    """As the release job does (`python -m build --no-isolation`, `twine check --strict`); then the metadata
    PyPI reads: name, version, the runtime requirements, and the data files the wheel must carry."""
    import email
    import zipfile

    import tomllib

    import clinesync

    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    [wheel] = dist.glob("clinesync-*.whl")
    [sdist] = dist.glob("clinesync-*.tar.gz")
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata_name] = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    assert metadata["Name"] == "clinesync" and metadata["Version"] == clinesync.__version__
    assert float(metadata["Metadata-Version"]) >= 2.4 and metadata["License-Expression"] == "Apache-2.0"
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    required = metadata.get_all("Requires-Dist") or []
    for line in wanted:
        name = line.split("#")[0].split(">")[0].split("<")[0].strip()
        assert any(entry.startswith(name) for entry in required), line
    for shipped in (
        "schemas/org.schema.json",
        "schemas/project.schema.json",
        "templates/clinesync.yml",
        "cli/help.txt",
    ):
        assert f"clinesync/{shipped}" in names, shipped
