"""The sweeper: applies what has fallen due, read from the sparse expiry index.

Reads are proportional to what is due (a Query per expiry partition, ``xsk <= now``),
never to the table. Every item is handled with compare-and-set, so two sweeps at once,
or Lambda delivering one invocation twice, release each seat exactly once. A run stops
when its time budget is spent and leaves the rest to the next run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from chalicelib.domain import clock
from chalicelib.services.selling import bookings, holds
from chalicelib.store import db, keys
from chalicelib.store.models import Booking, Hold, Item

PAGE = 100


@dataclass
class SweepReport:
    seen: int = 0
    applied: int = 0
    skipped: int = 0  # already handled by someone else, or not due after all
    stopped_early: bool = False
    by_kind: dict[str, int] = field(default_factory=dict)


def sweep(now: float | None = None, budget_seconds: float = 45.0) -> SweepReport:
    """One pass over everything due by ``now``; stops after ``budget_seconds``."""
    db.ensure_bound()
    moment = clock.now() if now is None else now
    deadline = time.monotonic() + budget_seconds
    due_by = f"{db.iso_epoch(moment)}#~"  # '~' sorts after every pk that follows the '#'
    report = SweepReport()
    for partition in range(keys.EXPIRY_SHARDS):
        for item in Item.expiry.query(f"DUE#{partition}", Item.xsk <= due_by, page_size=PAGE):
            if time.monotonic() > deadline:
                report.stopped_early = True
                return report
            report.seen += 1
            done = _apply(item, moment)
            report.applied += done
            report.skipped += not done
            if done:
                name = type(item).__name__
                report.by_kind[name] = report.by_kind.get(name, 0) + 1
    return report


def _apply(item: Item, now: float) -> bool:
    if isinstance(item, Hold):
        return holds.expire(item, now)
    if isinstance(item, Booking):
        return bookings.run_timer(item) is not None
    return False
