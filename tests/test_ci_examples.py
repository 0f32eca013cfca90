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
from support import EXAMPLES, REPO, TOKEN, RunningServer, edit_live

GITHUB = EXAMPLES / "ci" / "github"
WORKFLOW = GITHUB / "clinesync.yml"
GITLAB = EXAMPLES / "ci" / "gitlab" / ".gitlab-ci.yml"
SECRET = "ci-planted-secret-7e6d5c"
PLACEHOLDER = "OWNER/clinesync@COMMIT_SHA"  # what the docs tell a team to replace with its pinned commit
ORG = "org-01JZPE4CHW5XTP73W95762121Y"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def job(name: str) -> dict[str, Any]:
    jobs: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return jobs[name]


_TOKEN = re.compile(r"\s*(\|\||&&|==|!=|!|\(|\)|'[^']*'|always\(\)|cancelled\(\)|[\w.-]+)")


def condition_holds(condition: str, context: dict[str, str]) -> bool:
    """An `if:` expression as GitHub evaluates it, for what the examples use: names (unknown ones empty),
    'strings', ==, !=, !, &&, ||, parentheses, always() and cancelled() (a run that goes on is not cancelled)."""
    condition = condition.strip().removeprefix("${{").removesuffix("}}").strip()
    tokens = _TOKEN.findall(condition)
    unspaced = re.sub(r"'[^']*'|\s+", lambda found: found.group(0).strip(), condition)  # quoted text kept
    assert "".join(tokens) == unspaced, f"the test cannot read `if: {condition}`"
    position = 0

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def either() -> object:
        value = both()
        while peek() == "||":
            take()
            right = both()
            value = value or right
        return value

    def both() -> object:
        value = compared()
        while peek() == "&&":
            take()
            right = compared()
            value = value and right
        return value

    def compared() -> object:
        value = single()
        if peek() in ("==", "!="):
            equal = take() == "=="
            return (value == single()) == equal
        return value

    def single() -> object:
        token = take()
        if token == "!":
            return not single()
        if token == "(":
            value = either()
            assert take() == ")"
            return value
        if token == "always()":
            return True
        if token == "cancelled()":
            return False
        if token.startswith("'"):
            return token[1:-1]
        return context.get(token, "")

    result = either()
    assert position == len(tokens), f"the test cannot read `if: {condition}`"
    return bool(result)


def runnable(step: dict[str, Any], context: dict[str, str]) -> bool:
    script = step.get("run", "")
    if not script or "pip install" in script or re.search(r"(^|\s)gh\s", script):
        return False
    return condition_holds(step.get("if", "success()").replace("success()", "always()"), context)


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
            "inputs.organizations": "",
            "vars.CLINESYNC_POLL_SECONDS || '60'": "0.2",
            "strategy.job-total": "1",  # CLINESYNC_SHARDS unset: one drift job
            "matrix.shard": "1",
        }
        self.variables: dict[str, str] = {}  # the repository variables and event fields `if:` conditions read
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
        self.mass_change_allowed = False

    def fill(self, text: str, matrix: dict[str, str]) -> str:
        known = {**self.values, **{f"matrix.{key}": value for key, value in matrix.items()}}

        def value(match: re.Match[str]) -> str:
            assert match.group(1) in known, f"the test does not know ${{{{ {match.group(1)} }}}}"
            return known[match.group(1)]

        return _EXPRESSION.sub(value, text)

    def job(self, job: dict[str, Any], matrix: dict[str, str] | None = None) -> int:
        matrix = matrix or {}
        env = {**self.base, **self.filled(job.get("env", {}), matrix)}
        # The steps that download the reviewed plan (`gh`) are the test's to do: it says whether it found one,
        # and whether a reviewer allowed a mass change (the clinesync-mass-change label).
        reviewed = "yes" if (self.workspace / "reviewed" / "clinesync.plan").exists() else ""
        (self.workspace / "mass-change.txt").write_text(
            "--allow-mass-change\n" if self.mass_change_allowed else ""
        )
        context = {
            **self.values,
            "github.event_name": "push",
            **{f"vars.{name}": value for name, value in self.variables.items()},
            "steps.plan.outputs.plan": reviewed,
            # A plan made with waves: the apply job applies its first wave (rollout next), and keeps the plan
            # for the promote job, whose downloads (`gh`) are the test's too (rollouts/RUN/).
            "steps.plan.outputs.rollout": "yes"
            if reviewed and _has_waves(self.workspace / "reviewed")
            else "",
            "steps.plan.outputs.changes": "yes" if reviewed and _changes(self.workspace / "reviewed") else "",
            "steps.rollout.outputs.plan": "yes"
            if list(self.workspace.glob("rollouts/*/clinesync.plan"))
            else "",
        }
        for step in (step for step in job["steps"] if runnable(step, context)):
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


def _has_waves(folder: Path) -> bool:
    import json

    return "rollout" in json.loads((folder / "clinesync.plan").read_text())


