"""The manual path's steps: each change as a step in the admin console, named by the console's own labels
(the schema's titles). Sensitive values are never printed: a step names the `${env:NAME}` to paste from, or
says the value is secret.
"""

from __future__ import annotations

from typing import Any

from clinesync.clients import MEMBERS_PICK_IT_UP
from clinesync.contract import resolve_ref, schema
from clinesync.diff import Change
from clinesync.fields import Item, Path
from clinesync.masking import is_sensitive
from clinesync.plans.display import value_text
from clinesync.plans.manual import Waited
from clinesync.plans.plan import OrgPlan
from clinesync.scrub import SENSITIVE


def steps(org: OrgPlan) -> list[str]:
    """The console steps that make live equal the desired document, in order."""
    lines = ["Open Settings → Cline Settings in the admin console (app.cline.bot)."]
    live = org.live.document.config if org.live and org.live.document else {}
    chosen = set(live.get("providerSettings") or {})
    for change in org.changes:
        provider = change.path[2] if change.path[:2] == ("remoteConfig", "providerSettings") else None
        if provider is not None and provider not in chosen and change.op == "add":
            chosen.add(provider)
            lines.append(f"API Provider: choose {labels(change.path[:3])[-1]} in the dropdown")
        lines.append(_step(change, org))
    lines.append("Close the provider panel and press Save on the settings page.")
    return lines


def _step(change: Change, org: OrgPlan) -> str:
    label = " → ".join(labels(change.path))
    if change.op == "remove":
        return f"{label}: remove it"
    if change.path == ("enabled",):
        return f"{label}: turn {'on' if change.after else 'off'}"
    return f"{label}: set to {_shown(change, org)}"


def _shown(change: Change, org: OrgPlan) -> str:
    if is_sensitive(change.path, org.mask.from_environment):
        reference = org.desired.references.get(change.path) if org.desired else None
        return (
            f"{SENSITIVE}: paste the value of {reference}" if reference else f"{SENSITIVE}: the secret value"
        )
    return value_text(org.mask.after(change.after, change.path))


def labels(path: Path) -> list[str]:
    """`API Provider → OpenAI Compatible → Models → gpt-4o → Max Output Tokens` for a plan path."""
    names: list[str] = []
    node: dict[str, Any] = schema()
    for part in path:
        node = resolve_ref(node)
        if isinstance(part, Item):
            names.append(part.value)
            node = node.get("items", {})
            continue
        child = node.get("properties", {}).get(part)
        if child is None:  # a header name, shown as typed
            names.append(str(part))
            extra = node.get("additionalProperties")
            node = extra if isinstance(extra, dict) else {}
            continue
        if part != "remoteConfig":  # the whole document, not a console field
            names.append(child.get("title") or resolve_ref(child).get("title") or str(part))
        node = child
    return names


def checklist_text(orgs: list[OrgPlan]) -> str:
    """Every organization's numbered steps."""
    from clinesync.escape import visible
    from clinesync.render.text import organization_label

    out = []
    for org in orgs:
        out.append(f"\nIn the admin console, for {organization_label(org)}:\n")
        out += [f"  {number}. {visible(step)}\n" for number, step in enumerate(steps(org), 1)]
    return "".join(out)


def waited_text(waited: list[Waited], timeout: float) -> str:
    """After the wait: each organization verified by reading, or what still differs."""
    from clinesync.plans.display import change_line
    from clinesync.render.text import organization_label

    out = ["\n"]
    for item in waited:
        if item.matched:
            out.append(f"{organization_label(item.org)}: matches the files (verified)\n")
            continue
        out.append(f"{organization_label(item.org)}: still differs after {timeout:g} s:\n")
        out += [f"    {change_line(change, item.org.mask)}\n" for change in item.remaining]
    if any(item.matched for item in waited):
        out.append(f"\nSaved in the console; {MEMBERS_PICK_IT_UP}.\n")
    return "".join(out)
