"""The one clock: every read of the current time goes through :func:`now` or :func:`utcnow`.

Production reads the system time. Tests move time through the seam,
:func:`set_clock` (or :func:`travel`), instead of patching ``time.time`` for the
whole process or sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], float] = time.time


def now() -> float:
    """Seconds since the epoch."""
    return _source()


def utcnow() -> datetime:
    return datetime.fromtimestamp(now(), UTC)


def set_clock(source: Callable[[], float] | None) -> None:
    """The seam: ``source`` answers :func:`now` from here on; None is the system time again."""
    global _source
    _source = source or time.time


@contextmanager
def travel(seconds: float) -> Iterator[None]:
    """Inside the block the clock runs ``seconds`` ahead of the system time (behind if negative)."""
    before = _source
    set_clock(lambda: before() + seconds)
    try:
        yield
    finally:
        set_clock(before)
