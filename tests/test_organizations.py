"""`clinesync organizations` (issue 28): what the token can manage, as `terraform state list` and octoDNS's zone
list show what a tool manages, beside the files here that manage each."""

from __future__ import annotations

import json
from pathlib import Path

from clinesync.consoles.local import LocalConsole
from clinesync.document import Document

from support import TOKEN, RunningServer, run, write

LIVE = "org-01JZPE4CHW5XTP73W95760001Y"
UNFILED = "org-01JZPE4CHW5XTP73W95760002Y"
NOT_LIVE = "org-01JZPE4CHW5XTP73W95760003Y"


def test_live_organizations_with_their_files_and_files_the_console_does_not_list(
    in_tmp: Path, console_server: RunningServer
) -> None:
    console = LocalConsole(console_server.database)
    for organization in (LIVE, UNFILED):
        console.write(organization, Document(True, {"telemetryEnabled": True}), None)
    console.close()
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\n")
    write(in_tmp / "orgs" / "live.yaml", f"organization: {LIVE}\n")
    write(in_tmp / "orgs" / "typo.yaml", f"organization: {NOT_LIVE}\n")
    over_http = {"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": TOKEN}
    shown = run("organizations", env=over_http)
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert f"{LIVE} {LIVE} admin orgs/live.yaml" in lines  # the server names an organization by its id
    assert f"{UNFILED} {UNFILED} admin (no file here)" in lines
    assert f"{NOT_LIVE} - - orgs/typo.yaml (not listed by the console)" in lines
    assert lines[-1] == (
        "2 organizations the token manages: 1 with a file here, 1 without; 1 file here names an organization "
        "the console does not list."
    )
    data = json.loads(run("organizations", "--format", "json", env=over_http).stdout)
    assert data["organizations"] == [
        {"organization": LIVE, "name": LIVE, "role": "admin", "file": "orgs/live.yaml"},
        {"organization": UNFILED, "name": UNFILED, "role": "admin", "file": None},
    ]
    assert data["files_not_listed"] == [{"organization": NOT_LIVE, "file": "orgs/typo.yaml"}]
    assert TOKEN not in shown.output


def test_the_embedded_console_lists_what_it_holds_and_paths_narrow_the_files(in_tmp: Path) -> None:
    write(in_tmp / "a" / "one.yaml", f"organization: {LIVE}\n")
    write(in_tmp / "b" / "two.yaml", f"organization: {UNFILED}\n")
    assert run("apply", "a", "b", "--auto-approve").exit_code == 0
    only_a = run("organizations", "a")
    lines = [" ".join(line.split()) for line in only_a.stdout.splitlines()]
    assert f"{LIVE} - - a/one.yaml" in lines and f"{UNFILED} - - (no file here)" in lines
