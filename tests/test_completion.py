from __future__ import annotations

import os
import subprocess
import sys

import pytest

from support import run


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "_clinesync_completion()"),
        ("zsh", "#compdef clinesync"),
        ("fish", "complete --no-files --command clinesync"),
    ],
)
def test_completion_scripts(shell: str, marker: str) -> None:
    result = run("completion", shell)
    assert result.exit_code == 0 and marker in result.stdout


def test_completion_answers_as_the_shell_asks() -> None:
    env = {
        **os.environ,
        "_CLINESYNC_COMPLETE": "bash_complete",
        "COMP_WORDS": "clinesync pl",
        "COMP_CWORD": "1",
    }
    answer = subprocess.run([sys.executable, "-m", "clinesync"], env=env, capture_output=True, text=True)
    assert "plain,plan" in answer.stdout.splitlines()
