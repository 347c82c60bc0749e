"""Running jobs at once: the barrier every race test starts its clients behind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain.errors import BookingError


def hammer(threads: int, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run ``jobs`` on ``threads`` threads released together; refusals come back as their errors."""
    gate = threading.Barrier(threads)

    def worker(chunk: list[Callable[[], Any]]) -> list[Any]:
        gate.wait()
        out = []
        for job in chunk:
            try:
                out.append(job())
            except BookingError as error:
                out.append(error)
        return out

    chunks = [jobs[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [result for chunk in pool.map(worker, chunks) for result in chunk]
