"""What `export` and `init` say as they write a repository's files: what was written or kept, what was left
out, and the secrets the files read, in the form the workflow's `&console` list takes."""

from __future__ import annotations

from clinesync.escape import visible

GITHUB_SECRETS = 100  # GitHub holds at most this many secrets for a repository, and for an environment


def left_out(field: str) -> str:
    return (
        f"Warning: live field {visible(field)} is not known to this version of clinesync: left out "
        "(apply keeps it)\n"
    )


def without_configuration(organization: str) -> str:
    return f"Note: {organization} has no configuration yet: no file written\n"


def wrote(path: str) -> str:
    return f"Wrote {path}.\n"


def wrote_fleet(count: int, folder: str, base: str | None, console: str) -> str:
    shared = f" (one shared base, {base})" if base else ""
    return f"Wrote {count} file{'' if count == 1 else 's'} into {folder}{shared}, from {visible(console)}.\n"


def found_in_export(count: int) -> str:
    return (
        f"validate finds {count} problem(s) in the exported files, above: the pull-request workflow's "
        "`validate --strict` fails on warnings as on errors. Fix each in the console and export again; a "
        "warning whose rule allows it can instead be kept with its reason in the file "
        "(`# clinesync: ignore[RULE] why`).\n"
    )


def secret_list_written(count: int, path: str) -> str:
    return f"Wrote the secret list ({count} names) to {path}.\n"


def variables_to_set(variables: list[str], lines: list[str]) -> str:
    listed = "".join(f"  {line}\n" for line in lines)
    return (
        f"Set these environment variables before plan or apply: {', '.join(variables)}. In the GitHub "
        f"workflow, under `env: &console`:\n{listed}"
    )


def unread(path: str, why: str) -> str:
    """init met a file it cannot read (a link that leads nowhere): its secrets are not in the list."""
    return f"{visible(path)}: cannot read the file: {visible(why)}: its secrets are not listed\n"


def kept(path: str, ours: bool) -> str:
    """A file init found there; `ours`: the team's configuration, which even --force keeps."""
    why = "init never writes it again" if ours else "--force overwrites it"
    return f"Kept {path}: it exists ({why}).\n"


def ignoring(path: str, lines: list[str]) -> str:
    return f"Added to {path}: {', '.join(lines)}.\n"


def next_steps(secrets: list[str], unusable: list[str], placeholder: str | None) -> str:
    """What `init` leaves to the team: the secrets to add, names to change, the pin to fill in."""
    names = ", ".join(["CLINE_API_KEY", *secrets])
    lines = [
        f"Next: add these secrets to the clinesync-read and clinesync-apply environments (and, for rollout: "
        f"waves, clinesync-rollout): {names}.\n"
    ]
    lines += [
        f"Next: rename ${{env:{name}}} in your files: GitHub refuses secrets named GITHUB_*.\n"
        for name in unusable
    ]
    if 1 + len(secrets) > GITHUB_SECRETS:
        lines.append(
            f"Warning: {1 + len(secrets)} secrets, and GitHub holds at most {GITHUB_SECRETS} for an environment "
            "or a repository: list headers that are not secret (a tenant id) under publicHeaders in "
            "clinesync.yaml and export again, or give organizations that share a credential one ${env:NAME}; "
            "then run init --force to write the list again.\n"
        )
    if placeholder:
        lines.append(f"Next: replace {placeholder} with the clinesync commit you reviewed (or pass --pin).\n")
    return "".join(lines)
