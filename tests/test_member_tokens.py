"""`clinesync serve` as a console Cline's own clients load from (SPEC §11): member tokens, each bound to one
organization and read-only; discovery answered as Cline's contract reads it (the keys of the answer recorded
from Cline's repository); `/api/v1/users/me` listing the token's organizations with its roles."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from support import TOKEN, RunningServer, cline_payload, run

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
OTHER = "org-01JZPE4CHW5XTP73W95762121Z"
CONFIG = {
    "version": "v1",
    "providerSettings": {"OpenAiCompatible": {"openAiBaseUrl": "https://llm.corp.example.com/v1"}},
    "telemetryEnabled": False,
}


def member_token(server: RunningServer, organization: str = ORG) -> str:
    made = run("member-token", organization, "--db", str(server.database))
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("csm_") and token not in server.database.read_bytes().decode("latin-1")
    return token


def get(server: RunningServer, path: str, token: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def store(server: RunningServer, organization: str, config: dict[str, object], enabled: bool = True) -> None:
    answer = httpx.put(
        f"{server.url}/api/v1/organizations/{organization}/remote-config",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"enabled": enabled, "value": json.dumps(config)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_a_member_discovers_its_organizations_configuration_as_clines_contract_reads_it(
    console_server: RunningServer,
) -> None:
    store(console_server, ORG, CONFIG)
    store(console_server, OTHER, {"version": "v1", "kanbanEnabled": True})
    token = member_token(console_server)
    answer = get(console_server, "/api/v1/users/me/remote-config", token).json()
    assert answer["success"] is True
    data = answer["data"]
    recorded = cline_payload("user-remote-config-discovery.json")  # what Cline's contract test answers
    assert set(recorded) <= set(data)
    assert data["organizationId"] == ORG
    assert isinstance(data["value"], str) and json.loads(data["value"]) == CONFIG  # a string, as Cline parses
    assert data["enabled"] is True  # Cline's command-line client applies nothing without it
    assert [set(entry) for entry in data["organizations"]] == [set(recorded["organizations"][0])]
    profile = get(console_server, "/api/v1/users/me", token).json()["data"]
    assert profile["organizations"] == [
        {"organizationId": ORG, "name": ORG, "roles": ["member"], "active": True}
    ]


def test_a_member_token_reads_its_own_organization_only_and_never_writes(
    console_server: RunningServer,
) -> None:
    store(console_server, ORG, CONFIG)
    store(console_server, OTHER, CONFIG)
    token = member_token(console_server)
    own = get(console_server, f"/api/v1/organizations/{ORG}/remote-config", token)
    assert own.status_code == 200 and json.loads(own.json()["data"]["value"]) == CONFIG
    assert get(console_server, f"/api/v1/organizations/{OTHER}/remote-config", token).status_code == 403
    assert (
        get(console_server, f"/api/v1/organizations/{ORG}/remote-config/revisions", token).status_code == 403
    )
    written = httpx.put(
        f"{console_server.url}/api/v1/organizations/{ORG}/remote-config",
        headers={"Authorization": f"Bearer {token}"},
        json={"enabled": True, "value": json.dumps({"version": "v1"})},
        timeout=10,
    )
    assert written.status_code == 403
    assert (
        json.loads(
            get(console_server, f"/api/v1/organizations/{ORG}/remote-config", TOKEN).json()["data"]["value"]
        )
        == CONFIG
    )


@pytest.mark.parametrize("state", ["unconfigured", "disabled"])
def test_a_member_of_an_organization_without_configuration_gets_none(
    console_server: RunningServer, state: str
) -> None:
    if state == "disabled":
        store(console_server, ORG, CONFIG, enabled=False)
    token = member_token(console_server)
    answer = get(console_server, "/api/v1/users/me/remote-config", token)
    assert answer.status_code == 200 and answer.json() == {"success": True, "data": None}


def test_the_admin_token_is_not_a_member_and_lists_what_it_administers(console_server: RunningServer) -> None:
    store(console_server, ORG, CONFIG)
    assert get(console_server, "/api/v1/users/me/remote-config", TOKEN).json()["data"] is None
    listed = get(console_server, "/api/v1/users/me", TOKEN).json()["data"]["organizations"]
    assert listed == [{"organizationId": ORG, "name": ORG, "roles": ["admin"], "active": False}]


def test_a_revoked_or_unknown_member_token_is_refused_at_once(console_server: RunningServer) -> None:
    store(console_server, ORG, CONFIG)
    token = member_token(console_server)
    assert get(console_server, "/api/v1/users/me/remote-config", token).status_code == 200
    revoked = run("member-token", ORG, "--db", str(console_server.database), "--revoke")
    assert revoked.exit_code == 0 and "Revoked 1 member token" in revoked.stderr
    assert get(console_server, "/api/v1/users/me/remote-config", token).status_code == 401
    assert get(console_server, "/api/v1/users/me/remote-config", "csm_" + "x" * 43).status_code == 401
    assert token not in console_server.log.getvalue()


def test_export_all_lists_the_organizations_the_token_administers_not_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cline's `GET /api/v1/users/me` lists every organization with the caller's roles; export --all takes
    the ones it administers (admin or owner), not the member-side discovery's."""
    from fake_llm import JsonHandler, serving

    class Profile(JsonHandler):
        def do_GET(self) -> None:
            if self.path == "/api/v1/users/me":
                organizations = [
                    {
                        "organizationId": ORG,
                        "name": "Acme",
                        "roles": ["owner"],
                        "active": True,
                        "memberId": "m1",
                    },
                    {
                        "organizationId": OTHER,
                        "name": "Beta",
                        "roles": ["member"],
                        "active": False,
                        "memberId": "m2",
                    },
                ]
                self._answer(200, {"success": True, "data": {"id": "u1", "organizations": organizations}})
            elif self.path == f"/api/v1/organizations/{ORG}/remote-config":
                self._answer(200, {"success": True, "data": {"enabled": True, "value": json.dumps(CONFIG)}})
            else:
                self._answer(404, {"success": False, "error": "not found"})

    monkeypatch.chdir(tmp_path)
    with serving(Profile) as url:
        result = run("export", "--all", "-o", "orgs", env={"CLINESYNC_CONSOLE": url, "CLINE_API_KEY": TOKEN})
    assert result.exit_code == 0, result.output
    written = {path.name: path.read_text() for path in (tmp_path / "orgs").glob("*.yaml")}
    assert list(written) == ["acme.yaml"]  # named by the organization's name, which the file keeps
    assert f"organization: {ORG}\nname: Acme\n" in written["acme.yaml"] and OTHER not in written["acme.yaml"]


