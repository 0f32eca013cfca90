"""Benchmark: whole-process `plan` of one organization and `apply` of 500 on the embedded console.

Prints figures; asserts nothing. Run with `make bench`.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from common import CLINESYNC, EXAMPLE, timed, write_fleet


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        os.environ["AZURE_OPENAI_KEY"] = "bench-stand-in-key"
        os.chdir(work)
        plan_create = timed([CLINESYNC, "plan", str(EXAMPLE)], repeat=9)
        timed([CLINESYNC, "apply", str(EXAMPLE), "--auto-approve"])
        plan_same = timed([CLINESYNC, "plan", str(EXAMPLE)], repeat=9)
        write_fleet(work / "fleet", 500)
        apply_fleet = timed([CLINESYNC, "apply", "fleet", "--auto-approve"])
        reapply = timed([CLINESYNC, "apply", "fleet", "--auto-approve"])
        with sqlite3.connect(work / ".clinesync" / "console.db") as connection:
            (writes,) = connection.execute("SELECT COUNT(*) FROM revisions").fetchone()
    print(f"plan 1 organization (to create):  {plan_create * 1000:7.1f} ms")
    print(f"plan 1 organization (no changes): {plan_same * 1000:7.1f} ms")
    print(f"apply 500 organizations:          {apply_fleet * 1000:7.1f} ms")
    print(f"apply 500 again (no changes):     {reapply * 1000:7.1f} ms")
    print(f"revisions written in all:         {writes} (1 + 500 expected)")


if __name__ == "__main__":
    main()
