"""Writing files that hold plans or exported settings: readable by their owner only, and never through a link.

The text goes to a new 0600 file in the same folder, which then takes the target's name: a symlink planted at
the target is replaced, never followed, so no other file is overwritten, and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
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
    the block ends without error, and is removed otherwise. Where the system has files without a name
    (Linux), it has none until then: a run killed while writing (SIGKILL) leaves nothing behind."""
    folder = os.path.dirname(target) or os.curdir  # as the system resolves the target (`link/..` included)
    unnamed = _unnamed(folder)
    if unnamed is None:
        with _named_stream(folder, target, overwrite) as stream:
            yield stream
        return
    with os.fdopen(unnamed, "w+", encoding="utf-8", newline="") as stream:  # read back byte for byte
        yield stream
        stream.flush()
        os.fsync(stream.fileno())
        try:
            _name(stream.fileno(), target, overwrite, folder)
            return
        except OSError as error:
            if error.errno not in _CANNOT_LINK:  # the target's own failure (a name taken, a folder there)
                raise
            # A system that will not link it (a restricted /proc, a folder it cannot open): written again,
            # through a named temporary.
            mode = os.fstat(stream.fileno()).st_mode & 0o7777
            stream.seek(0)
            text = stream.read()
    with _named_stream(folder, target, overwrite) as again:
        again.write(text)
        os.fchmod(again.fileno(), mode)


@contextlib.contextmanager
def _named_stream(folder: str, target: str, overwrite: bool) -> Iterator[TextIO]:
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


_CANNOT_LINK = {errno.EXDEV, errno.EPERM, errno.EACCES, errno.ENOENT, errno.EOPNOTSUPP, errno.EINVAL}


def _unnamed(folder: str) -> int | None:
    """A new 0600 file in `folder` without a name (O_TMPFILE), or None where the system or the file system
    has none (mkstemp then says why a folder cannot be written)."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_RDWR, 0o600)
    except OSError:
        return None


def _name(descriptor: int, target: str, overwrite: bool, folder: str) -> None:
    """The unnamed file takes `target`'s name; to replace a file, through a name of its own for an instant.
    Linked through the folder's descriptor: only `linkat` follows /proc's link to the file itself."""
    unnamed = f"/proc/self/fd/{descriptor}"
    at = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not overwrite:
            os.link(unnamed, os.path.basename(target), dst_dir_fd=at)  # fails if the name exists
            return
        temporary = f".clinesync-{secrets.token_hex(8)}.tmp"
        os.link(unnamed, temporary, dst_dir_fd=at)
        try:
            os.replace(temporary, os.path.basename(target), src_dir_fd=at, dst_dir_fd=at)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=at)
            raise
    finally:
        os.close(at)


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
