"""Checking many files: in this process for a few, in worker processes for a fleet (both cores busy, where
threads would share one), always handed on in path order, one file at a time, so a caller reads live state for
one organization while the next is checked.

What only the whole run can tell is decided here: an organization declared twice (CS104, the first file wins),
which files are bases (a file that another extends is not an organization), and `--org`.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from clinesync.files.loader import LoadedFile
from clinesync.files.problems import Problem
from clinesync.files.project import Project
from clinesync.files.validate import CheckedFile, check_file
from clinesync.signals import held, leave_to_parent

if TYPE_CHECKING:
    from concurrent.futures import Future

# From how many files a run checks them in worker processes: below it, starting them costs more than it saves.
POOL_FROM = 500
_CHUNK = 32
_FIRST_CHUNK = 4  # the first files, the first one alone: a plan's first read waits for it (32 take ~20 ms)
_HEAD_START = 3  # chunks checked here while spawned workers start
_WINDOW = 32  # chunks shared out at a time: the results waiting for this process are at most a window's


def iter_checked(
    paths: list[str],
    project: Project | None = None,
    environ: Mapping[str, str] | None = None,
    share: bool = True,
) -> Iterator[CheckedFile]:
    """Each organization file checked, in path order; with `environ`, each one without errors resolved too
    (`checked.desired`). Bases are skipped (one without organization waits until every file has been read);
    with `--org`, so is every organization not selected. With `share`, this process checks the files no
    worker has started on; without, it leaves them all to the workers (its caller has work of its own)."""
    project = project or Project()
    first: dict[str, str] = {}
    maybe_bases: list[CheckedFile] = []
    bases: set[str] = set()
    for checked, loaded_bases in _checked(paths, project, environ, share):
        bases |= loaded_bases
        if checked.may_be_a_base:
            maybe_bases.append(checked)
            continue
        if not project.selects(checked.organization):
            continue
        organization = checked.organization
        if organization is not None and organization in first:
            mark = checked.organization_mark
            message = f"organization {organization} is also declared in {first[organization]}: one file per organization"
            checked = checked.adding(
                Problem.of("CS104", mark.file or checked.path, mark.line, mark.column, message)
            )
        elif organization is not None:
            first[organization] = checked.path
        yield checked
    if project.organizations is None:
        yield from (checked for checked in maybe_bases if os.path.realpath(checked.path) not in bases)


def check_files(paths: list[str], project: Project | None = None) -> list[CheckedFile]:
    return list(iter_checked(paths, project))


def _checked(
    paths: list[str], project: Project, environ: Mapping[str, str] | None, share: bool
) -> Iterator[tuple[CheckedFile, set[str]]]:
    bases: Bases = {}  # this run's parsed bases, in this process
    done = 0
    if len(paths) >= POOL_FROM and _workers(share) >= 1 and _workers_can_start():
        from concurrent.futures.process import BrokenProcessPool

        try:
            for checked in _in_workers(paths, project, environ, share, bases):
                yield checked
                done += 1
        except BrokenProcessPool:
            pass  # a worker could not start or died: the files not yet checked are checked here
    for path in paths[done:]:
        if os.path.realpath(path) not in bases:  # read as a base already: not an organization
            yield check_one(path, project, environ, bases).slim(), set(bases)


def _workers(share: bool) -> int:
    """Sharing, this process keeps a core busy with its share. Otherwise one worker for each core (of two or
    more): this process's own work comes and goes with what the files hold (a fleet in sync leaves it idle
    two thirds of the time), and the system gives the core to whichever of them has work."""
    cores = min(os.cpu_count() or 1, 8)
    return cores - 1 if share or cores == 1 else cores


def _in_workers(
    paths: list[str], project: Project, environ: Mapping[str, str] | None, share: bool, bases: Bases
) -> Iterator[tuple[CheckedFile, set[str]]]:
    """The files checked by worker processes and this one, in path order, a window of them at a time: only a
    window's results wait for this process, never the fleet's.

    Sharing, this process checks a window's chunks from the front while the workers take them from the end, a
    few at a time, until the two meet; otherwise the workers take every chunk, a few ahead of this process,
    but the first file, or the first chunks while spawned workers start, which this process checks itself."""
    import functools
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Each worker keeps a cache of parsed bases of its own (_WORKER_BASES).
    task = functools.partial(check_chunk, project=project, environ=_plain(environ))
    workers = _workers(share)
    method = _start_method()
    # Forked, the first file is a chunk of its own (checked here, below); spawned, the first chunks are.
    chunks = [paths[:1], paths[1:_FIRST_CHUNK]] if method == "fork" else [paths[:_FIRST_CHUNK]]
    chunks += [paths[start : start + _CHUNK] for start in range(_FIRST_CHUNK, len(paths), _CHUNK)]
    context = multiprocessing.get_context(method)
    # A signal waits while the pool is made and its first submission starts the workers: one landing inside
    # the fork, or inside the pool's queues' finalizers as they are made, was lost or left half-made objects.
    with held():
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_end_with, initargs=(os.getpid(),)
        )

    def hand_out(chunk: list[str]) -> Future[tuple[list[CheckedFile], set[str]]]:
        with held():
            return pool.submit(task, chunk)

    def here(chunk: list[str]) -> Iterator[tuple[CheckedFile, set[str]]]:
        for path in chunk:
            yield check_one(path, project, environ, bases).slim(), set(bases)

    def there(future: Future[tuple[list[CheckedFile], set[str]]]) -> Iterator[tuple[CheckedFile, set[str]]]:
        checked_files, read = future.result()
        for checked in checked_files:
            yield checked, read | set(bases)

    try:
        if not share:
            ahead = 4 * workers  # chunks given out beyond this process's place: enough to keep them busy
            # Forked workers start in milliseconds: checking more here would only take this process's time,
            # and the interpreter lock its reads over HTTP wait on (a plan of 1,000 over HTTP: 0.91x the
            # wall). The first file alone is checked here while they fork, its read sent 10 ms sooner.
            head = 1 if method == "fork" else min(_HEAD_START, len(chunks))
            given = deque(hand_out(chunk) for chunk in chunks[head : head + ahead])
            for chunk in chunks[:head]:
                yield from here(chunk)
            for index in range(head + ahead, len(chunks) + ahead):
                future = given.popleft()
                if index < len(chunks):
                    given.append(hand_out(chunks[index]))
                yield from there(future)
            return
        # Chunks [mine[w], end of window w) are the workers'; this process checks window w's others. Once this
        # process has met the workers in its window, they go on with the next window from its end, so they
        # are not idle while it takes in what they checked.
        mine = [min(start + _WINDOW, len(chunks)) for start in range(0, len(chunks), _WINDOW)]
        taken: dict[int, Future[tuple[list[CheckedFile], set[str]]]] = {}
        for index, chunk in enumerate(chunks):
            window = index // _WINDOW
            while sum(not future.done() for future in taken.values()) < 2 * workers:
                giving = next(
                    (w for w in (window, window + 1) if w < len(mine) and mine[w] > max(index, w * _WINDOW)),
                    None,
                )
                if giving is None:
                    break
                mine[giving] -= 1
                taken[mine[giving]] = hand_out(chunks[mine[giving]])
            yield from here(chunk) if index < mine[window] else there(taken.pop(index))
    finally:
        # A run that ends early (an error, a signal) waits for the chunks in hand only, never the queue.
        pool.shutdown(wait=True, cancel_futures=True)


def _end_with(parent: int) -> None:
    """A worker ends when the run that started it does, however that ends (SIGKILL included): it holds the
    run's environment, secrets too, and must not outlive it blocked on a queue no one reads."""
    import threading
    import time

    leave_to_parent()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="clinesync-parent-watch", daemon=True).start()


