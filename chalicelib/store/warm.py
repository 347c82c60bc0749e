"""Catalogue items remembered for a few seconds per warm process (issue 15).

A basket on-sale reads the company, the event, its chain, the question group and the
client fields on every request; all of them live under the company's partition
``CO#<c>``, which takes about 3,000 read units/s, so at a sale's rate those reads, not
the seats, would cap one company. They change rarely, so each process keeps what it
read for ``SECONDS``.

Why a few seconds of staleness is safe: nothing that guards a seat or a booking is read
from here. Seats are taken and converted by conditional writes on the capacity shards
(``open``, ``available``), which a retired event closes; so a stale event or chain can
at worst let a booker see, for ``SECONDS`` after an edit in another process, the old
price, rules or question group of something still on sale. A write made in this process
forgets its company's entries at once (``forget``), so a process reads its own writes.
A group owner read for a seat booking is kept here too (``bookings.reservable_owner``):
whether the group takes seats is its shards' ``open``, which cancel and complete clear.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar, cast

SECONDS = 5.0
MAX_ENTRIES = 10_000  # a process serving many companies starts over rather than grow without bound

T = TypeVar("T")

_entries: dict[tuple[int, str], tuple[float, object]] = {}
_lock = threading.Lock()


def read(company_id: int, what: str, load: Callable[[], T]) -> T:
    """``load()``'s result, as read at most ``SECONDS`` ago by this process. ``load``'s
    exceptions (not found) pass through and are not remembered."""
    key = (company_id, what)
    now = time.monotonic()
    with _lock:
        cached = _entries.get(key)
    if cached is not None and now - cached[0] < SECONDS:
        return cast(T, cached[1])  # stored by this function under the same key, as a T
    value = load()
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (now, value)
    return value


def forget(company_id: int) -> None:
    """Drop what this process remembers of one company (after it wrote to its catalogue)."""
    with _lock:
        for key in [key for key in _entries if key[0] == company_id]:
            del _entries[key]


def forget_all() -> None:
    with _lock:
        _entries.clear()