def _changes(folder: Path) -> bool:
    import json

    organizations = json.loads((folder / "clinesync.plan").read_text())["organizations"]
    return any(organization["changes"] for organization in organizations)


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
            console = re.search(r"clinesync (plan|apply|drift|probe|rollout next|pull) ", step.get("run", ""))
            assert ("CLINE_API_KEY" in env) == bool(console), (name, step.get("name"))
            if console:
                assert env["CLINE_API_KEY"] == "${{ secrets.CLINE_API_KEY }}"
    assert not any("secrets." in str(step) for step in document["jobs"]["validate"]["steps"])


EVENTS = {
    "a pull request": {
        "github.event_name": "pull_request",
        "github.event.pull_request.head.repo.full_name": "o/r",
    },
    "a fork's pull request": {
        "github.event_name": "pull_request",
        "github.event.pull_request.head.repo.full_name": "f/r",
    },
    "a fork's pull request, as main sees it": {
        "github.event_name": "pull_request_target",
        "github.event.pull_request.head.repo.full_name": "f/r",
    },
    "a pull request, as main sees it": {
        "github.event_name": "pull_request_target",
        "github.event.pull_request.head.repo.full_name": "o/r",
    },
    "a merge": {"github.event_name": "push"},
    "the night": {"github.event_name": "schedule", "github.event.schedule": "17 3 * * *"},
    "the hour": {"github.event_name": "schedule", "github.event.schedule": "47 * * * *"},
    "a re-plan": {"github.event_name": "workflow_dispatch", "inputs.organizations": ORG},
    "a drift check by hand": {"github.event_name": "workflow_dispatch"},
}


@pytest.mark.parametrize(
    ("event", "jobs"),
    [
        ("a pull request", {"validate", "plan"}),
        ("a fork's pull request", {"validate"}),  # no secret reaches a fork's code
        ("a fork's pull request, as main sees it", {"fork-notice"}),  # a comment saying why
        ("a pull request, as main sees it", set()),
        ("a merge", {"apply"}),
        ("the night", {"drift", "drift-issue", "drift-pull"}),
        ("the hour", {"promote"}),
        ("a re-plan", {"replan", "apply"}),
        ("a drift check by hand", {"drift", "drift-issue", "drift-pull"}),
    ],
)
def test_each_job_runs_on_its_own_event(event: str, jobs: set[str]) -> None:
    document = yaml.safe_load(WORKFLOW.read_text())
    context = {"github.repository": "o/r", **EVENTS[event]}
    ran: set[str] = set()
    for name, each in document["jobs"].items():  # in order: a job's needs come before it
        needs = [each["needs"]] if isinstance(each.get("needs"), str) else each.get("needs", [])
        results = {f"needs.{need}.result": "success" if need in ran else "skipped" for need in needs}
        condition = each.get("if", "success()")
        if "always()" not in condition and any(value == "skipped" for value in results.values()):
            continue
        if condition_holds(condition.replace("success()", "always()"), {**context, **results}):
            ran.add(name)
    assert ran == jobs


def test_applies_are_serialised_per_merge_and_plans_replace_their_predecessor() -> None:
    assert job("plan")["concurrency"]["cancel-in-progress"] is True
    # No shared group: GitHub would cancel a pending apply when a third merge queues behind it.
    assert job("apply")["concurrency"] == {
        "group": "clinesync-apply-${{ github.sha }}",
        "cancel-in-progress": False,
    }
    assert job("plan")["environment"] == job("drift")["environment"] == "clinesync-read"
    assert job("promote")["environment"] == "clinesync-rollout"  # no required reviewers: hourly, unattended
    assert job("apply")["environment"] == "clinesync-apply"


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


def test_a_reviewed_plan_without_changes_applies_nothing_and_says_nothing_of_live(
    runner: Runner, console_server: RunningServer
) -> None:
    reviewed = runner.workspace / "reviewed"
    reviewed.mkdir()
    plans = []
    for _ in range(2):  # the second pull request's plan finds the organization as the first applied it
        assert runner.job(job("plan")) == 0, runner.outputs
        plans.append((runner.workspace / "clinesync.plan").read_bytes())
        shutil.copy(runner.workspace / "clinesync.plan", reviewed / "clinesync.plan")
        assert runner.job(job("apply")) == 0, runner.outputs
    assert "The reviewed plan changes nothing: nothing to apply." in runner.outputs[-1]
    assert console_server.server.requests["PUT"] == 1
    # The step that finds the reviewed plan calls `gh`, which the runner leaves out: its lines that say whether
    # the plan changes anything (the comment says live matches only then) run here on both plans.
    [step] = [step for step in job("apply")["steps"] if step.get("id") == "plan"]
    script = step["run"][step["run"].index("# A plan that changes no organization") :]
    script = script[: script.index("fi\n") + 3]
    said = []
    for plan in plans:
        (reviewed / "clinesync.plan").write_bytes(plan)
        runner.github_output.write_text("")
        assert runner.shell(["bash", "-eo", "pipefail", "-c", script], runner.base) == 0, runner.outputs[-1]
        said.append(runner.github_output.read_text())
    assert said == ["changes=yes\n", ""]


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


