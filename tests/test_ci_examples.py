"""The CI examples work: each workflow parses, and its `run:` steps, executed as shell the way the CI service
runs them, carry an organization through plan, apply of the saved plan, and drift against `clinesync serve`
on loopback.

Steps that need the CI service itself are not run: `uses:` actions, installing clinesync (it is on PATH
here), and the `gh` download of the reviewed plan (the test copies the plan artifact, as it would)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinesync.consoles.local import LocalConsole
from clinesync.document import Document

from fake_llm import KEY, FakeLLM
from support import EXAMPLES, TOKEN, RunningServer

GITHUB = EXAMPLES / "ci" / "github"
WORKFLOW = GITHUB / "clinesync.yml"
GITLAB = EXAMPLES / "ci" / "gitlab" / ".gitlab-ci.yml"
SECRET = "ci-planted-secret-7e6d5c"
ORG = "org-01JZPE4CHW5XTP73W95762121Y"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def job(name: str) -> dict[str, Any]:
    jobs: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return jobs[name]


_CONDITION = re.compile(r"((?:vars|steps\.reviewed\.outputs)\.\w+) (==|!=) '([^']*)'\Z")


def runnable(step: dict[str, Any], variables: dict[str, str]) -> bool:
    script = step.get("run", "")
    if not script or "pip install" in script or re.search(r"(^|\s)gh\s", script):
        return False
    condition = step.get("if")
    if condition is None or condition == "always()":
        return True
    held = []
    for clause in condition.split(" && "):
        match = _CONDITION.match(clause)
        assert match, f"the test cannot evaluate `if: {condition}`"
        name, operator, value = match.groups()
        held.append((variables.get(name.removeprefix("vars."), "") == value) == (operator == "=="))
    return all(held)


class Runner:
    """Runs a job's shell steps in one workspace, as the CI service would, with its env expressions filled."""

    def __init__(self, workspace: Path, server: RunningServer, summary: Path) -> None:
        self.workspace = workspace
        self.values = {
            "vars.CLINESYNC_CONSOLE": server.url,
            "secrets.CLINE_API_KEY": TOKEN,
            "secrets.AZURE_OPENAI_KEY": SECRET,
            "secrets.PROBE_API_KEY": KEY,
            "github.event.pull_request.base.sha": "",  # not a git checkout: every organization
            "vars.CLINESYNC_POLL_SECONDS || '60'": "0.2",
            "strategy.job-total": "1",  # CLINESYNC_SHARDS unset: one drift job
            "matrix.shard": "1",
        }
        self.variables: dict[str, str] = {}  # the repository variables `if:` conditions read
        self.github_output = summary.parent / "github-output.txt"
        self.base = {
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("CLINE", "AZURE", "CI"))
            },
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(self.github_output),
        }
        self.outputs: list[str] = []

    def fill(self, text: str, matrix: dict[str, str]) -> str:
        known = {**self.values, **{f"matrix.{key}": value for key, value in matrix.items()}}

        def value(match: re.Match[str]) -> str:
            assert match.group(1) in known, f"the test does not know ${{{{ {match.group(1)} }}}}"
            return known[match.group(1)]

        return _EXPRESSION.sub(value, text)

    def job(self, job: dict[str, Any], matrix: dict[str, str] | None = None) -> int:
        matrix = matrix or {}
        env = {**self.base, **self.filled(job.get("env", {}), matrix)}
        # The step that downloads the reviewed plan (`gh`) is the test's to do: it says whether it found one.
        reviewed = "yes" if (self.workspace / "reviewed" / "clinesync.plan").exists() else ""
        variables = {**self.variables, "steps.reviewed.outputs.plan": reviewed}
        for step in (step for step in job["steps"] if runnable(step, variables)):
            step_env = {**env, **self.filled(step.get("env", {}), matrix)}
            code = self.shell(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], step_env
            )
            if code != 0:
                return code
        return 0

    def filled(self, env: dict[str, Any], matrix: dict[str, str]) -> dict[str, str]:
        return {key: self.fill(str(value), matrix) for key, value in env.items()}

    def shell(self, command: list[str], env: dict[str, str]) -> int:
        result = subprocess.run(
            command, cwd=self.workspace, env=env, capture_output=True, text=True, timeout=120
        )
        self.outputs.append(result.stdout + result.stderr)
        return result.returncode


