"""Booking rules of an event chain: each refusal with its status and code, and the edges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import BookingError
from chalicelib.domain.event_rules import BookingRules, allows_booking, check_bookable, check_cancellable

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


def _refusal(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(BookingError) as caught:
        call()
    return caught.value.status, caught.value.code


def test_a_plain_event_next_week_is_bookable() -> None:
    check_bookable(BookingRules(), NOW + timedelta(days=7), NOW, 1)
    assert allows_booking(BookingRules(), NOW + timedelta(days=7), NOW)


@pytest.mark.parametrize(
    ("rules", "start", "quantity", "already", "expected"),
    [
        (BookingRules(disabled=True), NOW + timedelta(days=1), 1, 0, (409, "event_disabled")),
        (BookingRules(), NOW, 1, 0, (409, "event_started")),
        (BookingRules(), NOW - timedelta(minutes=1), 1, 0, (409, "event_started")),
        (BookingRules(min_advance_minutes=60), NOW + timedelta(minutes=59), 1, 0, (409, "booking_closed")),
        (BookingRules(max_advance_days=60), NOW + timedelta(days=60, seconds=1), 1, 0, (409, "booking_not_open")),
        (BookingRules(max_num_bookings=2), NOW + timedelta(days=1), 3, 0, (422, "max_num_bookings_exceeded")),
        (BookingRules(max_num_bookings=2), NOW + timedelta(days=1), 1, 2, (422, "max_num_bookings_exceeded")),
        (BookingRules(), NOW + timedelta(days=1), 0, 0, (422, "invalid_quantity")),
    ],
)
def test_refusals(rules: BookingRules, start: datetime, quantity: int, already: int, expected: tuple[int, str]) -> None:
    assert _refusal(lambda: check_bookable(rules, start, NOW, quantity, already)) == expected


def test_windows_are_inclusive_at_their_edges() -> None:
    check_bookable(BookingRules(min_advance_minutes=60), NOW + timedelta(minutes=60), NOW, 1)
    check_bookable(BookingRules(max_advance_days=60), NOW + timedelta(days=60), NOW, 1)
    check_bookable(BookingRules(max_num_bookings=3), NOW + timedelta(days=1), NOW, 2, 1)
    check_cancellable(BookingRules(min_cancel_days=5), NOW + timedelta(days=5), NOW)


def test_cancel_closes_min_cancel_days_before_the_start() -> None:
    rules = BookingRules(min_cancel_days=5)
    assert _refusal(lambda: check_cancellable(rules, NOW + timedelta(days=5) - timedelta(seconds=1), NOW)) == (
        409,
        "cancellation_closed",
    )
    assert _refusal(lambda: check_cancellable(rules, NOW - timedelta(hours=1), NOW)) == (409, "event_started")
    check_cancellable(BookingRules(min_cancel_days=0), NOW + timedelta(seconds=1), NOW)


def test_ticket_types() -> None:
    assert not BookingRules(ticket_type=0).questions_per_ticket
    assert BookingRules(ticket_type=1).questions_per_ticket and not BookingRules(ticket_type=1).email_per_ticket
    assert BookingRules(ticket_type=2).email_per_ticket and BookingRules(ticket_type=3).email_per_ticket
    assert not allows_booking(BookingRules(disabled=True), NOW + timedelta(days=1), NOW)