class FakeGitLab:
    """GitLab's API as the apply job reads it, on loopback: the merge request of a commit, its pipelines (a
    failed one for its last commit, then the successful one), the pipeline's jobs, the plan job's artifact."""

    def __init__(self, artifact: bytes, token: str) -> None:
        import http.server
        import json
        import threading

        fake = self
        self.asked: list[str] = []
        routes = {
            "/api/v4/projects/7/repository/commits/merged-sha/merge_requests": [{"iid": 5}],
            "/api/v4/projects/7/merge_requests/5": {"iid": 5, "sha": "reviewed-sha"},
            "/api/v4/projects/7/merge_requests/5/pipelines": [
                {"id": 11, "sha": "reviewed-sha", "status": "failed"},
                {"id": 10, "sha": "reviewed-sha", "status": "success"},
                {"id": 9, "sha": "older-sha", "status": "success"},
            ],
            "/api/v4/projects/7/pipelines/10/jobs?scope[]=success": [
                {"id": 70, "name": "validate"},
                {"id": 77, "name": "plan"},
            ],
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.asked.append(self.path)
                if self.headers.get("PRIVATE-TOKEN") != token:
                    self.send_error(401)
                elif self.path == "/api/v4/projects/7/jobs/77/artifacts":
                    self._send(artifact, "application/zip")
                elif self.path in routes:
                    self._send(json.dumps(routes[self.path]).encode(), "application/json")
                elif self.path.endswith("/merge_requests"):  # a commit no merge request brought
                    self._send(b"[]", "application/json")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_gitlab_jobs_plan_the_merge_request_and_apply_its_reviewed_plan(
    runner: Runner, tmp_path: Path
) -> None:
    """Each job's script as GitLab runs it (one shell, stopping at the first failure); the apply job finds the
    reviewed plan through a fake GitLab API: the merged merge request's successful pipeline for its last
    commit, its plan job's artifact. The install (pip) is the test's to skip: clinesync is installed here."""
    import io
    import zipfile

    pipeline = yaml.safe_load(GITLAB.read_text())
    assert {"validate", "plan", "apply", "drift"} <= set(pipeline)
    _git(runner.workspace, "init", "-q")
    _git(runner.workspace, "commit", "-q", "--allow-empty", "-m", "main")
    base = _git(runner.workspace, "rev-parse", "HEAD").strip()
    _git(runner.workspace, "add", ".")
    _git(runner.workspace, "commit", "-qm", "acme joins")
    env = {
        **runner.base,
        "CLINESYNC_CONSOLE": runner.values["vars.CLINESYNC_CONSOLE"],
        "CLINE_API_KEY": TOKEN,
        "AZURE_OPENAI_KEY": SECRET,
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_PROJECT_ID": "7",
        "CI_COMMIT_SHA": "merged-sha",
        "CLINESYNC_GITLAB_TOKEN": "glpat-planted-0000",
    }

    def gitlab(name: str) -> int:
        return runner.shell(["bash", "-eo", "pipefail", "-c", "\n".join(pipeline[name]["script"])], env)

    assert gitlab("validate") == 0 and gitlab("plan") == 0, runner.outputs
    assert "orgs/acme.yaml" in (runner.workspace / "targets.txt").read_text()
    artifact = io.BytesIO()
    with zipfile.ZipFile(artifact, "w") as archive:  # the plan job's artifact, as GitLab keeps it
        for name in ("clinesync.plan", "plan.md"):
            archive.write(runner.workspace / name, name)
            (runner.workspace / name).unlink()  # main has no plan of its own: apply uses the reviewed one
    api = FakeGitLab(artifact.getvalue(), "glpat-planted-0000")
    env["CI_API_V4_URL"] = api.url
    try:
        assert gitlab("apply") == 0, runner.outputs[-1]
        assert "applied (revision 1)" in runner.outputs[-1]
        assert "/api/v4/projects/7/jobs/77/artifacts" in api.asked  # the successful pipeline's plan job
        assert gitlab("drift") == 0, runner.outputs
        env["CI_COMMIT_SHA"] = "pushed-without-review"  # no merge request: nothing reviewed, nothing applied
        shutil.rmtree(runner.workspace / "reviewed")
        assert gitlab("apply") == 1
        assert "without a merge request: nothing reviewed, nothing applied" in runner.outputs[-1]
    finally:
        api.stop()
    assert all("glpat-planted-0000" not in output for output in runner.outputs)
    install = pipeline["default"]["before_script"]
    assert "--require-hashes" in install[0] and "$CLINESYNC_COMMIT/locks/runtime.txt" in install[0]
    assert "git+$CLINESYNC_SOURCE@$CLINESYNC_COMMIT" in install[1]
    assert pipeline["plan"]["variables"]["GIT_DEPTH"] == "0"


def test_the_probe_gate_stops_an_apply_whose_endpoint_fails(runner: Runner) -> None:
    """With CLINESYNC_PROBE on, the apply job probes first, chatting as Cline does: a deployment that does not
    answer stops it before any write."""
    llm = FakeLLM().start()
    # The fake endpoint is plain http on loopback, which `validate --strict` rightly refuses: plan it anyway.
    plan_without_validate = {
        "steps": [step for step in job("plan")["steps"] if step.get("name") != "Validate"]
    }
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
        runner.job(plan_without_validate)
        (runner.workspace / "reviewed").mkdir()
        shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
        runner.variables["CLINESYNC_PROBE"] = "true"
        llm.streams = False  # the deployment answers, but not as Cline reads an answer
        assert runner.job(job("apply")) == 1
        assert "fail  chat gpt-4o: HTTP 200, but not as a stream" in runner.outputs[-1], runner.outputs[-1]
        llm.streams = True
        runner.variables["CLINESYNC_PROBE"] = ""
        runner.job(plan_without_validate)
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
def test_zizmor_finds_nothing_at_medium_or_above_in_the_workflows(tmp_path: Path) -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    # Audited as a team's copy is, clinesync pinned by its commit (the example says where to put it).
    pinned = tmp_path / "clinesync.yml"
    pinned.write_text(
        WORKFLOW.read_text().replace(PLACEHOLDER, "example/clinesync@" + "0123456789abcdef" * 2 + "01234567")
    )
    result = subprocess.run(
        [
            zizmor,
            "--offline",
            "--min-severity",
            "medium",
            str(pinned),
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
        "validate": {"security-events"},  # its findings to code scanning (a fork's token stays read-only)
        "fork-notice": {"pull-requests"},
        "plan": {"pull-requests"},
        "replan": set(),
        "apply": {"pull-requests"},
        "drift": set(),
        "drift-issue": {"issues"},
        "drift-pull": {"contents", "pull-requests"},  # the console's edits as a branch and a pull request
        "promote": set(),
    }
    installs = 0
    for each in document["jobs"].values():
        for step in each["steps"]:
            if step.get("uses") == PLACEHOLDER:  # clinesync itself, pinned by the commit the team reviewed
                installs += 1
            elif "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}", step["uses"]), step["uses"]
            assert "pip install" not in step.get("run", ""), "clinesync is installed by its action, pinned"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    assert installs == 7  # every job that runs clinesync
    for name, each in document["jobs"].items():  # a job's env is read before any step runs
        assert "steps." not in str(each.get("env", {})), name


ACTION = EXAMPLES.parent / "action.yml"
RELEASE = EXAMPLES.parent / ".github" / "workflows" / "release.yml"


def test_the_action_runs_a_command_and_exposes_its_exit_code_and_plan(runner: Runner, tmp_path: Path) -> None:
    """The composite action's shell steps, run as the CI service runs them (its install step is skipped:
    clinesync is installed here already, where the install step would put it)."""
    action = yaml.safe_load(ACTION.read_text())
    inputs = {
        "inputs.command": "plan",
        "inputs.args": "orgs/\n  --detailed-exitcode\n",  # a multi-line `args` keeps every line
        "inputs.plan-file": "reviewed.plan",
        "inputs.allow-changes": "true",
    }
    steps = [step for step in action["runs"]["steps"] if runnable(step, inputs)]
    assert [step["name"] for step in steps] == ["Key pip's cache on the lock file", "Run clinesync"]
    runner.values.update(inputs)
    runner.values["steps.python.outputs.python-version"] = "3.12.7"
    runner.base.update({"CLINESYNC_CONSOLE": runner.values["vars.CLINESYNC_CONSOLE"], "CLINE_API_KEY": TOKEN})
    runner.base.update({"AZURE_OPENAI_KEY": SECRET, "GITHUB_ACTION_PATH": str(ACTION.parent)})
    runner.base.update({"RUNNER_TEMP": str(tmp_path), "RUNNER_OS": "Linux"})
    (tmp_path / "clinesync" / "bin").mkdir(parents=True)
    (tmp_path / "clinesync" / "bin" / "clinesync").symlink_to(Path(sys.executable).parent / "clinesync")
    assert runner.job({"steps": steps}) == 0, runner.outputs
    written = runner.github_output.read_text()
    assert re.match(r"key=clinesync-pip-Linux-3\.12\.7-[0-9a-f]{16}\n", written)
    assert "exit-code=2\nplan-file=reviewed.plan\n" in written  # --detailed-exitcode, from the second line
    assert (runner.workspace / "reviewed.plan").exists()
    runner.values["inputs.allow-changes"] = "false"
    assert runner.job({"steps": steps}) == 2  # changes fail the step unless allowed
    assert set(action["outputs"]) == {"exit-code", "plan-file"}


def test_the_action_installs_pinned_hashed_dependencies_into_its_own_environment() -> None:
    """Nothing resolved by name at run time: every requirement is pinned with hashes, the lock covers what
    pyproject.toml asks for, and the caller's Python is left alone (only `clinesync` goes on PATH)."""
    from packaging.requirements import Requirement

    action = yaml.safe_load(ACTION.read_text())
    steps = {step.get("name", step.get("uses", "")): step for step in action["runs"]["steps"]}
    [python] = [step for name, step in steps.items() if name.startswith("actions/setup-python@")]
    assert python["with"]["update-environment"] is False
    install = steps["Install clinesync from this action's checkout"]["run"]
    assert '--require-hashes -r "$GITHUB_ACTION_PATH/locks/runtime.txt"' in install
    assert "--no-deps --no-build-isolation" in install and 'ln -sf "$home/venv/bin/clinesync"' in install
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on; what it checks is the repository's files

    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = re.compile(
        r"^([a-z0-9._-]+)==(\S+) \\\n(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", re.MULTILINE
    )
    for lock in ("runtime", "release"):
        text = (REPO / "locks" / f"{lock}.txt").read_text()
        assert len(pinned.findall(text)) == len(re.findall(r"^\S+==", text, re.MULTILINE)) > 1, lock
    runtime = dict(pinned.findall((REPO / "locks" / "runtime.txt").read_text()))
    for line in wanted:
        requirement = Requirement(line.split("#")[0])
        name = re.sub(r"[-_.]+", "-", requirement.name.lower())  # PEP 503
        assert name in runtime and requirement.specifier.contains(runtime[name]), line
    assert "setuptools" in runtime  # built without isolation: the backend is pinned too


def test_the_release_and_the_container_are_built_as_promised() -> None:
    release = yaml.safe_load(RELEASE.read_text())
    assert release["permissions"] == {}
    assert release["jobs"]["publish"]["permissions"]["id-token"] == "write"
    assert "id-token" not in release["jobs"]["build"]["permissions"]
    build = "\n".join(step.get("run", "") for step in release["jobs"]["build"]["steps"])
    publish = "\n".join(step.get("run", "") for step in release["jobs"]["publish"]["steps"])
    for script in (build, publish):
        assert "--require-hashes -r locks/release.txt" in script
    assert "python -m build --no-isolation" in build and "twine check --strict dist/*" in build
    assert "twine upload" in publish  # twine's own trusted publishing: no publish action bundling an old one
    assert "twine==" in (REPO / "locks" / "release.txt").read_text()
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


def run_script(
    tmp_path: Path,
    script: str,
    context: dict[str, Any],
    comments: list[dict[str, Any]],
    env: dict[str, str],
    cwd: Path,
    labels: list[str] | None = None,
) -> list[dict[str, Any]]:
    """An actions/github-script step's script, run by Node against a fake comment API; the calls it made."""
    import json

    (tmp_path / "script.js").write_text(script)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"context": context, "comments": comments, "labels": labels or []}))
    subprocess.run(
        ["node", str(Path(__file__).parent / "github_script.cjs"), str(tmp_path / "script.js"), str(state)],
        cwd=cwd,
        env={**os.environ, **env},
        check=True,
        timeout=60,
    )
    calls: list[dict[str, Any]] = json.loads(state.read_text())["calls"]
    return calls


