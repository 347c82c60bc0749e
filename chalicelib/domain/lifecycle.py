"""The lifecycles of holds, baskets and purchases, and when a hold is still live.

Bookings follow their graphs (``domain/graphs.py``); the smaller objects have fixed
lifecycles, named here so that every check and every write uses the same words.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class HoldStatus(StrEnum):
    """A hold is active until it ends exactly once: converted, released or expired."""

    ACTIVE = "active"
    CONVERTED = "converted"  # its seats became a booking's
    RELEASED = "released"  # given back on request
    EXPIRED = "expired"  # lapsed; its seats were reclaimed


class BasketStatus(StrEnum):
    OPEN = "open"
    CHECKED_OUT = "checked_out"


class PurchaseStatus(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HoldLike(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def expires_at(self) -> float: ...


def effective_status(hold: HoldLike, now: float) -> HoldStatus:
    """A hold's status as every read must see it: an active hold past its expiry is
    expired even before the sweeper (or a taker that needs its seats) records it."""
    status = HoldStatus(hold.status)
    if status is HoldStatus.ACTIVE and hold.expires_at <= now:
        return HoldStatus.EXPIRED
    return status


def is_live(hold: HoldLike, now: float) -> bool:
    return effective_status(hold, now) is HoldStatus.ACTIVE
