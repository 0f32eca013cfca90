"""Secrets stay secret, and a reviewer sees exactly what will change: each hole an attacker would try, planted
and then searched for in every output and every file (SECURITY.md lists the promise beside each test)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from clinesync.consoles import ConsoleError, open_console
from clinesync.consoles.http import HttpConsole
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.probe.checks import _endpoint_error
from clinesync.scrub import Redactor

from support import TOKEN, mocked, run, start_server, write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
OTHER = "org-01JZPE4CHW5XTP73W957621ZZZ"
# Live secrets a console holds: clinesync cannot know they are secrets, so it must show none of them.
LIVE_SECRETS = {
    "url-key": "live-url-key-71c3",
    "userinfo": "live-pass-9d2e",
    "signature": "live-signature-44f0",
    "otel": "live-otel-token-2b8a",
    "unknown": "live-unknown-5e6d",
}
LIVE = {
    "version": "v1",
    "providerSettings": {
        "OpenAiCompatible": {
            "openAiBaseUrl": (
                f"https://admin:{LIVE_SECRETS['userinfo']}@old-gw.example.com/v1?api-key={LIVE_SECRETS['url-key']}"
            ),
            "openAiHeaders": {"X-Signature": LIVE_SECRETS["signature"]},
            "models": [{"id": "gpt-4o"}],
        }
    },
    "openTelemetryOtlpHeaders": {"x-otel": LIVE_SECRETS["otel"]},
    "laterField": LIVE_SECRETS["unknown"],
}
# The pull request: the key leaves the URL, the signature becomes a literal, telemetry headers are dropped.
FILE = f"""\
organization: {ORG}
name: Acme
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://new-gw.example.com/v1
      openAiHeaders:
        X-Signature: now-a-literal
      models:
        - id: gpt-4o