def test_revoking_on_a_database_that_is_not_there_is_an_error_not_zero_revoked(in_tmp: Path) -> None:
    """A mistyped --db would make a new, empty database and report 0 revoked while the real tokens work on."""
    result = run("member-token", ORG, "--db", "typo.db", "--revoke")
    assert result.exit_code == 1 and "typo.db: no such console database" in result.stderr
    assert not (in_tmp / "typo.db").exists()


def test_member_token_and_serve_use_the_local_console_the_other_commands_use(in_tmp: Path) -> None:
    """A token made in another database than the one apply writes to and serve reads is refused to every
    member: without --db they take the local console named as every other command finds it, and refuse an
    http(s) one named on their command line, whose database only --db can name."""
    made = run("--console", "sqlite:named.db", "member-token", ORG)
    assert made.exit_code == 0 and (in_tmp / "named.db").exists(), made.output
    (in_tmp / "clinesync.yaml").write_text("console: configured.db\n")
    assert run("member-token", ORG).exit_code == 0 and (in_tmp / "configured.db").exists()
    assert run("member-token", ORG, env={"CLINESYNC_CONSOLE": "from-env.db"}).exit_code == 0
    assert (in_tmp / "from-env.db").exists()
    for command in (("member-token", ORG), ("serve", "--port", "0")):
        result = run("--console", "http://127.0.0.1:8787", *command)
        assert result.exit_code == 1 and "take the database as --db PATH" in result.stderr, result.output
    assert not (in_tmp / ".clinesync").exists()
    # An environment naming the server's address (as plan and apply reach it) is passed over for the
    # configuration's database, which serve started without it uses too.
    (in_tmp / "configured.db").unlink()
    served = run("member-token", ORG, env={"CLINESYNC_CONSOLE": "http://127.0.0.1:8787"})
    assert served.exit_code == 0 and (in_tmp / "configured.db").exists()
    assert not (in_tmp / ".clinesync").exists()
