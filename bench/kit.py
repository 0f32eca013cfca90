"""Benchmark: the GitOps kit's figures. The pull-request comment of a 1,000-organization plan in which a third
move their base URL to another host (its size, and the impact lines kept against those the plan holds), and
the action's install step (a fresh virtual environment, `pip install --require-hashes -r locks/runtime.txt`,
then clinesync itself without build isolation) with pip's cache cold and then warm, alternating. The install
reaches the package registry: its figures are this machine's and its registry's. Prints; asserts nothing.
Run with `python bench/kit.py`.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.plans.plan import make_plan
from clinesync.render.markdown import MAX_COMMENT, plan_markdown

REPO = Path(__file__).resolve().parent.parent
COUNT = 1000
ROUNDS = 3


def org(organization: str, host: str) -> str:
    return (
        f"organization: {organization}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        f"      openAiBaseUrl: https://{host}/v1\n      models:\n        - id: gpt-4.1\n"
        "          contextWindow: 128000\n"
    )


def comment_figures(folder: Path) -> None:
    files, writes = [], []
    for index in range(COUNT):
        organization = f"org-01JZPE4CHW5XTP73W9{index:08d}"
        settings = {
            "openAiBaseUrl": "https://gw.example.com/v1",
            "models": [{"id": "gpt-4.1", "contextWindow": 8}],
        }
        writes.append(
            (organization, Document(True, {"providerSettings": {"OpenAiCompatible": settings}}), None)
        )
        path = folder / f"{index:04d}.yaml"
        path.write_text(org(organization, "other-gw.example.net" if index % 3 == 0 else "gw.example.com"))
        files.append(str(path))
    console = LocalConsole(folder / "console.db")
    console.write_many(writes)
    plan = make_plan(files, console, {})
    console.close()
    text = plan_markdown(plan)
    held = sum(len(org.impacts) for org in plan.organizations)
    distinct = {impact for org in plan.organizations for impact in org.impacts}
    head = text.split("| organization | result | changes |")[0]
    shown = [line for line in head.splitlines() if line.startswith("!")]
    print(f"comment at {COUNT} organizations: {len(text):,} characters of {MAX_COMMENT:,}")
    print(
        f"  impact lines in the plan: {held:,} ({len(distinct)} distinct); in the must-not-miss block: {len(shown)}"
    )
    print(f"  every distinct impact shown: {len(shown) == len(distinct)}; cut note: {'Cut to fit' in text}")


def install(cache: Path) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "venv"
        started = time.perf_counter()
        venv.create(home, with_pip=True)
        python = str(home / "bin" / "python")
        quiet = ["--quiet", "--disable-pip-version-check", "--cache-dir", str(cache)]
        lock = str(REPO / "locks" / "runtime.txt")
        subprocess.run([python, "-m", "pip", "install", *quiet, "--require-hashes", "-r", lock], check=True)
        source = Path(scratch) / "source"
        shutil.copytree(
            REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__")
        )
        subprocess.run(
            [python, "-m", "pip", "install", *quiet, "--no-deps", "--no-build-isolation", str(source)],
            check=True,
        )
        subprocess.run([str(home / "bin" / "clinesync"), "--version"], check=True, capture_output=True)
        return time.perf_counter() - started


def install_figures() -> None:
    cold, warm = [], []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(install(Path(cache)))
            warm.append(install(Path(cache)))
    for label, times in (("cold cache", cold), ("warm cache", warm)):
        print(
            f"action install, {label}: median {statistics.median(times):.1f} s "
            f"(min {min(times):.1f}, max {max(times):.1f}, {ROUNDS} runs)"
        )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        comment_figures(Path(folder))
    if "--no-install" not in sys.argv:
        install_figures()
