# ruff: noqa: F821, B018
# Names vulture takes for dead code that are not: parameters a framework's signature requires.
standalone_mode  # click's Group.main: clinesync always runs standalone
