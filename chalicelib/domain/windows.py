"""Booking and cancellation windows, per actor: the one rule every face uses. Pure.

Each product states its windows in its own units (Timekit's group settings in words,
BookingBug's service periods in seconds, an event chain's minutes and days); they
all become a :class:`Windows`, measured from ``now`` to the start. Customers (a
booker, the public key, a signed customer link) are bound by them; the owner and
admins are not. A refusal says the window in words, never in raw seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.durations import parse_duration
from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed

_WEEK = 604_800
_UNITS = (("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1))
_HOURS_UP_TO = 48 * 3600  # "24 hours", "36 hours": a customer reads a short notice in hours


class Actor(StrEnum):
    CUSTOMER = "customer"  # a booker, the public key, a signed customer link: bound by the windows
    STAFF = "staff"  # the owner, an admin, the secret key: not bound


@dataclass(frozen=True)
class Windows:
    min_advance: timedelta = timedelta(0)  # booking closes this long before the start
    max_advance: timedelta | None = None  # booking opens this long before the start
    min_cancel: timedelta = timedelta(0)  # cancelling closes this long before the start


def group_windows(settings: Mapping[str, Any]) -> Windows:
    """A Timekit group owner's settings (``min_cancel_time: "1 day"`` and so on) as windows."""

    def span(name: str) -> timedelta | None:
        raw = settings.get(name)
        return parse_duration(raw, f"settings.{name}", allow_zero=True) if raw else None

    return Windows(
        min_advance=span("min_booking_time") or timedelta(0),
        max_advance=span("max_booking_time"),
        min_cancel=span("min_cancel_time") or timedelta(0),
    )


def in_words(span: timedelta) -> str:
    """ "24 hours", "3 days", "1 week", "1 day and 30 minutes": what a customer reads."""
    seconds = int(span.total_seconds())
    if seconds <= 0:
        return "0 minutes"
    if seconds <= _HOURS_UP_TO and seconds % 3600 == 0:
        return _term(seconds // 3600, "hour")
    if seconds % _WEEK == 0:
        return _term(seconds // _WEEK, "week")
    parts: list[str] = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(_term(count, unit))
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _before_start(span: timedelta) -> str:
    return f"{in_words(span)} before the start" if span > timedelta(0) else "the start"


def _term(count: int, unit: str) -> str:
    return f"{count} {unit}" + ("" if count == 1 else "s")


def check_future(start: datetime, now: datetime, *, field: str) -> None:
    """Nobody books or moves a booking into the past (422: the time asked for is wrong)."""
    if start <= now:
        raise ValidationFailed(
            "the start is in the past; choose a time from now on", field=field, code=ErrorCode.IN_THE_PAST
        )


def check_booking(
    windows: Windows,
    start: datetime,
    now: datetime,
    actor: Actor,
    *,
    subject: str,
    field: str,
    opens_field: str | None = None,
) -> None:
    """Raise unless ``actor`` may book ``subject`` ("this event") starting at ``start`` now.

    ``field`` names the input to change when booking has closed, ``opens_field`` (default
    ``field``) when it has not opened yet. The caller refuses a start in the past first.
    """
    if actor is Actor.STAFF:
        return
    lead = start - now
    if lead < windows.min_advance:
        raise Conflict(
            f"{subject} can be booked until {_before_start(windows.min_advance)}",
            field=field,
            code=ErrorCode.BOOKING_CLOSED,
        )
    if windows.max_advance is not None and lead > windows.max_advance:
        raise Conflict(
            f"{subject} can be booked from {in_words(windows.max_advance)} before the start",
            field=opens_field or field,
            code=ErrorCode.BOOKING_NOT_OPEN,
        )


def check_cancel(
    windows: Windows, start: datetime, now: datetime, actor: Actor, *, subject: str, field: str | None
) -> None:
    """Raise unless ``actor`` may still cancel (or move) ``subject`` starting at ``start``."""
    if actor is Actor.STAFF:
        return
    if start - now < windows.min_cancel:
        raise Conflict(
            f"{subject} can be cancelled until {_before_start(windows.min_cancel)}",
            field=field,
            code=ErrorCode.CANCELLATION_CLOSED,
        )
