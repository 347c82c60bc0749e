"""The one window rule: per actor, at its edges, and said in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.windows import Actor, Windows, check_booking, check_cancel, check_future, group_windows, in_words

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
RULES = Windows(min_advance=timedelta(hours=2), max_advance=timedelta(days=30), min_cancel=timedelta(hours=24))


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(hours=24), "24 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=90), "1 hour and 30 minutes"),
        (timedelta(days=3), "3 days"),
        (timedelta(weeks=2), "2 weeks"),
        (timedelta(days=9, minutes=1), "9 days and 1 minute"),
        (timedelta(days=1, hours=2, seconds=5), "1 day, 2 hours and 5 seconds"),
        (timedelta(seconds=45), "45 seconds"),
    ],
)
def test_windows_read_in_words(span: timedelta, words: str) -> None:
    assert in_words(span) == words


def _refusal(call: object) -> tuple[str, str]:
    with pytest.raises(Conflict) as caught:
        assert callable(call)
        call()
    return caught.value.code, caught.value.message


def test_a_customer_books_inside_the_window_only_and_the_edges_are_inclusive() -> None:
    check_booking(RULES, NOW + timedelta(hours=2), NOW, Actor.CUSTOMER, subject="this group", field="f")
    check_booking(RULES, NOW + timedelta(days=30), NOW, Actor.CUSTOMER, subject="this group", field="f")
    late = NOW + timedelta(hours=2) - timedelta(seconds=1)
    assert _refusal(lambda: check_booking(RULES, late, NOW, Actor.CUSTOMER, subject="this group", field="f")) == (
        "booking_closed",
        "this group can be booked until 2 hours before the start",
    )
    early = NOW + timedelta(days=30, seconds=1)
    assert _refusal(lambda: check_booking(RULES, early, NOW, Actor.CUSTOMER, subject="this group", field="f")) == (
        "booking_not_open",
        "this group can be booked from 30 days before the start",
    )


def test_a_customer_cancels_until_the_window_closes() -> None:
    check_cancel(RULES, NOW + timedelta(hours=24), NOW, Actor.CUSTOMER, subject="this booking", field=None)
    late = NOW + timedelta(hours=23)
    assert _refusal(lambda: check_cancel(RULES, late, NOW, Actor.CUSTOMER, subject="this booking", field=None)) == (
        "cancellation_closed",
        "this booking can be cancelled until 24 hours before the start",
    )
    started = NOW - timedelta(minutes=1)
    assert _refusal(lambda: check_cancel(Windows(), started, NOW, Actor.CUSTOMER, subject="it", field=None)) == (
        "cancellation_closed",
        "it can be cancelled until the start",
    )


def test_staff_are_not_bound() -> None:
    check_booking(RULES, NOW + timedelta(minutes=1), NOW, Actor.STAFF, subject="x", field="f")
    check_booking(RULES, NOW + timedelta(days=300), NOW, Actor.STAFF, subject="x", field="f")
    check_cancel(RULES, NOW + timedelta(minutes=1), NOW, Actor.STAFF, subject="x", field=None)


def test_nobody_books_the_past() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_future(NOW, NOW, field="event.start")
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "in_the_past", "event.start")
    check_future(NOW + timedelta(seconds=1), NOW, field="event.start")


def test_group_settings_become_windows() -> None:
    settings = {"min_cancel_time": "1 day", "min_booking_time": "2 hours", "max_booking_time": "4 weeks"}
    assert group_windows(settings) == Windows(timedelta(hours=2), timedelta(weeks=4), timedelta(days=1))
    assert group_windows({}) == Windows()
    with pytest.raises(ValidationFailed) as caught:
        group_windows({"min_cancel_time": "soon"})
    assert caught.value.field == "settings.min_cancel_time"