@pytest.fixture
def runner(tmp_path: Path, console_server: RunningServer) -> Runner:
    workspace = tmp_path / "repo"
    (workspace / "orgs").mkdir(parents=True)
    shutil.copy(EXAMPLES / "org.yaml", workspace / "orgs" / "acme.yaml")
    return Runner(workspace, console_server, tmp_path / "summary.md")


def test_the_workflow_lists_the_secrets_once_and_gives_them_only_to_the_steps_that_run_clinesync() -> None:
    text = WORKFLOW.read_text()
    assert [path.name for path in GITHUB.glob("*.yml")] == ["clinesync.yml"]
    assert text.count("secrets.CLINE_API_KEY") == text.count("secrets.AZURE_OPENAI_KEY") == 1
    assert "sk-" not in text and "secrets: inherit" not in text
    document = yaml.safe_load(text)
    for name, each in document["jobs"].items():
        assert all("secrets." not in str(value) for value in each.get("env", {}).values()), name
        for step in each["steps"]:
            env = step.get("env", {})
            console = re.search(r"clinesync (plan|apply|drift|probe) ", step.get("run", ""))
            assert ("CLINE_API_KEY" in env) == bool(console), (name, step.get("name"))
            if console:
                assert env["CLINE_API_KEY"] == "${{ secrets.CLINE_API_KEY }}"
    assert not any("secrets." in str(step) for step in document["jobs"]["validate"]["steps"])


def test_each_job_runs_on_its_own_event() -> None:
    events = {name: job(name)["if"] for name in ("validate", "apply", "drift")}
    assert "'pull_request'" in events["validate"] and "'push'" in events["apply"]
    assert "'schedule'" in events["drift"] and "'push'" not in events["drift"]
    assert job("plan")["needs"] == "validate" and job("drift-issue")["needs"] == "drift"
    assert job("plan")["concurrency"]["cancel-in-progress"] is True
    # No shared group: GitHub would cancel a pending apply when a third merge queues behind it.
    assert job("apply")["concurrency"] == {
        "group": "clinesync-apply-${{ github.sha }}",
        "cancel-in-progress": False,
    }


def test_pull_request_plan_then_apply_on_merge_then_drift(runner: Runner, tmp_path: Path) -> None:
    assert runner.job(job("plan")) == 0, runner.outputs
    plan_md = (runner.workspace / "plan.md").read_text()
    assert plan_md.startswith("<!-- clinesync-plan -->") and "create" in plan_md
    reviewed = runner.workspace / "reviewed"
    reviewed.mkdir()
    shutil.copy(
        runner.workspace / "clinesync.plan", reviewed / "clinesync.plan"
    )  # what `gh run download` does
    assert runner.job(job("apply")) == 0, runner.outputs
    assert "applied (revision 1)" in runner.outputs[-1]
    assert runner.job(job("drift")) == 0, runner.outputs
    assert '"update": 0' in (runner.workspace / "drift-1.json").read_text()
    summary = (tmp_path / "summary.md").read_text()
    assert "<!-- clinesync-plan -->" in summary and "<!-- clinesync-drift -->" in summary
    assert all(SECRET not in output and TOKEN not in output for output in runner.outputs)


def test_a_plan_that_fails_fails_the_job_so_the_comment_says_so(runner: Runner) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        runner.values["vars.CLINESYNC_CONSOLE"] = f"http://127.0.0.1:{probe.getsockname()[1]}"  # refused
        runner.base["CLINESYNC_RETRIES"] = "0"
        assert runner.job(job("plan")) == 1
    assert "failed" in (runner.workspace / "plan.md").read_text()


def test_apply_on_merge_refuses_a_stale_plan(runner: Runner, console_server: RunningServer) -> None:
    runner.job(job("plan"))
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
    someone = LocalConsole(console_server.database)
    someone.write(ORG, Document(True, {"version": "v1"}), None)  # a change in the console after review
    someone.close()
    assert runner.job(job("apply")) == 1
    assert "plan is stale" in runner.outputs[-1]
    # The comment reporting the failure is made from result.txt: the reason is in it.
    assert "plan is stale" in (runner.workspace / "result.txt").read_text()