"""


def seed(database: Path, config: dict[str, object], organization: str = ORG) -> None:
    console = LocalConsole(database)
    console.write(organization, Document(True, config), None)
    console.close()


def assert_no_live_secret(text: str, where: str) -> None:
    leaked = [name for name, secret in LIVE_SECRETS.items() if secret in text]
    assert not leaked, f"{where} shows the live {leaked}"


def test_the_before_side_shows_no_live_secret_in_any_output_or_file(in_tmp: Path) -> None:
    seed(in_tmp / ".clinesync" / "console.db", LIVE)
    write(in_tmp / "org.yaml", FILE)
    summary = in_tmp / "summary.md"
    outputs = {}
    for output_format in ("text", "json", "markdown"):
        for prune in ((), ("--prune-unknown",)):
            outputs[f"plan {output_format} {prune}"] = run(
                "plan",
                "org.yaml",
                "--format",
                output_format,
                *prune,
                env={"GITHUB_STEP_SUMMARY": str(summary)},
            ).output
        outputs[f"drift {output_format}"] = run("drift", "org.yaml", "--format", output_format).output
    outputs["plan --out"] = run("plan", "org.yaml", "--prune-unknown", "--out", "reviewed.plan").output
    outputs["the apply prompt"] = run("apply", "org.yaml", "--prune-unknown", input="no\n").output
    outputs["apply --manual"] = run(
        "apply", "org.yaml", "--manual", "--timeout", "0.2", "--poll-interval", "0.1"
    ).output
    outputs["apply"] = run("apply", "org.yaml", "--auto-approve", "--prune-unknown").output
    outputs["rollback"] = run("rollback", ORG, "--to", "1", "--auto-approve").output
    outputs["the plan file"] = (in_tmp / "reviewed.plan").read_text()
    outputs["the step summary"] = summary.read_text()
    for where, text in outputs.items():
        assert_no_live_secret(text, where)
    # What a reviewer needs still shows: where the base URL moves from and to, and the new literal.
    plan = outputs["plan text ()"]
    assert "moves from old-gw.example.com to new-gw.example.com" in plan
    assert (
        '"https://(sensitive)@old-gw.example.com/v1?api-key=(sensitive)" -> "https://new-gw.example.com/v1"'
        in plan
    )
    assert 'openAiHeaders.X-Signature: (sensitive) -> "now-a-literal"' in plan
    assert "laterField" in outputs["plan text ('--prune-unknown',)"]
    rollback = outputs["rollback"]
    assert "new-gw.example.com" in rollback and "old-gw.example.com" in rollback  # a rollback is reviewable


HOSTILE_NAME = 'Acme\n<!-- hidden\n+ remoteConfig.fake: "forged"\n<details>'


def test_no_text_from_files_or_live_can_hide_or_forge_plan_lines(in_tmp: Path) -> None:
    seed(
        in_tmp / ".clinesync" / "console.db",
        {
            "version": "v1",
            "providerSettings": {
                "Cline": {
                    "models": [
                        {"id": "cline/auto"},
                        {"id": "evil\x1b[2K\x1b[1A\r+ fake line\u202e"},
                    ]
                }
            },
        },
    )
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nname: {json.dumps(HOSTILE_NAME)}\nremoteConfig:\n"
        "  providerSettings:\n    Cline:\n      models: [{id: cline/auto}]\n",
    )
    text = run("plan", "org.yaml", "--no-color").stdout
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert [line for line in text.splitlines() if line.startswith("+")] == []  # no forged line
    assert "evil\\x1b[2K\\x1b[1A\\x0d+ fake line\\u202e" in text
    markdown = run("plan", "org.yaml", "--format", "markdown").stdout
    lines = markdown.splitlines()
    assert lines[0] == "<!-- clinesync-plan -->"
    # Every other `<!--` or `<details>` stands inside a code span or the diff block, where nothing renders.
    for line in lines[1:]:
        if "<!--" in line or "<details>" in line:
            assert line.startswith(("#### `", "| `", "- ")), line
    assert not any(line.startswith(("<!--", "<details>", "+ remoteConfig.fake")) for line in lines[1:])


def test_an_echoed_error_never_ends_in_part_of_a_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # 300+ characters, the token straddling the 300th: a cut before scrubbing would leave its prefix
        echoed = "x" * (300 - len(TOKEN) // 2) + f"Bearer {TOKEN} " + "y" * 40
        return httpx.Response(400, json={"success": False, "error": echoed})

    console = HttpConsole("https://console.example.test", TOKEN, retries=0, exchange=mocked(handler))
    with pytest.raises(ConsoleError) as raised:
        console.write(ORG, Document(True, {"version": "v1"}), None)
    assert not any(TOKEN[:size] in str(raised.value) for size in range(4, len(TOKEN) + 1))

    class Answer:
        status_code, reason_phrase = 401, "Unauthorized"

        @staticmethod
        def json() -> object:
            return {"error": {"message": "k" * 290 + "sk-planted-endpoint-key-4242 was refused"}}

    shown = _endpoint_error(Answer(), Redactor({"sk-planted-endpoint-key-4242"}))
    assert "sk-pl" not in shown and len(shown) <= 300


def test_export_writes_no_credential_in_clear_and_names_variables_per_organization(in_tmp: Path) -> None:
    for organization, key in ((ORG, "first-key-1111"), (OTHER, "second-key-2222")):
        seed(
            in_tmp / ".clinesync" / "console.db",
            {
                "version": "v1",
                "providerSettings": {
                    "OpenAiCompatible": {
                        "openAiBaseUrl": f"https://bot:{key}@gw.example.com/v1?api-key={key}&region=eu",
                        "openAiHeaders": {
                            "api-key": key,
                            "X-Auth-Scheme": f"Bearer {key}",
                            "X-Tenant": "acme",
                        },
                    }
                },
                "remoteMCPServers": [{"name": "docs", "url": f"https://mcp.example.com/sse?token={key}"}],
            },
            organization,
        )
    (in_tmp / "orgs").mkdir()
    (in_tmp / "clinesync.yaml").write_text("publicHeaders: [X-Tenant]\n")  # a header the team calls public
    variables: dict[str, str] = {}
    for organization, key in ((ORG, "first-key-1111"), (OTHER, "second-key-2222")):
        target = in_tmp / "orgs" / f"{organization}.yaml"
        result = run("export", organization, "-o", str(target))
        assert result.exit_code == 0, result.output
        text = target.read_text()
        assert key not in text and key not in result.output
        assert (
            "X-Tenant: acme" in text
            and "https://${env:" in text
            and "@gw.example.com/v1?api-key=${env:" in text
        )
        names = (
            result.stderr.split("before plan or apply: ", 1)[1]
            .split(". In the GitHub workflow", 1)[0]
            .split(", ")
        )
        assert not set(names) & set(variables), "two organizations share a variable name"
        variables.update({name: key for name in names})
    # Export then plan shows no changes, with the variables of the secrets set.
    live = {name: value for name, value in variables.items()}
    for name in live:
        live[name] = _live_value(in_tmp, name)
    assert run("plan", "orgs", "--detailed-exitcode", env=live).exit_code == 0


def _live_value(in_tmp: Path, name: str) -> str:
    """What export took each variable from, read back from the console (the test's own bookkeeping)."""
    from clinesync.plans.export import export_organization

    for organization in (ORG, OTHER):
        console = LocalConsole(in_tmp / ".clinesync" / "console.db")
        document = console.read(organization).document
        console.close()
        assert document is not None
        exported = export_organization(organization, document, "local")
        if name in exported.variables:
            return exported.variables[name]
    raise AssertionError(name)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_files_that_hold_or_point_at_secrets_are_private_and_never_written_through_a_link(
    in_tmp: Path,
) -> None:
    write(in_tmp / "org.yaml", FILE)
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0
    assert mode(in_tmp / ".clinesync") == 0o700
    assert mode(in_tmp / ".clinesync" / "console.db") == 0o600
    victim = in_tmp / "victim.txt"
    victim.write_text("precious\n")
    (in_tmp / "reviewed.plan").symlink_to(victim)
    assert run("plan", "org.yaml", "--out", "reviewed.plan").exit_code == 0
    assert victim.read_text() == "precious\n"
    assert not (in_tmp / "reviewed.plan").is_symlink() and mode(in_tmp / "reviewed.plan") == 0o600
    (in_tmp / "exported.yaml").symlink_to(in_tmp / "nowhere.yaml")  # a dangling link is a name taken too
    refused = run("export", ORG, "-o", "exported.yaml")
    assert refused.exit_code == 1 and "pass --force" in refused.output
    assert not (in_tmp / "nowhere.yaml").exists()
    assert run("export", ORG, "-o", "exported.yaml", "--force").exit_code == 0
    assert not (in_tmp / "exported.yaml").is_symlink() and mode(in_tmp / "exported.yaml") == 0o600
    assert [name for name in os.listdir(in_tmp) if name.startswith(".clinesync-")] == []  # no temporary left


def test_a_saved_plan_cannot_confirm_a_guessed_secret(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        FILE.replace("X-Signature: now-a-literal", "api-key: ${env:PIN}"),
    )
    fingerprints = []
    for pin in ("123456", "654321"):
        assert run("plan", "org.yaml", "--out", f"{pin}.plan", env={"PIN": pin}).exit_code == 0
        saved = json.loads((in_tmp / f"{pin}.plan").read_text())
        assert pin not in (in_tmp / f"{pin}.plan").read_text()
        fingerprints.append(saved)
    salts = [saved["salt"] for saved in fingerprints]
    assert salts[0] != salts[1]
    # With the salt in hand, a per-organization fingerprint says nothing about the secret: the same document
    # with another PIN fingerprints the same. Only the whole-plan scrypt binds it.
    from clinesync.plans.plan import make_plan
    from clinesync.plans.planfile import desired_fingerprint, secrets_fingerprint

    for pin in ("123456", "654321"):
        console = LocalConsole(in_tmp / ".clinesync" / "console.db")
        plan = make_plan(["org.yaml"], console, {"PIN": pin})
        console.close()
        [org] = plan.organizations
        assert (
            desired_fingerprint(org, salts[0]) == fingerprints[0]["organizations"][0]["desired_fingerprint"]
        )
        assert (
            secrets_fingerprint(plan.organizations, salts[0]) == fingerprints[0]["secrets_fingerprint"]
        ) == (pin == "123456")
    refused = run("apply", "123456.plan", env={"PIN": "654321"})
    assert refused.exit_code == 1 and "changed since the plan" in refused.output


def test_the_admin_token_never_crosses_the_network_in_clear_and_userinfo_is_never_printed(
    in_tmp: Path, tmp_path: Path
) -> None:
    write(in_tmp / "org.yaml", FILE)
    refused = run(
        "plan", "org.yaml", env={"CLINESYNC_CONSOLE": "http://console.example.test", "CLINE_API_KEY": TOKEN}
    )
    assert refused.exit_code == 1
    assert "refusing the plain http:// console on console.example.test" in refused.output
    assert "--insecure-http" in refused.output
    allowed = open_console(
        "http://console.example.test", environ={"CLINE_API_KEY": TOKEN}, insecure_http=True
    )
    assert allowed.description == "http://console.example.test"
    server = start_server(tmp_path / "served.db")
    try:
        with_userinfo = server.url.replace("http://", "http://admin:url-password-8c1d@")
        result = run("plan", "org.yaml", env={"CLINESYNC_CONSOLE": with_userinfo, "CLINE_API_KEY": TOKEN})
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert "url-password-8c1d" not in result.output
    assert result.stdout.startswith("Console: http://(sensitive)@127.0.0.1:")


def test_public_headers_are_shown_live_and_exported_literally_and_nothing_else_is(in_tmp: Path) -> None:
    """`publicHeaders` names header values that are not secret: plans show them live and export writes them;
    a credential-looking name stays secret whatever the list says."""
    text = (
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://llm.corp.example.com/v1\n      openAiHeaders:\n"
        "        X-Tenant-Id: acme\n        X-Api-Key: ${env:K}\n        X-Custom: c-live-7719\n"
    )
    (in_tmp / "org.yaml").write_text(text)
    assert run("apply", "org.yaml", "--auto-approve", env={"K": "k-live-5512"}).exit_code == 0
    (in_tmp / "org.yaml").write_text(text.replace("acme", "beta").replace("c-live-7719", "c-new"))
    hidden = run("plan", "org.yaml", env={"K": "k-new-0042"})
    assert 'X-Tenant-Id: (sensitive) -> "beta"' in hidden.stdout and "c-live-7719" not in hidden.stdout
    (in_tmp / "clinesync.yaml").write_text("publicHeaders: [x-tenant-id, X-API-KEY]\n")
    shown = run("plan", "org.yaml", env={"K": "k-new-0042"})
    assert 'X-Tenant-Id: "acme" -> "beta"' in shown.stdout
    assert "X-Api-Key: (sensitive value changed)" in shown.stdout and "k-live-5512" not in shown.output
    assert 'X-Custom: (sensitive) -> "c-new"' in shown.stdout
    exported = run("export", ORG)
    assert "X-Tenant-Id: acme" in exported.stdout
    assert "k-live-5512" not in exported.output and "c-live-7719" not in exported.output


def test_a_plan_file_edited_to_look_harmless_is_refused_not_applied(in_tmp: Path) -> None:
    """The display a reviewer reads (`show`, the pull-request comment) is the plan file's; apply refuses a plan
    whose display is not what it would do, even with every fingerprint intact."""
    (in_tmp / "org.yaml").write_text(
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://llm.corp.example.com/v1\n"
    )
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0
    (in_tmp / "org.yaml").write_text(
        (in_tmp / "org.yaml").read_text().replace("llm.corp.example.com", "collector.example.net")
    )
    assert run("plan", "org.yaml", "--out", "reviewed.plan").exit_code == 0
    document = json.loads((in_tmp / "reviewed.plan").read_text())
    [entry] = document["organizations"]
    assert entry["impacts"]  # the base URL moves to another host: a line no reviewer may miss
    entry["impacts"] = []
    entry["changes"][0]["after"] = "https://llm.corp.example.com/v2"
    entry["lines"] = [
        line.replace("collector.example.net", "llm.corp.example.com/v2") for line in entry["lines"]
    ]
    entry["lines"] = [line for line in entry["lines"] if not line.startswith("!")]
    (in_tmp / "reviewed.plan").write_text(json.dumps(document))
    shown = run("show", "reviewed.plan")
    assert "collector.example.net" not in shown.stdout  # what the edited file shows
    applied = run("apply", "reviewed.plan")
    assert applied.exit_code == 1
    assert "the plan file's display differs from what apply would do now" in applied.output
    assert "llm.corp.example.com" in run("export", ORG).stdout  # nothing was written


def test_a_saved_plan_cannot_confirm_a_guessed_url_path_or_host_from_the_environment(in_tmp: Path) -> None:
    """A token in a URL's path (or its host) from `${env:...}` is bound by the whole-plan scrypt only: the
    cheap per-organization fingerprints, live and desired, are the same whatever the token."""
    from clinesync.plans.plan import make_plan
    from clinesync.plans.planfile import desired_fingerprint, live_fingerprint

    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://gw.example.com/${env:TOKEN}/v1\n",
    )
    salt = "00" * 16
    seen = set()
    for token in ("482913", "000001"):
        database = in_tmp / f"{token}.db"
        assert (
            run(
                "apply", "org.yaml", "--auto-approve", "--console", str(database), env={"TOKEN": token}
            ).exit_code
            == 0
        )
        write(in_tmp / "org.yaml", (in_tmp / "org.yaml").read_text() + "  telemetryEnabled: false\n")
        console = LocalConsole(database)
        [org] = make_plan(["org.yaml"], console, {"TOKEN": token}).organizations
        console.close()
        write(
            in_tmp / "org.yaml", (in_tmp / "org.yaml").read_text().replace("  telemetryEnabled: false\n", "")
        )
        assert org.changes  # a plan with something to apply: both fingerprints are saved and checked
        seen.add((live_fingerprint(org, salt), desired_fingerprint(org, salt)))
    assert len(seen) == 1


