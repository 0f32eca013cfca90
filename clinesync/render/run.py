"""What every command may say about the run itself, on stderr: its error in one line, an interruption, an
internal error, the project configuration it uses, its progress, a cancelled apply."""

from __future__ import annotations

INTERRUPTED = "\nInterrupted. Writes already acknowledged stay; run the command again to converge.\n"
APPLY_CANCELLED = "Apply cancelled. Nothing was written.\n"
ABORTED = "\nAborted.\n"  # after a prompt's line


def error(message: object) -> str:
    return f"Error: {message}\n"


def internal_error(kind: str) -> str:
    return f"Error: internal error ({kind}); run with --verbose for details and please report it\n"


def using_configuration(path: str, console: str | None) -> str:
    named = f" (console: {console})" if console else ""
    return f"Using the project configuration {path}{named}\n"


def progress(label: str, done: int, total: int) -> str:
    return f"\r{label}: {done}/{total}" + ("\n" if done == total else "")


def named_file(path: str) -> str:
    """The file a command prints, named on stderr where stdout is the file itself (`schema`)."""
    return f"# {path}\n"


def fmt_failed(path: str, reason: str) -> str:
    return f"Error: {path}: not formatted: {reason}\n"


def fmt_would_change(path: str) -> str:
    return f"would reformat {path}\n"


def fmt_wrote(path: str) -> str:
    return f"reformatted {path}\n"


def fmt_summary(changed: int, unchanged: int, failed: int, written: bool) -> str:
    verb = "reformatted" if written else "to reformat"
    tail = f", {failed} not formatted" if failed else ""
    return f"{changed} file{'s' if changed != 1 else ''} {verb}, {unchanged} already in style{tail}.\n"
