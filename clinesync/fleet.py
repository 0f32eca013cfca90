"""Console I/O for many organizations at once: a bounded pool of threads, results in input order.

Only I/O runs in the pool (reads, writes); parsing, validation and diffing stay on the calling thread, since
CPU work inside many I/O threads runs slower under the GIL. A ConsoleError is that item's result, so one
organization's failure never stops the others; anything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

from clinesync.consoles.base import ConsoleError

Item = TypeVar("Item")
Result = TypeVar("Result")
Progress = Callable[[int, int], None]  # (done, total)

DEFAULT_PARALLELISM = 16


def concurrently(
    task: Callable[[Item], Result],
    items: Sequence[Item],
    parallelism: int = DEFAULT_PARALLELISM,
    progress: Progress | None = None,
) -> list[Result | ConsoleError]:
    results: list[Result | ConsoleError] = [ConsoleError("not run")] * len(items)
    if not items:
        return results
    if parallelism <= 1 or len(items) == 1:
        for index, item in enumerate(items):
            results[index] = _attempt(task, item)
            if progress:
                progress(index + 1, len(items))
        return results
    with ThreadPoolExecutor(max_workers=min(parallelism, len(items))) as pool:
        futures = {pool.submit(_attempt, task, item): index for index, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(items))
    return results


def _attempt(task: Callable[[Item], Result], item: Item) -> Result | ConsoleError:
    try:
        return task(item)
    except ConsoleError as error:
        return error
