"""Shared by the benchmarks: generated fleets of organization files, and whole-process timing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "org.yaml"
EXAMPLE_ORG = "org-01JZPE4CHW5XTP73W95762121Y"
# The venv's own script, not a pyenv shim: the shim alone costs ~90 ms.
CLINESYNC = str(Path(sys.executable).parent / "clinesync")


def timings(command: list[str], repeat: int = 1, **options: object) -> list[float]:
    """Wall times of `command` over `repeat` runs, in seconds, fastest first."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, **options)  # type: ignore[call-overload]
        times.append(time.perf_counter() - start)
    return sorted(times)


def timed(command: list[str], repeat: int = 1, **options: object) -> float:
    """Median wall time of `command` over `repeat` runs, in seconds."""
    return statistics.median(timings(command, repeat, **options))


def org_id(index: int) -> str:
    return f"org-01JZPE4CHW5XTP73W9{index:08d}"


def write_fleet(directory: Path, count: int) -> list[Path]:
    """A realistic fleet: the example's provider with a tenant header and a model of each organization's own,
    and a remote MCP server, so no two files are alike."""
    template = EXAMPLE.read_text("utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = directory / f"org-{index:05d}.yaml"
        text = (
            template.replace(EXAMPLE_ORG, org_id(index))
            .replace("Acme", f"Acme {index}")
            .replace("X-Tenant-Id: acme", f"X-Tenant-Id: acme-{index}")
            .replace(
                "  telemetryEnabled: true",
                f"        - id: team-{index}-ft\n          contextWindow: {32000 + index}\n"
                "  telemetryEnabled: true\n"
                "  remoteMCPServers:\n"
                f"    - name: docs-{index % 7}\n      url: https://mcp{index % 7}.example.com/sse\n"
                "      alwaysEnabled: true",
            )
        )
        path.write_text(text, "utf-8")
        paths.append(path)
    return paths


def octodns_config(work: Path) -> Path:
    """The peer's smallest real job: one tiny zone, YAML to YAML. Returns its configuration file."""
    (work / "zones").mkdir(exist_ok=True)
    (work / "dump").mkdir(exist_ok=True)
    (work / "zones" / "example.com.yaml").write_text(
        "---\n'':\n  type: A\n  value: 192.0.2.1\nwww:\n  type: CNAME\n  value: example.com.\n"
    )
    config = work / "octodns.yaml"
    config.write_text(
        "providers:\n  config:\n    class: octodns.provider.yaml.YamlProvider\n    directory: ./zones\n"
        "  dump:\n    class: octodns.provider.yaml.YamlProvider\n    directory: ./dump\n"
        "zones:\n  example.com.:\n    sources: [config]\n    targets: [dump]\n"
    )
    return config