def test_rollback_and_plans_hide_a_token_in_a_live_urls_path(in_tmp: Path) -> None:
    """A console cannot say which of a URL's path segments came from a secret: a long random-looking one is
    shown as `(sensitive)` on the live side; deployment names stay readable."""
    token = "aB3dE5fG7hJ9kL1mN3pQ5rS7"
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://gw.example.com/${env:TOKEN}/deployments/gpt-4o-2024-08-06/v1\n",
    )
    assert run("apply", "org.yaml", "--auto-approve", env={"TOKEN": token}).exit_code == 0
    write(in_tmp / "org.yaml", (in_tmp / "org.yaml").read_text().replace("${env:TOKEN}", "public"))
    changed = run("apply", "org.yaml", "--auto-approve")
    assert changed.exit_code == 0 and token not in changed.output
    assert "https://gw.example.com/(sensitive)/deployments/gpt-4o-2024-08-06/v1" in changed.output
    rolled = run("rollback", ORG, "--to", "1", "--auto-approve")
    assert rolled.exit_code == 0 and token not in rolled.output
    assert "/deployments/gpt-4o-2024-08-06/v1" in rolled.output
    exported = run("export", ORG)  # export is as careful: the token becomes a reference
    assert token not in exported.output
    assert (
        "https://gw.example.com/${env:CLINE_62121Y_OPENAICOMPATIBLE_OPENAIBASEURL_PATH}/deployments/gpt-4o-2024-08-06/v1"
        in exported.stdout
    )


