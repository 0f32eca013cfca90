"""A large change needs a second look: beyond `massChange:` a plan says so, and apply (of files or of a saved
plan) refuses, writing nothing, until `--allow-mass-change`."""

from __future__ import annotations

import json
from pathlib import Path

from support import run, write

GATEWAY = "      openAiBaseUrl: https://gw.example.com/v1\n"


def org(index: int, extra: str = "") -> str:
    return (
        f"organization: org-01JZPE4CHW5XTP73W957{index:06d}\nremoteConfig:\n  providerSettings:\n"
        f"    OpenAiCompatible:\n{GATEWAY}{extra}"
    )


def fleet(root: Path, count: int) -> None:
    for index in range(count):
        write(root / "orgs" / f"{index:02d}.yaml", org(index))


def test_updating_more_than_the_share_of_the_fleet_is_refused_until_allowed(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nmassChange: {share: 0.25}\n")
    fleet(in_tmp, 12)
    assert run("apply", "--auto-approve").exit_code == 0  # creating the fleet is adoption, not a mass change
    for index in range(4):  # 4 of 12 (33%): more than a quarter
        write(in_tmp / "orgs" / f"{index:02d}.yaml", org(index, '      azureApiVersion: "2024-10-21"\n'))
    planned = run("plan", "--out", "reviewed.plan")
    assert (
        "! Mass change: it updates 4 of 12 organizations (33%), more than massChange.share (25%)."
        in planned.stdout
    )
    assert "! apply refuses it without --allow-mass-change" in planned.stdout
    data = json.loads(run("plan", "--format", "json").stdout)
    assert data["mass_change"] == ["it updates 4 of 12 organizations (33%), more than massChange.share (25%)"]
    shown = run("show", "reviewed.plan")
    assert "! Mass change: it updates 4 of 12" in shown.stdout  # as it was reviewed
    for attempt in (("apply", "reviewed.plan"), ("apply", "--auto-approve")):
        refused = run(*attempt)
        assert refused.exit_code == 1, refused.output
        assert "Refused: a change this large needs a second look" in refused.stderr
        assert "Nothing was written." in refused.stderr
    assert "4 organizations to update" in run("plan").stdout.replace("organization ", "organizations ")
    applied = run("apply", "reviewed.plan", "--allow-mass-change")
    assert applied.exit_code == 0, applied.output
    assert run("plan", "--detailed-exitcode").exit_code == 0
    # A pull request's plan of one file is judged against the whole fleet the project manages.
    write(in_tmp / "orgs" / "00.yaml", org(0, '      azureApiVersion: "2025-01-01"\n'))
    assert "Mass change" not in run("plan", "orgs/00.yaml").stdout


def test_the_share_is_judged_at_any_size_unless_share_from_says_from_how_many(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nmassChange: {share: 0.25}\n")
    fleet(in_tmp, 3)
    assert run("apply", "--auto-approve").exit_code == 0
    write(in_tmp / "orgs" / "00.yaml", org(0, '      azureApiVersion: "2024-10-21"\n'))
    assert "it updates 1 of 3 organizations (33%)" in run("apply", "--auto-approve").stderr
    # The fleet `clinesync init` starts (shareFrom: 10): its routine change does not need the allowance.
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nmassChange: {share: 0.25, shareFrom: 10}\n")
    fleet(in_tmp, 9)
    assert run("apply", "--auto-approve").exit_code == 0
    for index in range(9):  # all of them: 100%, in a fleet too small for a share to mean anything
        write(in_tmp / "orgs" / f"{index:02d}.yaml", org(index, '      azureApiVersion: "2024-10-21"\n'))
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0 and "Mass change" not in applied.output, applied.output
    write(in_tmp / "orgs" / "09.yaml", org(9))
    assert run("apply", "--auto-approve").exit_code == 0  # the tenth, a create
    for index in range(3):  # 3 of 10: more than a quarter
        write(in_tmp / "orgs" / f"{index:02d}.yaml", org(index, '      azureApiVersion: "2025-01-01"\n'))
    assert "it updates 3 of 10 organizations (30%)" in run("apply", "--auto-approve").stderr


def test_disabling_or_removing_a_provider_in_more_organizations_than_allowed_is_refused(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nmassChange: {disable: 0, removeProvider: 1}\n")
    fleet(in_tmp, 3)
    for index in range(3):
        write(in_tmp / "orgs" / f"{index:02d}.yaml", org(index, "    Anthropic: {}\n"))
    assert run("apply", "--auto-approve").exit_code == 0
    write(in_tmp / "orgs" / "00.yaml", "enabled: false\n" + org(0, "    Anthropic: {}\n"))
    for index in (1, 2):
        write(in_tmp / "orgs" / f"{index:02d}.yaml", org(index))
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert (
        "mass change: it disables remote configuration in 1 organization, more than massChange.disable (0)"
        in refused.stderr
    )
    assert (
        "it removes a provider in 2 organizations, more than massChange.removeProvider (1)" in refused.stderr
    )
    assert run("apply", "--auto-approve", "--allow-mass-change").exit_code == 0


def test_a_bad_threshold_is_a_located_error(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "massChange: {share: 2, removeProviders: 1}\n")
    fleet(in_tmp, 1)
    result = run("validate", "orgs")
    assert result.exit_code == 1
    assert "clinesync.yaml:1:" in result.stderr and "massChange" in result.stderr


def test_a_share_needs_the_fleet_named_and_removing_all_providers_at_once_counts(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "massChange:\n  share: 0.25\n")
    fleet(in_tmp, 2)
    unnamed = run("validate", "orgs")
    assert unnamed.exit_code == 1
    assert "clinesync.yaml:2:3: error: massChange.share needs paths:" in unnamed.stderr
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nmassChange: {removeProvider: 0}\n")
    assert run("apply", "--auto-approve").exit_code == 0
    write(in_tmp / "orgs" / "00.yaml", "organization: org-01JZPE4CHW5XTP73W957000000\nremoteConfig: {}\n")
    write(in_tmp / "orgs" / "01.yaml", "organization: org-01JZPE4CHW5XTP73W957000001\n")
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1, refused.output
    assert (
        "it removes a provider in 2 organizations, more than massChange.removeProvider (0)" in refused.stderr
    )