def comment_step() -> dict[str, Any]:
    [step] = [step for step in job("plan")["steps"] if step.get("name") == "Comment the plan, or its failure"]
    return step


def pull_request_context(event: str = "pull_request") -> dict[str, Any]:
    return {
        "eventName": event,
        "repo": {"owner": "acme", "repo": "fleet"},
        "issue": {"number": 7},
        "serverUrl": "https://github.com",
        "runId": 42,
        "payload": {"pull_request": {"head": {"sha": "c0ffee" * 6 + "c0ff"}}},
    }


BOT = {"login": "github-actions[bot]"}


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the comment scripts run in Node, as github-script does"
)
def test_a_failed_validate_replaces_the_green_plan_comment_and_names_the_commit(
    runner: Runner, tmp_path: Path
) -> None:
    script = comment_step()["with"]["script"]
    assert runner.job(job("plan")) == 0, runner.outputs
    [created] = run_script(
        tmp_path,
        script,
        pull_request_context(),
        [],
        {"PLAN_OK": "true", "VALIDATED": "success"},
        runner.workspace,
    )
    assert created["call"] == "createComment" and created["issue_number"] == 7
    assert created["body"].startswith("<!-- clinesync-plan -->\n### clinesync plan: 1 organization to create")
    assert f"For commit {'c0ffee' * 6}c0ff" in created["body"]
    # The next push breaks the file: validate fails, nothing is planned, and the comment says so in its place.
    acme = runner.workspace / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text().replace("enabled: true", "enabled: maybe"))
    assert runner.job(job("plan")) == 1
    assert not (runner.workspace / "plan.md").read_text().count("clinesync plan:")
    earlier = [{"id": 99, "user": BOT, "body": created["body"]}]
    env = {"PLAN_OK": "false", "VALIDATED": "failure"}
    [updated] = run_script(tmp_path, script, pull_request_context(), earlier, env, runner.workspace)
    assert updated["call"] == "updateComment" and updated["comment_id"] == 99
    body = updated["body"]
    assert body.startswith("<!-- clinesync-plan -->\n### ❌ clinesync validate failed")
    assert re.search(r"`orgs/acme\.yaml:\d+:\d+` `CS100` `enabled: expected true or false", body)
    assert "plan failed" not in body and "1 organization to create" not in body


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the comment scripts run in Node, as github-script does"
)
def test_the_comment_replaces_only_the_workflows_own_marker_and_a_fork_is_told_why(
    runner: Runner, tmp_path: Path
) -> None:
    script = comment_step()["with"]["script"]
    assert runner.job(job("plan")) == 0
    forged = [
        {"id": 5, "user": {"login": "mallory"}, "body": "<!-- clinesync-plan -->\n### all green, merge"}
    ]
    [call] = run_script(
        tmp_path, script, pull_request_context(), forged, {"PLAN_OK": "true"}, runner.workspace
    )
    assert call["call"] == "createComment"  # the forged comment is left alone, not taken over
    [notice] = job("fork-notice")["steps"]
    assert notice["with"]["script"] == script  # one script: the same marker, the same ownership rule
    [told] = run_script(tmp_path, script, pull_request_context("pull_request_target"), [], {}, tmp_path)
    assert told["body"].startswith("<!-- clinesync-plan -->\n### clinesync: validated only")
    assert "comes from a fork" in told["body"]


