"""Console I/O for many organizations at once: a bounded pool of threads, results in input order.

Only I/O runs in the pool (reads, writes); parsing, validation and diffing stay on the calling thread, since
CPU work inside many I/O threads runs slower under the GIL. The caller submits reads as it goes, so parsing
the next file overlaps the network wait of the last. A failure is that item's result, whatever its kind, so
one organization's failure never stops the others, and writes that landed are still reported.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from clinesync.consoles.base import ConsoleError

Item = TypeVar("Item")
Result = TypeVar("Result")
Progress = Callable[[int, int], None]  # (done, total)

# SPEC §7's default. Measured (plan of 1,000 organizations, 20 ms from the console, 2 cores, the standard
# library's client): 16 threads 1.6-1.7 s, 24 1.3-1.5 s, 32 1.1-1.4 s, 48 1.3-1.4 s; each thread is one more
# connection to the console.
DEFAULT_PARALLELISM = 16


class Pool:
    """Runs submitted tasks on at most `parallelism` threads while the caller goes on, and hands results back
    in submission order, each one forgotten once handed back: a caller that takes them as it goes holds only
    those still ahead of it. With one thread, or one item expected, tasks run at once inline."""

    def __init__(
        self, parallelism: int = DEFAULT_PARALLELISM, expected: int = 2, progress: Progress | None = None
    ) -> None:
        self._progress = progress
        self._expected = expected
        self._inline = parallelism <= 1 or expected <= 1
        self._queue: deque[Any] = deque()  # results (inline) or futures, in submission order
        self._done = 0
        self._executor: Any = None
        if not self._inline:
            from concurrent.futures import ThreadPoolExecutor  # ~8 ms of start-up one organization skips

            from clinesync.signals import leave_to_main_thread

            self._executor = ThreadPoolExecutor(min(parallelism, expected), initializer=leave_to_main_thread)

    def submit(self, task: Callable[[Item], Result], item: Item) -> None:
        if self._inline:
            self._queue.append(_attempt(task, item))
        else:
            self._queue.append(self._executor.submit(_attempt, task, item))

    @property
    def waiting(self) -> int:
        """Results submitted and not yet handed back."""
        return len(self._queue)

    def ready(self) -> bool:
        """Whether the oldest result not yet handed back is done."""
        return bool(self._queue) and (self._inline or self._queue[0].done())

    def next(self) -> Any:
        """The oldest result not yet handed back, waited for."""
        head = self._queue.popleft()
        result = head if self._inline else head.result()
        self._done += 1
        if self._progress:
            self._progress(self._done, max(self._expected, self._done + len(self._queue)))
        return result

    def results(self) -> Iterator[Any]:
        """Every result not yet handed back, in submission order, as soon as it and those before it are done:
        the caller works on the first while the later ones are still under way."""
        with self.closing():
            while self._queue:
                yield self.next()

    @contextlib.contextmanager
    def closing(self) -> Iterator[None]:
        """Stops the threads when the block ends. Interrupted, tasks not yet started never start and the ones
        in flight are not waited for: a read hung on a silent console must not hold a cancelled run until its
        deadline."""
        interrupted = False
        try:
            yield
            if self._progress and 0 < self._done < self._expected:
                self._progress(self._done, self._done)  # fewer than expected (bases, files in error): done
        except BaseException:
            interrupted = True
            raise
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=not interrupted, cancel_futures=interrupted)


def concurrently(
    task: Callable[[Item], Result],
    items: Sequence[Item],
    parallelism: int = DEFAULT_PARALLELISM,
    progress: Progress | None = None,
) -> list[Result | ConsoleError]:
    pool = Pool(parallelism, len(items), progress)
    for item in items:
        pool.submit(task, item)
    return list(pool.results())


def _attempt(task: Callable[[Item], Result], item: Item) -> Result | ConsoleError:
    try:
        return task(item)
    except ConsoleError as error:
        return error
    except Exception as error:  # a bug, or an answer no rule foresaw: this item's failure, not the run's
        return ConsoleError(f"unexpected {type(error).__name__}: please report it")
