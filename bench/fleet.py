"""Generated fleets of organization files for the benchmarks: realistic, distinct, valid."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "org.yaml"
EXAMPLE_ORG = "org-01JZPE4CHW5XTP73W95762121Y"


def org_id(index: int) -> str:
    return f"org-01JZPE4CHW5XTP73W9{index:08d}"


def write_fleet(directory: Path, count: int) -> list[Path]:
    template = EXAMPLE.read_text("utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = directory / f"org-{index:05d}.yaml"
        path.write_text(
            template.replace(EXAMPLE_ORG, org_id(index)).replace("Acme", f"Acme {index}"), "utf-8"
        )
        paths.append(path)
    return paths