def test_a_stale_plan_is_recovered_by_a_re_plan_of_the_named_organizations_then_applied(
    runner: Runner, console_server: RunningServer, tmp_path: Path
) -> None:
    other = (EXAMPLES / "vllm-gateway.yaml").read_text()
    (runner.workspace / "orgs" / "lab.yaml").write_text(other)
    runner.base["GATEWAY_TOKEN"] = "gateway-token-0000"
    runner.values["inputs.organizations"] = ORG
    assert runner.job(job("replan")) == 0, runner.outputs
    plan_md = (runner.workspace / "plan.md").read_text()
    assert ORG in plan_md and "lab.yaml" not in plan_md  # only the organization named
    assert ORG in (tmp_path / "summary.md").read_text()  # where the approvers read it
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
    assert runner.job(job("apply")) == 0, runner.outputs
    assert "applied (revision 1)" in "".join(runner.outputs)
    assert console_server.server.requests["PUT"] == 1


def test_a_mass_change_is_applied_only_when_a_reviewer_allowed_it(
    runner: Runner, console_server: RunningServer
) -> None:
    (runner.workspace / "clinesync.yaml").write_text("paths: [orgs/]\nmassChange: {share: 0.5, disable: 0}\n")
    assert runner.job(job("plan")) == 0, runner.outputs
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
    assert runner.job(job("apply")) == 0  # a create is no mass change: adoption creates every organization
    acme = runner.workspace / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text().replace("enabled: true", "enabled: false"))
    assert runner.job(job("plan")) == 0, runner.outputs
    plan_md = (runner.workspace / "plan.md").read_text()
    assert "! Mass change: it disables remote configuration in 1 organization" in plan_md
    shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
    assert runner.job(job("apply")) == 1
    result = (runner.workspace / "result.txt").read_text()
    assert "Refused: a change this large needs a second look" in result and "Nothing was written" in result
    runner.mass_change_allowed = True  # a reviewer labelled the pull request clinesync-mass-change
    assert runner.job(job("apply")) == 0, runner.outputs[-1]
    assert console_server.server.requests["PUT"] == 2


