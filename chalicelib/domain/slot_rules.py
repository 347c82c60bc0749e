"""Booking rules of a service slot (BookingBug's service fields, in seconds). Pure.

A service has no opening hours or staff schedule in this product: any time aligned
to ``booking_time_step`` (minutes after local midnight) inside the advance window is
a slot. A refusal of the slot asked for is a 422 naming the field to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed
from chalicelib.domain.event_rules import check_per_booker

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class SlotRules:
    disabled: bool = False
    max_num_bookings: int = 1  # BookingBug's max_bookings: spaces one booker may hold on one slot
    min_advance_seconds: int = 0
    max_advance_seconds: int = 5_184_000
    min_cancel_seconds: int = 86_400
    time_step: int = 60  # minutes
    price: int = 0  # minor units per space, for the duration asked for
    detail_group_id: int | None = None
    # per-ticket questions are an event chain's ticket_type; a service has none
    questions_per_ticket: bool = False
    email_per_ticket: bool = False

    @property
    def min_cancel(self) -> timedelta:
        return timedelta(seconds=self.min_cancel_seconds)


def check_time(rules: SlotRules, minutes: int) -> None:
    """``minutes`` after local midnight must fall on the service's booking step."""
    if not 0 <= minutes < MINUTES_PER_DAY:
        raise ValidationFailed("time is minutes after local midnight (0 to 1439)", field="time")
    if rules.time_step > 0 and minutes % rules.time_step:
        raise ValidationFailed(
            f"this service is booked every {rules.time_step} minutes from midnight",
            field="time",
            code=ErrorCode.TIME_NOT_ON_STEP,
            extra={"booking_time_step": rules.time_step},
        )


def check_bookable(rules: SlotRules, start: datetime, now: datetime, quantity: int, already: int = 0) -> None:
    """Raise unless ``quantity`` more spaces on the slot starting at ``start`` may be booked now."""
    if quantity < 1:
        raise ValidationFailed("book at least one space", field="num_book", code=ErrorCode.INVALID_QUANTITY)
    if rules.disabled:
        raise Conflict("this service is not open for booking", field="service_id", code=ErrorCode.SERVICE_DISABLED)
    if start - now < timedelta(seconds=rules.min_advance_seconds) or start <= now:
        raise ValidationFailed(
            f"this service is booked at least {rules.min_advance_seconds} seconds ahead",
            field="time",
            code=ErrorCode.BOOKING_CLOSED,
        )
    if start - now > timedelta(seconds=rules.max_advance_seconds):
        raise ValidationFailed(
            f"this service is booked at most {rules.max_advance_seconds} seconds ahead",
            field="date",
            code=ErrorCode.BOOKING_NOT_OPEN,
        )
    check_per_booker(rules.max_num_bookings, quantity, already)


def check_cancellable(rules: SlotRules, start: datetime, now: datetime) -> None:
    """Raise unless a booker may still cancel (an admin's cancel skips this)."""
    if start <= now:
        raise Conflict("this slot has already started", field="service_id", code=ErrorCode.SLOT_STARTED)
    if start - now < rules.min_cancel:
        raise Conflict(
            f"bookings can be cancelled until {rules.min_cancel_seconds} seconds before the start",
            field="service_id",
            code=ErrorCode.CANCELLATION_CLOSED,
        )