def test_nightly_drift_reports_drift_for_the_issue_step(
    runner: Runner, console_server: RunningServer
) -> None:
    someone = LocalConsole(console_server.database)
    someone.write(ORG, Document(True, {"version": "v1"}), None)
    someone.close()
    # Drift is an issue the next step opens (or updates), not a failed job; an error still fails it.
    assert runner.job(job("drift")) == 0
    assert '"update": 1' in (runner.workspace / "drift-1.json").read_text()


def test_the_sharded_fleet_covers_every_organization(runner: Runner) -> None:
    for index in range(6):
        text = (EXAMPLES / "vllm-gateway.yaml").read_text().replace("0Y2A4C", f"0Y2A{index:02d}")
        (runner.workspace / "orgs" / f"lab-{index}.yaml").write_text(text)
    runner.base["GATEWAY_TOKEN"] = "gateway-token-0000"
    drift = job("drift")
    runner.values["strategy.job-total"] = "3"  # CLINESYNC_SHARDS: [1, 2, 3]
    seen = []
    for shard in (1, 2, 3):
        # nothing applied yet: every organization is missing, which is drift (for the issue), not a failure
        assert runner.job(drift, {"shard": str(shard)}) == 0, runner.outputs[-1]
        report = (runner.workspace / f"drift-{shard}.json").read_text()
        seen += re.findall(r'"file": "([^"]+)"', report)
    assert sorted(seen) == sorted(f"orgs/{path.name}" for path in (runner.workspace / "orgs").iterdir())


def test_gitlab_jobs_plan_and_apply_the_saved_plan(runner: Runner) -> None:
    pipeline = yaml.safe_load(GITLAB.read_text())
    assert {"validate", "plan", "apply", "drift"} <= set(pipeline)
    env = {
        **runner.base,
        "CLINESYNC_CONSOLE": runner.values["vars.CLINESYNC_CONSOLE"],
        "CLINE_API_KEY": TOKEN,
        "AZURE_OPENAI_KEY": SECRET,
    }
    for name in ("validate", "plan", "apply", "drift"):
        for line in pipeline[name]["script"]:
            assert runner.shell(["sh", "-c", line], env) == 0, runner.outputs
    assert any("applied (revision 1)" in output for output in runner.outputs)


def test_the_probe_gate_stops_an_apply_whose_endpoint_fails(runner: Runner) -> None:
    """With CLINESYNC_PROBE on, the apply job probes first: a missing model stops it before any write."""
    llm = FakeLLM().start()
    runner.values["secrets.AZURE_OPENAI_KEY"] = (
        KEY  # the file's own api-key header is what the endpoint checks
    )
    try:
        org = runner.workspace / "orgs" / "acme.yaml"
        text = org.read_text().replace(
            "https://acme.openai.azure.com/openai/deployments/gpt-4o",
            f"http://127.0.0.1:{llm.port}/openai/deployments/gpt-4o",
        )
        org.write_text(text)
        runner.job(job("plan"))
        (runner.workspace / "reviewed").mkdir()
        shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
        runner.variables["CLINESYNC_PROBE"] = "true"
        # The deployment offers gpt-4o only; the file also declares gpt-4o-mini.
        assert runner.job(job("apply")) == 1
        assert "fail  model gpt-4o-mini: declared but not offered" in runner.outputs[-1]
        org.write_text(
            text.replace(
                "        - id: gpt-4o-mini\n          contextWindow: 128000\n"
                "          maxTokens: 16384\n          supportsImages: true\n",
                "",
            )
        )
        runner.variables["CLINESYNC_PROBE"] = ""
        runner.job(job("plan"))
        shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
        runner.variables["CLINESYNC_PROBE"] = "true"
        assert runner.job(job("apply")) == 0, runner.outputs[-2:]
    finally:
        llm.stop()