def test_a_pull_request_that_only_deletes_an_organization_file_plans_and_applies_nothing(
    runner: Runner, console_server: RunningServer
) -> None:
    (runner.workspace / "orgs" / "lab.yaml").write_text((EXAMPLES / "vllm-gateway.yaml").read_text())
    _git(runner.workspace, "init", "-q")
    _git(runner.workspace, "add", ".")
    _git(runner.workspace, "commit", "-qm", "base")
    runner.values["github.event.pull_request.base.sha"] = _git(runner.workspace, "rev-parse", "HEAD").strip()
    _git(runner.workspace, "rm", "-q", "orgs/lab.yaml")
    _git(runner.workspace, "commit", "-qm", "lab leaves git (its live settings stay)")
    assert runner.job(job("plan")) == 0, runner.outputs
    plan_md = (runner.workspace / "plan.md").read_text()
    assert "no organization file changed" in plan_md
    assert "No longer managed" in plan_md and "- `orgs/lab.yaml` (org-01JZPF0V3K8Q2N4R6T8W0Y2A4C)" in plan_md
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "plan.md", runner.workspace / "reviewed" / "plan.md")
    assert runner.job(job("apply")) == 0, runner.outputs
    assert console_server.server.requests["PUT"] == 0


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the comment scripts run in Node, as github-script does"
)
def test_a_validate_that_prints_nothing_still_replaces_the_comment_with_its_failure(tmp_path: Path) -> None:
    """An invalid clinesync.yaml fails validate before any markdown is written: the comment says so."""
    script = comment_step()["with"]["script"]
    earlier = [{"id": 3, "user": BOT, "body": "<!-- clinesync-plan -->\n### clinesync plan: all green"}]
    env = {"PLAN_OK": "false", "VALIDATED": "failure"}
    (tmp_path / "plan.md").write_text("")
    [updated] = run_script(tmp_path, script, pull_request_context(), earlier, env, tmp_path)
    assert updated["body"].startswith("<!-- clinesync-plan -->\n### ❌ clinesync validate failed")
    assert "all green" not in updated["body"]


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the comment scripts run in Node, as github-script does"
)
def test_a_shard_that_left_no_report_does_not_hide_the_drift_the_others_found(tmp_path: Path) -> None:
    import json

    [step] = [step for step in job("drift-issue")["steps"] if "github-script" in step.get("uses", "")]
    (tmp_path / "drift").mkdir()
    (tmp_path / "drift" / "drift-1.json").write_text("")  # that shard failed before writing
    report = {
        "organizations": [
            {"organization": ORG, "file": "orgs/acme.yaml", "action": "update", "changes": [{}]}
        ]
    }
    (tmp_path / "drift" / "drift-2.json").write_text(json.dumps(report))
    [created] = run_script(
        tmp_path, step["with"]["script"], pull_request_context(), [], {"ALL_SHARDS_READ": "false"}, tmp_path
    )
    assert created["call"] == "create" and f"`{ORG}` (orgs/acme.yaml): 1 change(s)" in created["body"]


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the comment scripts run in Node, as github-script does"
)
def test_a_comment_with_more_than_github_takes_is_cut_to_fit(tmp_path: Path) -> None:
    """plan.md at its limit plus the list of deleted files: the comment stays within 65,536 characters."""
    (tmp_path / "plan.md").write_text(
        "<!-- clinesync-plan -->\n### clinesync plan\n" + "x" * 65_400 + "\n- `orgs/gone.yaml`\n" * 3
    )
    [made] = run_script(
        tmp_path, comment_step()["with"]["script"], pull_request_context(), [], {"PLAN_OK": "true"}, tmp_path
    )
    assert len(made["body"]) <= 65_536 and "Cut to fit a comment" in made["body"]
    assert made["body"].rstrip().endswith(")).") and "For commit" in made["body"]


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the label script runs in Node, as github-script does"
)
def test_the_pull_request_is_labelled_with_the_impact_classes_of_its_plan(
    runner: Runner, tmp_path: Path
) -> None:
    import json

    assert runner.job(job("plan")) == 0, runner.outputs
    touched = json.loads((runner.workspace / "touched.json").read_text())
    [classes] = [entry["classes"] for entry in touched["organizations"]]
    assert {"enablement", "provider", "credentials"} <= set(classes)
    [step] = [step for step in job("plan")["steps"] if step.get("name") == "Label the pull request with them"]
    calls = run_script(
        tmp_path,
        step["with"]["script"],
        pull_request_context(),
        [],
        {},
        runner.workspace,
        labels=["clinesync:instructions", "clinesync:credentials", "needs-review"],
    )
    assert {
        "call": "removeLabel",
        "owner": "acme",
        "repo": "fleet",
        "issue_number": 7,
        "name": "clinesync:instructions",
    } in calls
    [added] = [call for call in calls if call["call"] == "addLabels"]
    assert added["labels"] == [f"clinesync:{kind}" for kind in classes if kind != "credentials"]
    assert not any(call.get("name") == "needs-review" for call in calls)  # only its own labels


