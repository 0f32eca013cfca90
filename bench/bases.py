"""Benchmark: a fleet of 1,000 organizations that extend one base, beside the same fleet written out in full.

`validate` and `plan` (against an empty local console) of both, alternating, so a change in the machine's load
falls on both alike. Prints figures and the ratio the target is stated in (<= 1.2); asserts nothing. Run with
`make bench-bases`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from common import CLINESYNC, EXAMPLE, EXAMPLE_ORG, org_id, timings, write_fleet

from clinesync.consoles.local import LocalConsole

COUNT = 1000
ROUNDS = 5


def write_based_fleet(directory: Path, count: int) -> None:
    """The same organizations as `write_fleet`: what they share in one base, what is their own in each file."""
    lines = EXAMPLE.read_text("utf-8").splitlines(keepends=True)
    base = "".join(line for line in lines if not line.startswith(("organization:", "name:")))
    (directory / "bases").mkdir(parents=True, exist_ok=True)
    (directory / "bases" / "acme.yaml").write_text(base, "utf-8")
    (directory / "orgs").mkdir(exist_ok=True)
    for index in range(count):
        (directory / "orgs" / f"org-{index:05d}.yaml").write_text(
            f"organization: {org_id(index)}\nname: Acme {index} Engineering\nextends: [../bases/acme.yaml]\n"
            "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
            f"      openAiHeaders:\n        X-Tenant-Id: acme-{index}\n"
            f"      models:\n        - id: team-{index}-ft\n          contextWindow: {32000 + index}\n"
            f"  remoteMCPServers:\n    - name: docs-{index % 7}\n      url: https://mcp{index % 7}.example.com/sse\n"
            "      alwaysEnabled: true\n",
            "utf-8",
        )


def main() -> None:
    assert EXAMPLE_ORG in EXAMPLE.read_text("utf-8")
    environment = {**os.environ, "AZURE_OPENAI_KEY": "bench-key"}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        write_fleet(work / "full", COUNT)
        write_based_fleet(work / "based", COUNT)
        commands = {
            "validate": lambda folder: [CLINESYNC, "validate", folder],
            "plan": lambda folder: [CLINESYNC, "plan", folder, "--console", str(work / "empty.db")],
        }
        LocalConsole(work / "empty.db").read(org_id(0))  # an empty console: every organization is created
        print(f"{COUNT} organizations, median of {ROUNDS} alternating runs each")
        for name, command in commands.items():
            full, based = [], []
            for _ in range(ROUNDS):
                full += timings(command(str(work / "full")), env=environment, cwd=work)
                based += timings(command(str(work / "based" / "orgs")), env=environment, cwd=work)
            full_median, based_median = statistics.median(full), statistics.median(based)
            print(f"{name:8} written in full      {full_median * 1000:8.0f} ms")
            print(f"{name:8} extending one base   {based_median * 1000:8.0f} ms")
            print(f"  ratio based / full          {based_median / full_median:8.2f}  (target <= 1.20)")


if __name__ == "__main__":
    main()