def test_a_run_killed_while_writing_a_private_file_leaves_nothing_behind(tmp_path: Path) -> None:
    """SIGKILL (a runner out of memory, `timeout -s KILL`) cannot be handled: the file being written has no
    name until it is whole, so a half-written plan is never left beside the target."""
    import signal
    import subprocess
    import sys

    script = (
        "import os, signal\n"
        "from clinesync.privatefile import private_stream\n"
        "with private_stream('p.plan', overwrite=True) as stream:\n"
        "    stream.write('{' * 100000)\n"
        "    stream.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("system", ["unnamed files", "none", "linking refused"])
def test_a_private_file_replaces_a_link_and_never_takes_a_name_it_must_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: str
) -> None:
    """Files without a name where the system has them, a named temporary where it has none or will not link
    one (a restricted /proc): the same file."""
    from clinesync import privatefile

    if system == "none":
        monkeypatch.setattr(privatefile, "_unnamed", lambda _folder: None)
    if system == "linking refused":

        def refused(*_: object) -> None:
            raise PermissionError(13, "linkat")  # EACCES: a folder it cannot open, say

        monkeypatch.setattr(privatefile, "_name", refused)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "p.plan").symlink_to(victim)
    with pytest.raises(FileExistsError):
        privatefile.write_private(str(tmp_path / "p.plan"), "new\n", overwrite=False)
    privatefile.write_private(str(tmp_path / "p.plan"), "new\r\nline\rend\n", overwrite=True)
    assert victim.read_text() == "precious\n" and (tmp_path / "p.plan").read_bytes() == b"new\r\nline\rend\n"
    assert mode(tmp_path / "p.plan") == 0o600
    assert sorted(os.listdir(tmp_path)) == ["p.plan", "victim.txt"]