def _aged(database: Path) -> None:
    """Two hours pass, as the console's revision times tell."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE revisions SET created_at = datetime(created_at, '-2 hours') || '+00:00'")


def test_a_rollout_applies_its_first_wave_on_merge_and_the_next_from_the_hourly_job_after_its_hold(
    runner: Runner, console_server: RunningServer
) -> None:
    for index in range(4):
        text = (EXAMPLES / "org.yaml").read_text().replace(ORG, f"{ORG[:-2]}{index:02d}")
        (runner.workspace / "orgs" / f"team-{index}.yaml").write_text(text)
    (runner.workspace / "clinesync.yaml").write_text(
        f"paths: [orgs/]\nrollout:\n  - {{name: canary, organizations: [{ORG}], checks: [drift]}}\n  - {{name: rest}}\n"
    )
    assert runner.job(job("plan")) == 0, runner.outputs
    assert "| `canary` | 1: `" in (runner.workspace / "plan.md").read_text()  # the comment shows the waves
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
    assert runner.job(job("apply")) == 0, runner.outputs
    assert console_server.server.requests["PUT"] == 1  # the canary only
    assert "applied=yes" in runner.github_output.read_text()  # the comment may say the first wave is applied
    # The artifact the apply job keeps, as the promote job downloads it.
    shutil.copytree(runner.workspace / "reviewed", runner.workspace / "rollouts" / "101")
    assert (runner.workspace / "rollouts" / "101" / "mass-change.txt").exists()
    assert runner.job(job("promote")) == 0, runner.outputs
    assert "Waiting: wave canary is holding until" in runner.outputs[-1]
    assert console_server.server.requests["PUT"] == 1
    _aged(console_server.database)
    assert runner.job(job("promote")) == 0, runner.outputs
    assert console_server.server.requests["PUT"] == 5  # the rest, in one run
    assert runner.job(job("promote")) == 0
    assert "Complete: every wave is applied." in runner.outputs[-1]
    assert all(SECRET not in output and TOKEN not in output for output in runner.outputs)


def test_the_nightly_drift_writes_the_console_edits_into_the_files_for_a_pull_request(
    runner: Runner, console_server: RunningServer
) -> None:
    assert runner.job(job("plan")) == 0
    (runner.workspace / "reviewed").mkdir()
    shutil.copy(runner.workspace / "clinesync.plan", runner.workspace / "reviewed" / "clinesync.plan")
    assert runner.job(job("apply")) == 0
    acme = runner.workspace / "orgs" / "acme.yaml"
    before = acme.read_text()
    someone = LocalConsole(console_server.database)  # an admin switches telemetry off in the console
    edit_live(someone, ORG, lambda config: config.update(telemetryEnabled=False))
    someone.close()
    assert runner.job(job("drift-pull")) == 0, runner.outputs
    assert acme.read_text() == before.replace("telemetryEnabled: true", "telemetryEnabled: false")
    pulled = (runner.workspace / "pull.txt").read_text()
    assert "~ remoteConfig.telemetryEnabled: written to orgs/acme.yaml" in pulled
    assert all(SECRET not in output and TOKEN not in output for output in [*runner.outputs, pulled])


@pytest.mark.skipif(
    shutil.which("node") is None, reason="the comment scripts run in Node, as github-script does"
)
def test_the_merge_comment_of_a_rollout_or_a_plan_without_changes_never_says_live_matches_the_plan(
    tmp_path: Path,
) -> None:
    [step] = [
        step for step in job("apply")["steps"] if step.get("name") == "Report the result on the pull request"
    ]
    assert step["env"]["ROLLOUT"] == "${{ steps.plan.outputs.rollout }}"
    assert step["env"]["CHANGES"] == "${{ steps.plan.outputs.changes }}"
    (tmp_path / "result.txt").write_text("Apply complete: 3 applied\n")
    assert step["env"]["WAVE_APPLIED"] == "${{ steps.wave.outputs.applied }}"
    bodies = {}
    for said in (("yes", "yes", "yes"), ("", "yes", ""), ("", "", ""), ("yes", "", ""), ("yes", "yes", "")):
        rollout, changes, applied = said
        [call] = run_script(
            tmp_path,
            step["with"]["script"],
            pull_request_context(),
            [],
            {
                "PULL": "7",
                "OUTCOME": "success",
                "ROLLOUT": rollout,
                "CHANGES": changes,
                "WAVE_APPLIED": applied,
            },
            tmp_path,
        )
        bodies[said] = call["body"]
    first_wave = bodies["yes", "yes", "yes"]
    assert (
        "the first wave is applied; the next follow hourly" in first_wave and "live matches" not in first_wave
    )
    assert "live matches the reviewed plan" in bodies["", "yes", ""]
    # A rollout that waits at merge (an earlier plan's canary still holding) applied nothing, and says so.
    waiting = bodies["yes", "yes", ""]
    assert "no wave applied yet: the rollout waits" in waiting and "is applied" not in waiting
    # A plan without changes (a pull request that changed no organization, waves or not) applied nothing and
    # read nothing.
    for rollout in ("", "yes"):
        body = bodies[rollout, "", ""]
        assert "live matches" not in body and "wave" not in body
        assert "the reviewed plan changes nothing: nothing was applied" in body


_GH = """#!/usr/bin/env bash
# gh as the step calls it, answering what --jq would leave: run 33's plan job failed, run 22's succeeded.
case "$*" in
  "api repos/acme/fleet/commits/merged/pulls "*) echo 7 ;;
  "api repos/acme/fleet/pulls/7 "*) echo head-sha ;;
  "run list --workflow clinesync.yml --event pull_request --commit head-sha "*) printf '33\\n22\\n' ;;
  "run view 33 "*) echo 0 ;;
  "run view 22 "*) echo "${PLAN_JOBS_OF_22:-1}" ;;
  "run download 22 --name clinesync-plan --dir reviewed") mkdir -p reviewed && echo plan > reviewed/clinesync.plan ;;
  *) echo "unexpected: gh $*" >&2; exit 9 ;;
