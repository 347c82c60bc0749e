"""Booking rules of an event chain (seed 001's session parameters). Pure.

The basket enforces them on add_item, checkout and a booker's cancel; an admin's
cancel ignores ``min_cancel``. Windows are measured from ``now`` to the event's start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed

TICKET_TYPES = {
    0: "no per-ticket information",
    1: "questions per attendee",
    2: "per attendee, member email per ticket",
    3: "per attendee, reassignable",
}


@dataclass(frozen=True)
class BookingRules:
    disabled: bool = False
    max_num_bookings: int = 1  # spaces one booker may hold on one event
    min_advance_minutes: int = 0  # booking closes this long before the start
    max_advance_days: int | None = None  # booking opens this many days before the start
    min_cancel_days: int = 1  # a booker may cancel until this many days before the start
    ticket_type: int = 0
    course: bool = False  # booked together: a space on every event of the chain
    price: int = 0  # minor units, per space
    detail_group_id: int | None = None  # the question group asked at checkout

    @property
    def questions_per_ticket(self) -> bool:
        return self.ticket_type in (1, 2, 3)

    @property
    def email_per_ticket(self) -> bool:
        return self.ticket_type in (2, 3)

    @property
    def min_cancel(self) -> timedelta:
        return timedelta(days=self.min_cancel_days)


def check_bookable(
    rules: BookingRules, event_start: datetime, now: datetime, quantity: int, already_booked_by_this_booker: int = 0
) -> None:
    """Raise unless ``quantity`` more spaces on an event starting at ``event_start`` may be booked now.

    ``already_booked_by_this_booker`` counts the spaces this booker already holds or
    booked on the same event (their basket and earlier purchases).
    """
    if quantity < 1:
        raise ValidationFailed("book at least one space", field="num_book", code=ErrorCode.INVALID_QUANTITY)
    if rules.disabled:
        raise Conflict("this event is not open for booking", field="event_id", code=ErrorCode.EVENT_DISABLED)
    if event_start <= now:
        raise Conflict("this event has already started", field="event_id", code=ErrorCode.EVENT_STARTED)
    if event_start - now < timedelta(minutes=rules.min_advance_minutes):
        raise Conflict(
            f"booking closes {rules.min_advance_minutes} minutes before the start",
            field="event_id",
            code=ErrorCode.BOOKING_CLOSED,
        )
    if rules.max_advance_days is not None and event_start - now > timedelta(days=rules.max_advance_days):
        raise Conflict(
            f"booking opens {rules.max_advance_days} days before the start",
            field="event_id",
            code=ErrorCode.BOOKING_NOT_OPEN,
        )
    check_per_booker(rules.max_num_bookings, quantity, already_booked_by_this_booker)


def check_per_booker(max_num_bookings: int, quantity: int, already: int) -> None:
    """A booker holds at most ``max_num_bookings`` spaces on one bookable (events and service slots)."""
    if quantity + already > max_num_bookings:
        raise ValidationFailed(
            f"at most {max_num_bookings} spaces per booker" + (f"; {already} already taken" if already else ""),
            field="num_book",
            code=ErrorCode.MAX_NUM_BOOKINGS_EXCEEDED,
            extra={"max_num_bookings": max_num_bookings},
        )


def check_cancellable(rules: BookingRules, event_start: datetime, now: datetime) -> None:
    """Raise unless a booker may still cancel (an admin's cancel skips this)."""
    if event_start <= now:
        raise Conflict("this event has already started", field="event_id", code=ErrorCode.EVENT_STARTED)
    if event_start - now < timedelta(days=rules.min_cancel_days):
        raise Conflict(
            f"bookings can be cancelled until {rules.min_cancel_days} days before the start",
            field="event_id",
            code=ErrorCode.CANCELLATION_CLOSED,
        )


def allows_booking(rules: BookingRules, event_start: datetime, now: datetime) -> bool:
    """Whether one space could be booked now by someone who has none (for ``bookable``)."""
    try:
        check_bookable(rules, event_start, now, 1)
    except (Conflict, ValidationFailed):
        return False
    return True