def test_the_hosted_console_path_publishes_the_checklist_and_verifies_by_reading(
    runner: Runner, tmp_path: Path
) -> None:
    """Against a console that refuses writes (`serve --read-only`, as Cline's hosted console): the apply job
    publishes the checklist, writes nothing, and passes once the admin's change reads back."""
    import threading
    import time

    from support import start_server

    hosted = start_server(tmp_path / "hosted.db", read_only=True)
    runner.values["vars.CLINESYNC_CONSOLE"] = hosted.url
    runner.variables["CLINESYNC_APPLY"] = "manual"
    try:
        assert runner.job(job("plan")) == 0, runner.outputs
        (runner.workspace / "reviewed").mkdir()
        shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
        from clinesync.plans.plan import make_plan

        scratch = LocalConsole(tmp_path / "scratch.db")
        env = {"AZURE_OPENAI_KEY": SECRET}
        [org] = make_plan([str(runner.workspace / "orgs" / "acme.yaml")], scratch, env).organizations
        scratch.close()
        assert org.target is not None

        summary = tmp_path / "summary.md"

        def admin_clicks_save() -> None:  # once the checklist is published, not on a timer
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (
                not summary.exists() or "apply these changes" not in summary.read_text()
            ):
                time.sleep(0.05)
            console = LocalConsole(hosted.database)
            console.write(ORG, org.target, None)  # type: ignore[arg-type]
            console.close()

        threading.Thread(target=admin_clicks_save).start()
        code = runner.job(job("apply"))
    finally:
        hosted.stop()
    assert code == 0, runner.outputs[-3:]
    checklist = (tmp_path / "summary.md").read_text()
    assert "apply these changes in the admin console" in checklist and "Base URL" in checklist
    assert hosted.server.requests["PUT"] == 0
    assert not any(": applied (revision" in output for output in runner.outputs)
    assert all(SECRET not in output and TOKEN not in output for output in runner.outputs)


def _git(workspace: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=workspace, env=env, check=True, capture_output=True, text=True
    ).stdout


def test_a_pull_request_plans_the_organizations_it_changes_and_all_when_shared_files_change(
    runner: Runner,
) -> None:
    other = (EXAMPLES / "vllm-gateway.yaml").read_text()
    (runner.workspace / "orgs" / "lab.yaml").write_text(other)
    _git(runner.workspace, "init", "-q")
    _git(runner.workspace, "add", ".")
    _git(runner.workspace, "commit", "-qm", "base")
    runner.values["github.event.pull_request.base.sha"] = _git(runner.workspace, "rev-parse", "HEAD").strip()
    scope = [
        step for step in job("plan")["steps"] if step.get("name") == "Organizations this pull request changes"
    ]
    acme = runner.workspace / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text().replace("maxTokens: 16384", "maxTokens: 8192"))
    _git(runner.workspace, "commit", "-qam", "acme only")
    assert runner.job({"steps": scope}) == 0
    assert (runner.workspace / "targets.txt").read_text() == "orgs/acme.yaml\n"
    # A base under orgs/bases/, where export --all --extract-base puts it, reaches the files that extend it.
    (runner.workspace / "orgs" / "bases").mkdir()
    (runner.workspace / "orgs" / "bases" / "shared.yaml").write_text(
        "remoteConfig:\n  telemetryEnabled: true\n"
    )
    lab = runner.workspace / "orgs" / "lab.yaml"
    lab.write_text(lab.read_text().replace("remoteConfig:", "extends: [bases/shared.yaml]\nremoteConfig:", 1))
    _git(runner.workspace, "add", ".")
    _git(runner.workspace, "commit", "-qm", "a base")
    runner.values["github.event.pull_request.base.sha"] = _git(runner.workspace, "rev-parse", "HEAD").strip()
    (runner.workspace / "orgs" / "bases" / "shared.yaml").write_text(
        "remoteConfig:\n  telemetryEnabled: false\n"
    )
    _git(runner.workspace, "commit", "-qam", "base only")
    assert runner.job({"steps": scope}) == 0
    assert (runner.workspace / "targets.txt").read_text() == "orgs/lab.yaml\n"
    (runner.workspace / "clinesync.yaml").write_text("paths: [orgs/]  # shared\n")
    _git(runner.workspace, "add", ".")
    _git(runner.workspace, "commit", "-qm", "shared")
    assert runner.job({"steps": scope}) == 0
    assert (runner.workspace / "targets.txt").read_text() == "orgs/acme.yaml\norgs/lab.yaml\n"


