"""`${var:NAME}` references substituted at load time (SPEC §1.1): a variable is not secret, so from here on its
value is checked, planned and shown like text written in the file."""

from __future__ import annotations

from collections.abc import Mapping

from clinesync.fields import plain_copy, set_at, walk
from clinesync.files import envref
from clinesync.files.loader import LoadedFile
from clinesync.records import evolve


def substitute(loaded: LoadedFile, variables: Mapping[str, str]) -> LoadedFile:
    """`loaded` with the variables in its remoteConfig replaced; an undefined one is a located CS170 error."""
    remote = loaded.data.get("remoteConfig") if isinstance(loaded.data, dict) else None
    if not isinstance(remote, dict) or not loaded.mentions_variables:
        return loaded
    # A new record on a copy: the loader's data and nodes hold the text before substitution.
    loaded = evolve(loaded, data=plain_copy(loaded.data), problems=list(loaded.problems), walked=None)
    for path, value in list(walk(loaded.data["remoteConfig"], ("remoteConfig",))):
        if not isinstance(value, str) or "${var:" not in value:
            continue
        try:
            set_at(loaded.data, path, envref.substitute_variables(value, variables))
        except envref.MalformedReference:
            continue  # check_references locates it
        except envref.UnsetVariable as unset:
            loaded.problems.append(
                loaded.problem(
                    "CS170",
                    loaded.value_mark(path),
                    f"variable {unset.name} is not defined: give it a value under variables: in "
                    f"clinesync.yaml, or pass --var {unset.name}=VALUE",
                )
            )
    return loaded
