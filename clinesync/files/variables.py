"""`${var:NAME}` references substituted at load time (SPEC §1.1): a variable is not secret, so from here on its
value is checked, planned and shown like text written in the file."""

from __future__ import annotations

from collections.abc import Mapping

from clinesync.fields import set_at, walk
from clinesync.files import envref
from clinesync.files.loader import LoadedFile


def substitute(loaded: LoadedFile, variables: Mapping[str, str]) -> None:
    """Replace the variables in `loaded`'s remoteConfig; an undefined one is a located CS170 error."""
    remote = loaded.data.get("remoteConfig") if isinstance(loaded.data, dict) else None
    if not isinstance(remote, dict) or not loaded.mentions_variables:
        return
    loaded.walked = None  # the loader's nodes hold the text before substitution
    for path, value in list(walk(remote, ("remoteConfig",))):
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
