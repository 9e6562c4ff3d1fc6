"""Background preparation of the next batches while the current one generates.

Why: decoding audio, resampling and feature extraction are CPU work; done in the predict loop
they leave the GPU idle between batches. Threads suffice (no worker processes to start or feed):
soundfile, numpy's FFTs and torch ops release the GIL for their heavy parts. Results come back in
submission order, so the predictions and the order they are written in do not change."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def prefetched(items: Iterable[T], prepare: Callable[[T], R], *, depth: int = 2, workers: int = 2) -> Iterator[R]:
    """Yield prepare(item) for every item, in order, with up to `depth` items prepared ahead by
    `workers` threads. depth=0 prepares each item inline, when it is asked for."""
    if depth <= 0:
        for item in items:
            yield prepare(item)
        return
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="prefetch")
    pending = deque()
    try:
        for item in source:
            pending.append(pool.submit(prepare, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # an error or an abandoned loop: drop what was not started, wait for what was
        pool.shutdown(wait=True, cancel_futures=True)
