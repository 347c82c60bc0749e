"""Schedules: Timekit constraints in a resource's zone, on real DST transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.intervals import Span, total
from chalicelib.domain.schedules import (
    Constraint,
    Period,
    Weekly,
    allowed,
    date_override,
    parse_constraints,
    weekly_hours,
    zone_of,
)

LONDON = ZoneInfo("Europe/London")
LA = ZoneInfo("America/Los_Angeles")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold).astimezone(UTC)


def evaluate(
    raw: list[dict[str, Any]], zone: ZoneInfo, start: datetime, end: datetime, *more: list[dict[str, Any]]
) -> list[Span]:
    levels = [parse_constraints(raw, "availability_constraints")] + [parse_constraints(m, "constraints") for m in more]
    return allowed(levels, zone, Span(start, end))


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


NINE_TO_FIVE = [{"allow_hours": {"start": 9, "end": 17}}]


@pytest.mark.parametrize(
    ("zone", "day_before", "change_day", "offset_before", "offset_after"),
    [
        (LONDON, date(2024, 3, 30), date(2024, 3, 31), 0, 1),  # spring forward at 01:00
        (LONDON, date(2024, 10, 26), date(2024, 10, 27), 1, 0),  # fall back at 02:00
        (LA, date(2024, 3, 9), date(2024, 3, 10), -8, -7),
        (LA, date(2024, 11, 2), date(2024, 11, 3), -7, -8),
        (LORD_HOWE, date(2024, 10, 5), date(2024, 10, 6), 10.5, 11),  # a 30-minute shift
        (LORD_HOWE, date(2024, 4, 6), date(2024, 4, 7), 11, 10.5),
    ],
)
def test_working_hours_stay_wall_clock_across_dst(
    zone: ZoneInfo, day_before: date, change_day: date, offset_before: float, offset_after: float
) -> None:
    start = datetime.combine(day_before, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    spans = evaluate(NINE_TO_FIVE, zone, start, start + timedelta(days=4))
    by_day = {span.start.astimezone(zone).date(): span for span in spans}
    before, after = by_day[day_before], by_day[change_day]
    for span in (before, after):
        assert span.start.astimezone(zone).strftime("%H:%M") == "09:00"
        assert span.end.astimezone(zone).strftime("%H:%M") == "17:00"
        assert span.length == hours(8)  # the change is at night, outside the hours
    assert before.start == datetime.combine(day_before, datetime.min.time(), tzinfo=UTC) + hours(9 - offset_before)
    assert after.start == datetime.combine(change_day, datetime.min.time(), tzinfo=UTC) + hours(9 - offset_after)


def test_an_hours_row_across_a_change_keeps_its_wall_times_and_loses_or_gains_the_gap() -> None:
    # 00:00-06:00 on the spring-forward day in London is five real hours; on the fall-back day seven.
    night = [{"allow_hours": {"start": 0, "end": 6}}]
    spring = evaluate(night, LONDON, utc(2024, 3, 31), utc(2024, 3, 31, 12))
    autumn = evaluate(night, LONDON, utc(2024, 10, 26, 23), utc(2024, 10, 27, 12))
    assert total(spring) == hours(5)
    assert total(autumn) == hours(7)
    # Lord Howe's spring change is 30 minutes: 02:00 becomes 02:30.
    assert total(evaluate(night, LORD_HOWE, utc(2024, 10, 5, 12), utc(2024, 10, 6, 12))) == hours(5.5)


def test_a_wall_time_in_the_gap_moves_forward() -> None:
    # Lord Howe, 6 October 2024: 02:00-02:30 does not exist. A 02:00-03:00 row starts at 02:30.
    spans = evaluate([{"allow_hours": {"start": 2, "end": 3}}], LORD_HOWE, utc(2024, 10, 5, 12), utc(2024, 10, 6, 0))
    assert spans == [Span(local(LORD_HOWE, 2024, 10, 6, 2, 30), local(LORD_HOWE, 2024, 10, 6, 3, 0))]
    assert spans[0].length == hours(0.5)
    # Los Angeles, 10 March 2024: 02:15 does not exist; it moves to 03:15 PDT.
    spans = evaluate([{"allow_hours": {"start": "02:15", "end": "04:00"}}], LA, utc(2024, 3, 10), utc(2024, 3, 11))
    assert spans[0].start == utc(2024, 3, 10, 10, 15)


def test_an_ambiguous_wall_time_takes_the_first_fold() -> None:
    # Los Angeles, 3 November 2024: 01:00-02:00 happens twice. A 01:30 start is the first (PDT).
    spans = evaluate([{"allow_hours": {"start": 1.5, "end": 3}}], LA, utc(2024, 11, 3), utc(2024, 11, 4))
    assert spans[0].start == local(LA, 2024, 11, 3, 1, 30, fold=0) == utc(2024, 11, 3, 8, 30)
    assert spans[0].end == utc(2024, 11, 3, 11)  # 03:00 PST
    # Lord Howe, 7 April 2024: 01:30-02:00 happens twice (+11, then +10:30).
    spans = evaluate([{"allow_hours": {"start": 1.5, "end": 2}}], LORD_HOWE, utc(2024, 4, 6, 12), utc(2024, 4, 7, 12))
    assert spans == [Span(utc(2024, 4, 6, 14, 30), utc(2024, 4, 6, 15, 30))]


def test_allows_of_one_level_add_up_and_levels_intersect() -> None:
    # 1 January 2024 is a Monday.
    rows = [
        {"allow_day_and_time": {"day": "Monday", "start": 9, "end": 12}},
        {"allow_day_and_time": {"day": "monday", "start": 13, "end": 17}},
        {"specific_day_and_time": {"day": "Tue", "start": 10, "end": 11}},
    ]
    spans = evaluate(rows, UTC_ZONE, utc(2024, 1, 1), utc(2024, 1, 8))
    assert spans == [
        Span(utc(2024, 1, 1, 9), utc(2024, 1, 1, 12)),
        Span(utc(2024, 1, 1, 13), utc(2024, 1, 1, 17)),
        Span(utc(2024, 1, 2, 10), utc(2024, 1, 2, 11)),
    ]
    # Marty: allow_day Mon-Wed on the resource, allow_hours 9-17 on the request = Mon-Wed 9-17.
    marty = [{"allow_day": {"day": d}} for d in ("Monday", "Tuesday", "Wednesday")]
    spans = evaluate(marty, UTC_ZONE, utc(2024, 1, 1), utc(2024, 1, 8), NINE_TO_FIVE)
    assert spans == [Span(utc(2024, 1, d, 9), utc(2024, 1, d, 17)) for d in (1, 2, 3)]


def test_no_constraint_means_available_until_blocked() -> None:
    window = (utc(2024, 1, 1, 3, 17), utc(2024, 1, 9))
    assert evaluate([], LONDON, *window) == [Span(*window)]
    blocked = evaluate([{"block_weekends": {}}], LONDON, *window)
    assert blocked == [Span(utc(2024, 1, 1, 3, 17), utc(2024, 1, 6)), Span(utc(2024, 1, 8), utc(2024, 1, 9))]


def test_blocks_subtract_from_every_level() -> None:
    rows: list[dict[str, Any]] = [*NINE_TO_FIVE, {"block_hours": {"start": 12, "end": 13}}, {"block_weekends": None}]
    vacation = [{"block_period": {"start": "2024-01-03", "end": "2024-01-05"}}]  # end exclusive: 3rd and 4th
    spans = evaluate(rows, UTC_ZONE, utc(2024, 1, 1), utc(2024, 1, 8), vacation)
    days = sorted({s.start.date().day for s in spans})
    assert days == [1, 2, 5]
    assert spans[:2] == [Span(utc(2024, 1, 1, 9), utc(2024, 1, 1, 12)), Span(utc(2024, 1, 1, 13), utc(2024, 1, 1, 17))]


def test_weekdays_and_periods() -> None:
    spans = evaluate([{"allow_weekdays": {}}], UTC_ZONE, utc(2024, 1, 1), utc(2024, 1, 15))
    assert spans == [Span(utc(2024, 1, 1), utc(2024, 1, 6)), Span(utc(2024, 1, 8), utc(2024, 1, 13))]
    # A naive period is wall-clock in the zone; one with an offset is an instant.
    rows = [
        {"allow_period": {"start": "2024-07-01T09:00", "end": "2024-07-01T10:00"}},
        {"allow_period": {"start": "2024-07-01T12:00:00+00:00", "end": "2024-07-01T13:00:00Z"}},
    ]
    spans = evaluate(rows, LONDON, utc(2024, 7, 1), utc(2024, 7, 2))
    assert spans == [Span(utc(2024, 7, 1, 8), utc(2024, 7, 1, 9)), Span(utc(2024, 7, 1, 12), utc(2024, 7, 1, 13))]


def test_an_end_before_the_start_is_a_night_shift() -> None:
    rows = [{"allow_day_and_time": {"day": "Friday", "start": 22, "end": 6}}]
    spans = evaluate(rows, UTC_ZONE, utc(2024, 1, 1), utc(2024, 1, 8))
    assert spans == [Span(utc(2024, 1, 5, 22), utc(2024, 1, 6, 6))]
    # A window starting mid-shift still sees the shift that began the day before.
    assert evaluate(rows, UTC_ZONE, utc(2024, 1, 6, 2), utc(2024, 1, 7)) == [
        Span(utc(2024, 1, 6, 2), utc(2024, 1, 6, 6))
    ]
    # 24 is the end of the day.
    spans = evaluate([{"allow_hours": {"start": "18:30", "end": 24}}], UTC_ZONE, utc(2024, 1, 1), utc(2024, 1, 2))
    assert spans == [Span(utc(2024, 1, 1, 18, 30), utc(2024, 1, 2))]


def test_constraints_are_evaluated_in_each_zone() -> None:
    la = evaluate(NINE_TO_FIVE, LA, utc(2024, 5, 6), utc(2024, 5, 7))
    assert la == [Span(utc(2024, 5, 6, 16), utc(2024, 5, 7, 0))]
    assert la[0].end.astimezone(ZoneInfo("America/New_York")).hour == 20  # TK-C1: the NY-formatted end is 20:00


def test_opening_hours_and_date_overrides_are_constraints() -> None:
    company = weekly_hours([(d, 9 * 60, 17 * 60 + 30) for d in range(5)])
    assert company[0] == {"allow_day_and_time": {"day": "Monday", "start": 9, "end": "17:30"}}
    christmas_eve = date_override(date(2024, 12, 24), [(9 * 60, 13 * 60)])  # a Tuesday: short day
    christmas = date_override(date(2024, 12, 25), [])  # a Wednesday: closed
    saturday = date_override(date(2024, 12, 28), [(10 * 60, 12 * 60), (14 * 60, 15 * 60)])  # normally closed
    spans = evaluate(company + christmas_eve + christmas + saturday, LONDON, utc(2024, 12, 23), utc(2024, 12, 30))
    assert spans == [
        Span(utc(2024, 12, 23, 9), utc(2024, 12, 23, 17, 30)),
        Span(utc(2024, 12, 24, 9), utc(2024, 12, 24, 13)),
        Span(utc(2024, 12, 26, 9), utc(2024, 12, 26, 17, 30)),
        Span(utc(2024, 12, 27, 9), utc(2024, 12, 27, 17, 30)),
        Span(utc(2024, 12, 28, 10), utc(2024, 12, 28, 12)),
        Span(utc(2024, 12, 28, 14), utc(2024, 12, 28, 15)),
    ]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("allow_hours", "c"),
        ([{"allow_hours": {"start": 9, "end": 17}, "block_weekends": {}}], "c.0"),
        (["allow_hours"], "c.0"),
        ([{"allow_minutes": {}}], "c.0"),
        ([{"permit_hours": {"start": 9, "end": 17}}], "c.0"),
        ([{"allow_hours": [9, 17]}], "c.0.allow_hours"),
        ([{"allow_hours": {"start": 9}}], "c.0.allow_hours.end"),
        ([{"allow_hours": {"start": 9, "end": 17, "tz": "UTC"}}], "c.0.allow_hours.tz"),
        ([{"allow_hours": {"start": 25, "end": 17}}], "c.0.allow_hours.start"),
        ([{"allow_hours": {"start": 24, "end": 2}}], "c.0.allow_hours.start"),
        ([{"allow_hours": {"start": 9, "end": 9}}], "c.0.allow_hours.end"),
        ([{"allow_hours": {"start": 9.01, "end": 17}}], "c.0.allow_hours.start"),
        ([{"allow_hours": {"start": "9h", "end": 17}}], "c.0.allow_hours.start"),
        ([{"allow_hours": {"start": "09:60", "end": 17}}], "c.0.allow_hours.start"),
        ([{"allow_hours": {"start": True, "end": 17}}], "c.0.allow_hours.start"),
        ([NINE_TO_FIVE[0], {"block_day": {"day": "Funday"}}], "c.1.block_day.day"),
        ([{"allow_day_and_time": {"day": 1, "start": 9, "end": 17}}], "c.0.allow_day_and_time.day"),
        ([{"block_period": {"start": "2024-05-06", "end": "2024-05-01"}}], "c.0.block_period.end"),
        ([{"block_period": {"start": "May 6", "end": "2024-05-07"}}], "c.0.block_period.start"),
        ([{"block_period": {"start": "0001-01-01", "end": "2024-05-07"}}], "c.0.block_period.start"),
        ([{"block_weekends": {"all": True}}], "c.0.block_weekends.all"),
        ([NINE_TO_FIVE[0]] * 501, "c"),
    ],
)
def test_bad_constraints_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_constraints(raw, "c")
    assert (caught.value.field, caught.value.status) == (field, 422)


def test_zones() -> None:
    assert zone_of("Australia/Lord_Howe") == LORD_HOWE
    for bad in ("Mars/Olympus", "", None, "../etc/passwd", "/etc/localtime", 5):
        with pytest.raises(ValidationFailed) as caught:
            zone_of(bad)
        assert caught.value.field == "timezone"


# --- property: against a minute-by-minute model in zones without DST --------------------------

weekly = st.builds(
    lambda allow, days, start, end: Weekly(allow, frozenset(days), start, end),
    st.booleans(),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 23).map(lambda h: h * 60),
    st.integers(1, 24).map(lambda h: h * 60),
).filter(lambda w: w.start != w.end)
period = st.builds(
    lambda allow, start, length: Period(
        allow, datetime(2024, 1, 1) + timedelta(hours=start), datetime(2024, 1, 1) + timedelta(hours=start + length)
    ),
    st.booleans(),
    st.integers(-24, 24 * 8),
    st.integers(1, 72),
)
levels = st.lists(st.lists(st.one_of(weekly, period), max_size=4), max_size=3)


def model_allows(level_list: list[list[Constraint]], zone: ZoneInfo, moment: datetime) -> bool:
    wall = moment.astimezone(zone).replace(tzinfo=None)

    def covers(c: Constraint) -> bool:
        if isinstance(c, Period):
            return c.start <= wall < c.end
        minute = wall.hour * 60 + wall.minute
        today, yesterday = wall.weekday(), (wall.weekday() - 1) % 7
        if c.end > c.start:
            return today in c.days and c.start <= minute < c.end
        return (today in c.days and minute >= c.start) or (yesterday in c.days and minute < c.end)

    for level in level_list:
        allows = [c for c in level if c.allow]
        if allows and not any(covers(c) for c in allows):
            return False
    return not any(covers(c) for level in level_list for c in level if not c.allow)


@settings(max_examples=60, deadline=None)
@given(levels, st.sampled_from(["UTC", "Asia/Kolkata", "Asia/Kathmandu"]), st.integers(0, 48), st.integers(1, 24 * 6))
def test_allowed_matches_a_minute_model(
    level_list: list[list[Constraint]], zone_name: str, start: int, length: int
) -> None:
    zone = ZoneInfo(zone_name)
    window = Span(utc(2024, 1, 1) + timedelta(hours=start), utc(2024, 1, 1) + timedelta(hours=start + length))
    spans = allowed(level_list, zone, window)
    step = timedelta(minutes=15)  # every boundary here is on a quarter hour (Kathmandu is +05:45)
    moment = window.start
    index = 0
    while moment < window.end:
        while index < len(spans) and spans[index].end <= moment:
            index += 1
        inside = index < len(spans) and spans[index].start <= moment
        assert inside == model_allows(level_list, zone, moment), moment
        moment += step
