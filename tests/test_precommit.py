"""The pre-commit hook, run by the real `pre-commit` tool from this working tree on a temporary repository.

pre-commit installs the hook into its own environment from the package registry, as it does for users."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import EXAMPLES, REPO

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


@pytest.mark.environment
@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is a test dependency: make test installs it")
def test_the_hook_validates_staged_organization_files(tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    repository.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    shutil.copy(EXAMPLES / "org.yaml", repository / "good.yaml")
    (repository / "mkdocs.yml").write_text("site_name: Docs\nnav: [index.md]\n")  # another tool's file
    (repository / "bad.yaml").write_text("organization: org-01JZPE4CHW5XTP73W95762121B\nenabled: maybe\n")
    (repository / "leak.yaml").write_text(  # a literal bearer token over http://: an error, not a warning
        "organization: org-01JZPE4CHW5XTP73W95762121C\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: http://llm.example.com/v1\n      openAiHeaders:\n        Authorization: Bearer abc123\n"
    )
    # A commit that only breaks a base is checked through the organizations that extend it: team.yaml is
    # not among the files the hook is given.
    (repository / "bases").mkdir()
    (repository / "bases" / "shared.yaml").write_text("remoteConfig:\n  telemetryEnabled: maybe\n")
    (repository / "team.yaml").write_text(
        "organization: org-01JZPE4CHW5XTP73W95762121D\nextends: [bases/shared.yaml]\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=repository, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=repository, check=True, env=env)

    def hook(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRE_COMMIT), "try-repo", str(REPO), "clinesync-validate", "--files", *files],
            cwd=repository,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    # Two runs: each installs the hook's environment afresh (try-repo snapshots this working tree each time).
    failed = hook("good.yaml", "bad.yaml", "leak.yaml", "bases/shared.yaml")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert 'bad.yaml:2:10: error: enabled: expected true or false, got "maybe" [CS100]' in failed.stdout
    assert "leak.yaml:7:24: error:" in failed.stdout and "[CS131]" in failed.stdout
    assert "bases/shared.yaml:2:21: error:" in failed.stdout and "[CS100]" in failed.stdout
    assert "good.yaml" not in failed.stdout  # no problem, so not named
    passed = hook("good.yaml", "mkdocs.yml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "clinesync validate" in passed.stdout and "Passed" in passed.stdout
