"""Probe results as text (a line per check, with the fix to try) and as versioned JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinesync import strictjson
from clinesync.probe.endpoints import Endpoint

FORMAT_VERSION = "1"
_COLORS = {"ok": "green", "warn": "yellow", "fail": "red"}


def probe_text(endpoints: list[Endpoint], failed_files: list[tuple[str, str]], style: Any) -> str:
    out = []
    for endpoint in endpoints:
        out.append(
            f"\n{style(endpoint.organization, bold=True)} ({endpoint.file}) {endpoint.provider} "
            f"{endpoint.shown_url}\n"
        )
        for check in endpoint.checks:
            latency = f"  {check.latency_ms:.0f} ms" if check.latency_ms is not None else ""
            out.append(
                f"  {style(f'{check.status:<5}', fg=_COLORS[check.status])} {check.name}: {check.detail}"
                f"{latency}\n"
            )
            if check.fix and check.status != "ok":
                out.append(f"        try: {check.fix}\n")
    for file, error in failed_files:
        out.append(f"\n{style(file, bold=True)} {style('fail', fg='red')}: {error}\n")
    out.append("\n" + summary(endpoints, failed_files) + "\n")
    return "".join(out).lstrip("\n")


def summary(endpoints: list[Endpoint], failed_files: list[tuple[str, str]]) -> str:
    counts = {status: sum(1 for e in endpoints for c in e.checks if c.status == status) for status in _COLORS}
    passed = sum(1 for endpoint in endpoints if endpoint.passed)
    files = f", {len(failed_files)} files failed" if failed_files else ""
    return (
        f"Probe: {len(endpoints)} endpoints, {passed} passed, {len(endpoints) - passed} failed{files} "
        f"({counts['ok']} checks ok, {counts['warn']} warnings, {counts['fail']} failed)."
    )


def probe_json(endpoints: list[Endpoint], failed_files: list[tuple[str, str]]) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "endpoints": [
            {
                "organization": endpoint.organization,
                "file": endpoint.file,
                "provider": endpoint.provider,
                "base_url": endpoint.shown_url,
                "passed": endpoint.passed,
                "checks": [
                    {
                        "check": c.name,
                        "status": c.status,
                        "detail": c.detail,
                        "fix": c.fix,
                        "latency_ms": None if c.latency_ms is None else round(c.latency_ms, 1),
                    }
                    for c in endpoint.checks
                ],
            }
            for endpoint in endpoints
        ],
        "failed_files": [{"file": file, "error": error} for file, error in failed_files],
        "summary": {
            "endpoints": len(endpoints),
            "passed": sum(1 for endpoint in endpoints if endpoint.passed),
            "failed": sum(1 for endpoint in endpoints if not endpoint.passed),
            "failed_files": len(failed_files),
        },
    }
    return strictjson.dumps(document, indent=2, ensure_ascii=False) + "\n"


# probe's --format: the one table that also builds the option's choices (text is styled, on a terminal).
PROBE_RENDERERS: dict[str, Callable[[list[Endpoint], list[tuple[str, str]], Any], str]] = {
    "text": probe_text,
    "json": lambda endpoints, failed_files, style: probe_json(endpoints, failed_files),
}
