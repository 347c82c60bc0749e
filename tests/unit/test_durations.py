"""Timekit's durations and relative times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.durations import add_months, parse_duration, parse_moment
from chalicelib.domain.errors import ValidationFailed

NOW = datetime(2024, 1, 31, 14, 37, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 hour", timedelta(hours=1)),
        ("30 minutes", timedelta(minutes=30)),
        ("2 weeks", timedelta(weeks=2)),
        ("3 days 2 weeks", timedelta(days=17)),
        ("1 hour 30 minutes", timedelta(minutes=90)),
        ("1 hour, 30 mins", timedelta(minutes=90)),
        ("1 day and 2 hours", timedelta(hours=26)),
        ("  45 MINUTES ", timedelta(minutes=45)),
        ("90min", timedelta(minutes=90)),
        ("2 hrs", timedelta(hours=2)),
        ("10 seconds", timedelta(seconds=10)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "length") == expected


@pytest.mark.parametrize("text", ["", "soon", "1", "hour", "1 month", "2 years", "1.5 hours", "-1 hour", "1 fortnight"])
def test_bad_durations_name_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_duration(text, "length")
    assert caught.value.field == "length"
    assert caught.value.status == 422
    assert caught.value.code == "invalid_duration"


def test_a_duration_must_be_text() -> None:
    with pytest.raises(ValidationFailed):
        parse_duration(60, "buffer")


def test_zero_is_refused_unless_allowed() -> None:
    with pytest.raises(ValidationFailed):
        parse_duration("0 minutes", "length")
    assert parse_duration("0 minutes", "buffer", allow_zero=True) == timedelta()


def test_absurd_lengths_are_refused_not_overflowed() -> None:
    with pytest.raises(ValidationFailed):
        parse_duration("999999 weeks", "length")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("NOW", NOW),
        ("today", datetime(2024, 1, 31, tzinfo=UTC)),
        ("tomorrow", datetime(2024, 2, 1, tzinfo=UTC)),
        ("yesterday", datetime(2024, 1, 30, tzinfo=UTC)),
        ("2 weeks", NOW + timedelta(weeks=2)),
        ("+3 days 2 weeks", NOW + timedelta(days=17)),
        ("-1 day", NOW - timedelta(days=1)),
        ("1 month", datetime(2024, 2, 29, 14, 37, 12, tzinfo=UTC)),  # 31 Jan + 1 month: the month's last day
        ("6 months", datetime(2024, 7, 31, 14, 37, 12, tzinfo=UTC)),
        ("1 year", datetime(2025, 1, 31, 14, 37, 12, tzinfo=UTC)),
        ("2024-05-06T09:00:00-04:00", datetime(2024, 5, 6, 13, tzinfo=UTC)),
        ("2024-05-06T09:00:00Z", datetime(2024, 5, 6, 9, tzinfo=UTC)),
        ("2024-05-06T09:00:00.250+00:00", datetime(2024, 5, 6, 9, 0, 0, 250_000, tzinfo=UTC)),
        ("2024-05-06T09:00", datetime(2024, 5, 6, 9, tzinfo=UTC)),  # no offset: wall-clock in the zone (UTC)
        ("2024-05-06", datetime(2024, 5, 6, tzinfo=UTC)),
    ],
)
def test_moments(text: str, expected: datetime) -> None:
    assert parse_moment(text, "from", now=NOW) == expected


def test_named_days_and_naive_times_are_in_the_zone_given() -> None:
    london = ZoneInfo("Europe/London")
    summer = datetime(2024, 7, 1, 23, 30, tzinfo=UTC)  # already 2 July in London
    assert parse_moment("tomorrow", "from", now=summer, zone=london) == datetime(2024, 7, 2, 23, tzinfo=UTC)
    assert parse_moment("2024-07-01T09:00", "from", now=summer, zone=london) == datetime(2024, 7, 1, 8, tzinfo=UTC)
    # 01:30 on 31 March 2024 does not exist in London: it moves forward to 02:30 BST (01:30 UTC).
    gap = parse_moment("2024-03-31T01:30", "from", now=summer, zone=london)
    assert gap == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "later", "2 fortnights", "2024-13-01", "2024-05-06T25:00", "next tuesday", "9999-12-31T23:59:59-01:00"],
)
def test_bad_moments_name_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_moment(text, "to", now=NOW)
    assert (caught.value.field, caught.value.code, caught.value.status) == ("to", "invalid_time", 422)


def test_moment_must_be_text_and_now_aware() -> None:
    with pytest.raises(ValidationFailed):
        parse_moment(1714986000, "from", now=NOW)
    with pytest.raises(ValueError, match="aware"):
        parse_moment("now", "from", now=datetime(2024, 1, 1))


def test_add_months_clamps_and_goes_back() -> None:
    assert add_months(datetime(2023, 1, 31, tzinfo=UTC), 1) == datetime(2023, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2024, 3, 31, tzinfo=UTC), -1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2024, 11, 15, tzinfo=UTC), 14) == datetime(2026, 1, 15, tzinfo=UTC)
