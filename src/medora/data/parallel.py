"""Work on a large input in several forked processes, results in order.

A forked worker sees everything the parent had when it forked (the molecules, a loaded model,
the patients read so far) without any of it being sent; only each item's index goes out and
only its result comes back, pickled. Reading molecules and predicting them
(:mod:`medora.data.molecules`), and reading FHIR sources (:mod:`medora.data.ingest`), use it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from threadpoolctl import threadpool_limits

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
#: The parent's task and its items, inherited by a fork.
_work: tuple[Callable[[object], object], Sequence[object]] | None = None
_pool_lock = threading.Lock()
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def usable_processes() -> int:
    """How many processes may share a piece of work: one off the main thread (a server's
    request threads), in a daemon process or where processes cannot be forked; else
    ``MEDORA_WORKERS`` if set, or one per CPU this process may run on."""
    if (threading.current_thread() is not threading.main_thread()
            or multiprocessing.current_process().daemon
            or "fork" not in multiprocessing.get_all_start_methods()):
        return 1
    if os.environ.get("MEDORA_WORKERS", "").strip():
        return max(1, int(os.environ["MEDORA_WORKERS"]))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _start_worker() -> None:
    """In a worker: the parallelism is the processes, so torch (if loaded) and the BLAS behind
    numpy use one thread each, which also keeps torch's thread pool, unusable after a fork,
    out of the way. And freed memory stays with the worker (glibc's malloc): a worker
    allocates and frees the same few megabyte-sized arrays over and over, and by default each
    one is mapped afresh from the system, page faults and all, which costs a third as much
    again as the arithmetic."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    threadpool_limits(1)
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):  # not glibc: leave the allocator as it is
        pass


def _run_item(index: int) -> object:
    assert _work is not None, "a worker process runs only the task it was forked for"
    work, items = _work
    return work(items[index])


def ordered_map(work: Callable[[_Item], _Result], items: Sequence[_Item],
                processes: int) -> Iterator[_Result]:
    """``work(item)`` of every item, yielded in order; with ``processes`` of 2 or more, in
    that many forked workers, each using one thread.

    At most twice as many items as workers are under way or waiting to be taken, so a slow
    consumer (one writing results to disk) holds a bounded number of results. ``work`` must
    give the same result in any process, and its results must pickle (convert RDKit
    molecules to bytes). The workers are forked when the first result is asked for.
    """
    global _work
    if processes < 2 or len(items) < 2:
        yield from (work(item) for item in items)
        return
    with _pool_lock:
        _work = (work, items)  # type: ignore[assignment]
        try:
            # A fork pool forks all its workers at the first submit, _work set.
            with ProcessPoolExecutor(min(processes, len(items)),
                                     mp_context=multiprocessing.get_context("fork"),
                                     initializer=_start_worker) as pool:
                pending: deque[Future[object]] = deque()
                try:
                    for index in range(len(items)):
                        pending.append(pool.submit(_run_item, index))
                        if len(pending) >= 2 * processes:
                            yield pending.popleft().result()  # type: ignore[misc]
                    while pending:
                        yield pending.popleft().result()  # type: ignore[misc]
                finally:
                    for future in pending:  # the consumer stopped early: start no more
                        future.cancel()
        finally:
            _work = None
