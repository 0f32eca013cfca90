"""`clinesync init` scaffolds a repository a team can commit: the configuration, the workflow with the secret
list its files need, the pre-commit hook, the ignore lines; nothing a team wrote is overwritten."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from clinesync import __version__

from support import EXAMPLES, REPO, run, write

PIN = "acme/clinesync@" + "0123456789abcdef" * 2 + "01234567"


def test_init_scaffolds_a_repository_whose_workflow_lists_the_secrets_its_files_read(in_tmp: Path) -> None:
    (in_tmp / "orgs").mkdir()
    for name in ("org.yaml", "vllm-gateway.yaml"):
        shutil.copy(EXAMPLES / name, in_tmp / "orgs" / name)
    (in_tmp / ".gitignore").write_text("node_modules/")  # a team's own, without a final newline
    result = run("init")
    assert result.exit_code == 0, result.output
    workflow = (in_tmp / ".github" / "workflows" / "clinesync.yml").read_text()
    console = yaml.safe_load(workflow)["jobs"]["plan"]["steps"]
    [planning] = [step for step in console if step.get("name") == "Plan"]
    secrets = {name for name, value in planning["env"].items() if "secrets." in value}
    assert secrets == {"CLINE_API_KEY", "PROBE_API_KEY", "AZURE_OPENAI_KEY", "GATEWAY_TOKEN"}
    assert "OWNER/clinesync@COMMIT_SHA" in workflow  # no pin given: the placeholder, and a word saying so
    assert "replace OWNER/clinesync@COMMIT_SHA" in result.stdout
    assert "CLINE_API_KEY, AZURE_OPENAI_KEY, GATEWAY_TOKEN" in result.stdout
    assert (in_tmp / ".gitignore").read_text() == "node_modules/\n*.plan\n.clinesync/\n"
    # The configuration it writes is one clinesync reads, pinned to this minor series: validate with it finds
    # the organizations.
    major, minor = map(int, __version__.split(".")[:2])
    assert f"requires: '>={major}.{minor},<{major}.{minor + 1}'" in (in_tmp / "clinesync.yaml").read_text()
    validated = run("validate")
    assert validated.exit_code == 0 and "2 files checked" in validated.stderr, validated.output
    # In the style `fmt` keeps, so the pre-commit hook it installs passes the first commit.
    formatted = run("fmt", "--check", "clinesync.yaml")
    assert formatted.exit_code == 0, formatted.output
    # Run again: what exists is kept, the ignore file gains nothing twice.
    (in_tmp / "clinesync.yaml").write_text("paths: [orgs/]  # ours\n")
    again = run("init")
    assert "Kept ./clinesync.yaml: it exists" in again.stderr  # what it did is chatter: -q quiets it
    assert (in_tmp / "clinesync.yaml").read_text() == "paths: [orgs/]  # ours\n"
    assert (in_tmp / ".gitignore").read_text().count("*.plan") == 1
    # --force writes the workflow again (a new secret list after a re-export), never the team's configuration.
    write(
        in_tmp / "orgs" / "more.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Z\n"
        "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://llm.example.com/v1\n      openAiHeaders: {api-key: ${env:MORE_KEY}}\n",
    )
    forced = run("init", "--force")
    assert (
        forced.exit_code == 0
        and "MORE_KEY" in (in_tmp / ".github" / "workflows" / "clinesync.yml").read_text()
    )
    assert (in_tmp / "clinesync.yaml").read_text() == "paths: [orgs/]  # ours\n"
    assert "Kept ./clinesync.yaml: it exists (init never writes it again)" in forced.stderr


def test_init_warns_when_the_secret_list_is_longer_than_github_holds(in_tmp: Path) -> None:
    for number in range(100):
        write(
            in_tmp / "orgs" / f"o{number:03d}.yaml",
            f"organization: org-01JZPE4CHW5XTP73W9576{number:04d}Y\nremoteConfig:\n  providerSettings:\n"
            f"    OpenAiCompatible:\n      openAiBaseUrl: https://llm.example.com/v1\n"
            f"      openAiHeaders: {{api-key: ${{env:KEY_{number}}}}}\n",
        )
    result = run("init")
    assert result.exit_code == 0
    assert "Warning: 101 secrets, and GitHub holds at most 100" in result.stdout
    write(in_tmp / "orgs" / "o099.yaml", "organization: org-01JZPE4CHW5XTP73W95760099Y\n")
    assert "GitHub holds at most" not in run("init", "--force").stdout  # 100: as many as it holds


def test_init_pins_the_workflow_and_the_hook_to_the_commit_given(in_tmp: Path) -> None:
    refused = run("init", "--pin", "acme/clinesync@main")
    assert refused.exit_code == 1 and "the full 40-character commit" in refused.stderr
    assert not (in_tmp / "clinesync.yaml").exists()
    assert run("init", "repo", "--pin", PIN).exit_code == 0
    workflow = (in_tmp / "repo" / ".github" / "workflows" / "clinesync.yml").read_text()
    assert "COMMIT_SHA" not in workflow and workflow.count(f"uses: {PIN}") == 7
    hook = yaml.safe_load((in_tmp / "repo" / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert hook["repo"] == "https://github.com/acme/clinesync" and hook["rev"] == PIN.split("@")[1]
    assert [each["id"] for each in hook["hooks"]] == ["clinesync-fmt", "clinesync-validate"]


def test_the_github_example_is_the_workflow_init_writes() -> None:
    """`make docs` copies the template to the example; the example's secrets are those of examples/org.yaml."""
    template = REPO / "clinesync" / "templates" / "clinesync.yml"
    assert (EXAMPLES / "ci" / "github" / "clinesync.yml").read_text() == template.read_text()