esac
"""


@pytest.mark.parametrize("plan_jobs_of_22", ["1", "0"])
def test_the_reviewed_plan_is_the_newest_run_whose_plan_job_succeeded(
    tmp_path: Path, plan_jobs_of_22: str
) -> None:
    """A pull request run is judged by its plan job: a failed upload to code scanning (a private repository
    without it) fails the run, not the plan; and no run with a plan is one clear error, never a download of
    nothing."""
    [step] = [step for step in job("apply")["steps"] if step.get("name") == "Fetch the reviewed plan"]
    stub = tmp_path / "bin" / "gh"
    stub.parent.mkdir()
    stub.write_text(_GH)
    stub.chmod(0o755)
    output = tmp_path / "output"
    env = {
        "PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_REPOSITORY": "acme/fleet",
        "GITHUB_SHA": "merged",
        "GITHUB_OUTPUT": str(output),
        "WORKFLOW": "acme/fleet/.github/workflows/clinesync.yml@refs/heads/main",
        "PLAN_JOBS_OF_22": plan_jobs_of_22,
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    if plan_jobs_of_22 == "1":
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "reviewed" / "clinesync.plan").exists() and output.read_text() == "pull=7\n"
    else:
        assert done.returncode == 1 and not (tmp_path / "reviewed").exists()
        assert "::error::no run of pull request #7 at head-sha has a plan job that succeeded" in done.stdout