@pytest.mark.skipif(
    shutil.which("zizmor") is None and not (Path(sys.executable).parent / "zizmor").exists(),
    reason="zizmor is a test dependency: make test installs it",
)
def test_zizmor_finds_nothing_at_medium_or_above_in_the_workflows() -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    result = subprocess.run(
        [
            zizmor,
            "--offline",
            "--min-severity",
            "medium",
            str(WORKFLOW),
            str(EXAMPLES.parent / ".github" / "workflows" / "release.yml"),
            str(EXAMPLES.parent / "action.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_the_workflow_pins_actions_by_commit_and_grants_least_permissions() -> None:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert document["permissions"] == {}, "the workflow grants nothing; each job asks for its own"
    writes = {
        name: {scope for scope, level in each["permissions"].items() if level == "write"}
        for name, each in document["jobs"].items()
    }
    assert writes == {
        "validate": set(),
        "plan": {"pull-requests"},
        "apply": {"pull-requests"},
        "drift": set(),
        "drift-issue": {"issues"},
    }
    for each in document["jobs"].values():
        for step in each["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


ACTION = EXAMPLES.parent / "action.yml"
RELEASE = EXAMPLES.parent / ".github" / "workflows" / "release.yml"


def test_the_action_runs_a_command_and_exposes_its_exit_code_and_plan(runner: Runner, tmp_path: Path) -> None:
    """The composite action's shell steps, run as the CI service runs them (its install step is skipped:
    clinesync is installed here already)."""
    action = yaml.safe_load(ACTION.read_text())
    steps = [step for step in action["runs"]["steps"] if runnable(step, {})]
    inputs = {
        "inputs.command": "plan",
        "inputs.args": "orgs/ --detailed-exitcode",
        "inputs.plan-file": "reviewed.plan",
        "inputs.allow-changes": "true",
        "inputs.python-version": "3.12",
    }
    runner.values.update(inputs)
    runner.base.update({"CLINESYNC_CONSOLE": runner.values["vars.CLINESYNC_CONSOLE"], "CLINE_API_KEY": TOKEN})
    runner.base.update({"AZURE_OPENAI_KEY": SECRET, "GITHUB_ACTION_PATH": str(ACTION.parent)})
    assert runner.job({"steps": steps}) == 0, runner.outputs
    assert "exit-code=2\nplan-file=reviewed.plan\n" in runner.github_output.read_text()
    assert (runner.workspace / "reviewed.plan").exists()
    runner.values["inputs.allow-changes"] = "false"
    assert runner.job({"steps": steps}) == 2  # changes fail the step unless allowed
    assert set(action["outputs"]) == {"exit-code", "plan-file"}


def test_the_release_and_the_container_are_built_as_promised() -> None:
    release = yaml.safe_load(RELEASE.read_text())
    assert release["permissions"] == {}
    assert release["jobs"]["publish"]["permissions"]["id-token"] == "write"
    assert "id-token" not in release["jobs"]["build"]["permissions"]
    assert any(
        "pypa/gh-action-pypi-publish@" in step.get("uses", "") for step in release["jobs"]["publish"]["steps"]
    )
    dockerfile = (EXAMPLES.parent / "Dockerfile").read_text()
    assert "FROM python:3.12-slim" in dockerfile
    assert "\nUSER clinesync\n" in dockerfile and 'ENTRYPOINT ["clinesync"]' in dockerfile


def test_a_pull_request_that_changes_no_organization_plans_and_applies_nothing_and_is_green(
    runner: Runner, console_server: RunningServer
) -> None:
    (runner.workspace / "README.md").write_text("# fleet\n")
    _git(runner.workspace, "init", "-q")
    _git(runner.workspace, "add", ".")
    _git(runner.workspace, "commit", "-qm", "base")
    runner.values["github.event.pull_request.base.sha"] = _git(runner.workspace, "rev-parse", "HEAD").strip()
    (runner.workspace / "README.md").write_text("# fleet, documented\n")
    _git(runner.workspace, "commit", "-qam", "docs only")
    assert runner.job(job("plan")) == 0, runner.outputs
    assert "no organization file changed" in (runner.workspace / "plan.md").read_text()
    assert not (runner.workspace / "clinesync.plan").exists()
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "plan.md", runner.workspace / "reviewed" / "plan.md")  # the artifact
    assert runner.job(job("apply")) == 0, runner.outputs
    assert console_server.server.requests["PUT"] == 0
