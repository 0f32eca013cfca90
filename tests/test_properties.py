"""Properties that must hold for any input, checked on generated cases (hypothesis).

- validate never raises, and every problem it reports has a location inside the file;
- for any two valid documents A and B, applying the plan from A to B leaves B live, and a second plan is empty;
- diff and replay agree on any pair of valid documents;
- export then plan is empty for any valid live document.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinesync import strictjson
from clinesync.consoles.local import LocalConsole
from clinesync.diff import diff
from clinesync.document import Document, same
from clinesync.files.desired import Desired
from clinesync.files.loader import load_bytes
from clinesync.files.validate import check_loaded
from clinesync.plans.apply import apply_plan
from clinesync.plans.export import export_organization
from clinesync.plans.plan import Plan, make_plan, plan_organization

from replay import apply_changes
from strategies import mutated_files, remote_configs, yaml_texts

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
# How many examples: the profile conftest loads (quick on a developer's machine, thorough in CI).
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(
    st.one_of(yaml_texts(), mutated_files(), st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")))
)
@example("organization: \n\x850")  # found by hypothesis: libyaml's line after a NEL is not a reviewer's
def test_validate_never_raises_and_locates_every_problem(text: str) -> None:
    raw = text.encode("utf-8")
    problems = check_loaded(load_bytes(raw, "org.yaml")).problems
    lines = raw.count(b"\n") + 1
    for problem in problems:
        assert 1 <= problem.line <= lines + 1 and problem.column >= 1, problem
        assert problem.file == "org.yaml" and problem.rule.startswith("CS")


@SETTINGS
@given(remote_configs(), remote_configs(), st.booleans(), st.booleans())
def test_diff_and_replay_agree(first: dict[str, Any], second: dict[str, Any], on: bool, off: bool) -> None:
    before = {"enabled": on, "remoteConfig": first}
    after = {"enabled": off, "remoteConfig": second}
    assert same(apply_changes(before, diff(before, after)), after)
    assert diff(after, copy.deepcopy(after)) == []


@SETTINGS
@given(remote_configs(), remote_configs(), st.booleans())
def test_applying_the_plan_from_a_to_b_leaves_b_and_a_second_plan_is_empty(
    tmp_path_factory: Any, first: dict[str, Any], second: dict[str, Any], enabled: bool
) -> None:
    console = LocalConsole(tmp_path_factory.mktemp("console") / "console.db")
    console.write(ORG, Document(True, first), None)
    desired = Desired("generated.yaml", ORG, None, Document(enabled, second))
    plan = Plan(console.description, console.identity, [plan_organization(desired, console.read(ORG))])
    results = apply_plan(plan, console)
    assert [result.outcome for result in results] == (["applied"] if plan.has_changes else ["unchanged"])
    live = console.read(ORG).document
    assert live is not None and same(live.tree(), Document(enabled, second).tree())
    assert plan_organization(desired, console.read(ORG)).changes == []
    console.close()


@SETTINGS
@given(remote_configs(), st.booleans())
def test_export_then_plan_is_empty(tmp_path_factory: Any, config: dict[str, Any], enabled: bool) -> None:
    directory: Path = tmp_path_factory.mktemp("export")
    console = LocalConsole(directory / "console.db")
    console.write(ORG, Document(enabled, config), None)
    exported = export_organization(ORG, Document(enabled, config), console.description)
    path = directory / "exported.yaml"
    path.write_text(exported.text)
    [org] = make_plan([str(path)], console, exported.variables).organizations
    assert org.error is None, (org.error, [str(problem) for problem in org.problems])
    assert org.changes == []
    console.close()


_ANY_NUMBER = st.floats() | st.integers(min_value=-(2**70), max_value=2**70)


@SETTINGS
@given(_ANY_NUMBER)
def test_a_number_validate_accepts_is_one_cline_reads_exactly(number: float) -> None:
    """NaN, infinities and integers beyond 2^53 included: what passes is strict JSON that a float64 holds."""
    written = repr(number).replace("nan", ".nan").replace("inf", ".inf")
    raw = f"organization: {ORG}\nremoteConfig:\n  openTelemetryLogBatchSize: {written}\n".encode()
    loaded = load_bytes(raw, "org.yaml")
    problems = check_loaded(loaded).problems
    value = loaded.data["remoteConfig"]["openTelemetryLogBatchSize"]
    if not problems:
        text = strictjson.dumps(value)  # raises on NaN and infinities
        assert float(text) == value and (not isinstance(value, int) or int(float(text)) == value)
    else:  # refused where it stands (a negative one also for being below 0)
        assert {(problem.rule, problem.line, problem.column) for problem in problems} == {("CS100", 3, 30)}


@given(remote_configs(), remote_configs())
def test_comparing_in_place_agrees_with_the_canonical_form(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    from clinesync.document import canonical_json

    for left, right in ((first, second), (first, first), (second, dict(reversed(list(second.items()))))):
        assert same(left, right) == (canonical_json(left) == canonical_json(right))


def _reordered(value: Any) -> Any:
    """The same value with every mapping's keys in reverse order: another text, the same document."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


@SETTINGS
@given(remote_configs(), st.booleans())
def test_in_sync_is_told_by_the_stored_text_and_without_it_alike(
    tmp_path_factory: Any, config: dict[str, Any], enabled: bool
) -> None:
    console = LocalConsole(tmp_path_factory.mktemp("console") / "console.db")
    console.write(ORG, Document(enabled, config), None)
    for written in (config, _reordered(config)):
        desired = Desired("generated.yaml", ORG, None, Document(enabled, written))
        for live in (console.read(ORG), console.read(ORG, like=desired.document)):
            org = plan_organization(desired, live)
            assert (org.action, org.changes) == ("no-op", [])
    same = Document(enabled, config)
    assert console.read(ORG, like=same).document is same  # told by the text, without decoding
    flipped = Desired("generated.yaml", ORG, None, Document(not enabled, config))
    assert plan_organization(flipped, console.read(ORG, like=flipped.document)).action == "update"
    console.close()


@given(st.none() | st.booleans() | st.integers(min_value=-(2**64), max_value=2**64))
def test_a_plain_value_is_shown_as_json_shows_it(value: Any) -> None:
    from clinesync.plans.display import value_text

    assert value_text(value) == strictjson.dumps(value)