def test_init_lists_each_secret_once_reads_bases_too_and_names_what_github_refuses(in_tmp: Path) -> None:
    """A file's ${env:CLINE_API_KEY} is in the list already (twice, GitHub would refuse the whole workflow);
    a base's references count; a GITHUB_* name cannot be a GitHub secret: init says to rename it."""
    (in_tmp / "orgs").mkdir()
    (in_tmp / "bases").mkdir()
    shutil.copy(EXAMPLES / "org.yaml", in_tmp / "orgs" / "org.yaml")
    (in_tmp / "bases" / "gateway.yaml").write_text(
        "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n      openAiHeaders:\n"
        "        x-key: ${env:CLINE_API_KEY}\n        x-other: ${env:GATEWAY_KEY}\n        x-gh: ${env:GITHUB_TOKEN}\n"
        "        x-member: $${env:MEMBERS_OWN}\n"  # a literal, for members' machines: no secret of the job's
    )
    result = run("init")
    assert result.exit_code == 0, result.output
    workflow = (in_tmp / ".github" / "workflows" / "clinesync.yml").read_text()
    yaml.safe_load(workflow)  # still YAML (PyYAML keeps a repeated key silently: the count below checks that)
    assert workflow.count("CLINE_API_KEY: ${{ secrets.CLINE_API_KEY }}") == 1
    assert "GATEWAY_KEY: ${{ secrets.GATEWAY_KEY }}" in workflow and "GITHUB_TOKEN" not in workflow
    assert "MEMBERS_OWN" not in workflow
    assert "clinesync-rollout): CLINE_API_KEY, AZURE_OPENAI_KEY, GATEWAY_KEY." in result.stdout
    assert "rename ${env:GITHUB_TOKEN} in your files" in result.stdout


def test_init_says_which_file_it_cannot_read_and_reads_the_rest(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "ok.yaml", "organization: org-1\nremoteConfig: {x: ${env:OK_KEY}}\n")
    (in_tmp / "orgs" / "gone.yaml").symlink_to("nowhere.yaml")
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "orgs/gone.yaml: cannot read the file: No such file or directory" in result.stderr
    assert "OK_KEY: ${{ secrets.OK_KEY }}" in (in_tmp / ".github" / "workflows" / "clinesync.yml").read_text()