def _start_method() -> str:
    """Forked on Linux while this process runs no other thread: a fork starts in milliseconds with every
    module loaded, where a spawned worker imports clinesync again (0.3-0.4 s, as long as checking 300
    files). Spawned otherwise: a fork copies only the thread that calls it, so a lock another thread held
    would stay held in the worker; and macOS's system libraries are not safe to fork."""
    import threading

    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"


def _workers_can_start() -> bool:
    """Spawned workers import the caller's main module again: only when it can be (the clinesync command,
    `python -m clinesync`, a script), not when it came from standard input."""
    main = sys.modules.get("__main__")
    if getattr(main, "__spec__", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


Bases = dict[str, LoadedFile]  # a run's parsed bases by real path (and merged lists of them: bases.py)

# A worker's bases, kept from one share to the next: a worker process serves one run, with one project.
_WORKER_BASES: Bases = {}


def check_chunk(
    paths: list[str], project: Project, environ: dict[str, str] | None
) -> tuple[list[CheckedFile], set[str]]:
    """A worker's share: each file checked (and resolved), and the bases it read."""
    checked = [check_one(path, project, environ, _WORKER_BASES).slim() for path in paths]
    return checked, set(_WORKER_BASES)


def check_one(
    path: str, project: Project, environ: Mapping[str, str] | None, bases: Bases | None = None
) -> CheckedFile:
    """One file checked (and resolved). A bug met on one file is that file's error, located at its first
    line, never the run's: every other file is still checked and reported."""
    try:
        checked = check_file(path, project, bases)
        if environ is not None and not checked.has_errors and not checked.may_be_a_base:
            from clinesync.files.desired import resolve  # only commands that resolve pay for importing it

            checked = resolve(checked, environ, project.unmanaged, project.public_headers)
    except Exception as bug:  # a bug: this file's error, reported with every other file's
        message = (
            f"clinesync could not check this file: internal error ({type(bug).__name__}); please report it"
        )
        return CheckedFile(path, [Problem.of("CS103", path, 1, 1, message)])
    return checked


def _plain(environ: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if environ is None else dict(environ)
