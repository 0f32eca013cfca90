"""Writing files that hold plans or exported settings: readable by their owner only, and never through a link.

The text goes to a new 0600 file in the same folder, which then takes the target's name: a symlink planted at
the target is replaced, never followed, so no other file is overwritten, and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import TextIO


def write_private(target: str, text: str, overwrite: bool) -> None:
    """Write `text` to `target` (mode 0600). Without `overwrite`, FileExistsError when anything, a dangling
    link included, already has the name."""
    with private_stream(target, overwrite) as stream:
        stream.write(text)


@contextlib.contextmanager
def private_stream(target: str, overwrite: bool) -> Iterator[TextIO]:
    """A stream to write `target` through, as `write_private` writes it: the file takes the name only when
    the block ends without error, and is removed otherwise."""
    folder = os.path.dirname(os.path.abspath(target))
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".clinesync-", suffix=".tmp")  # 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # fails if the name exists: no check-then-write race
            os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def keep_mode(target: str, text: str) -> None:
    """Replace `target`'s text, as a whole and keeping its mode (an organization file is the team's, not a
    secret): a reader never sees half a file."""
    mode = os.stat(target).st_mode & 0o7777
    with private_stream(target, overwrite=True) as stream:
        stream.write(text)
        os.fchmod(stream.fileno(), mode)


def keep_bytes(target: str, data: bytes) -> None:
    """`target`'s bytes put back exactly (line endings, a byte-order mark), as a whole, its mode kept."""
    mode = os.stat(target).st_mode & 0o7777
    directory = os.path.dirname(target) or os.curdir
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".clinesync-")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
            os.fchmod(stream.fileno(), mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
