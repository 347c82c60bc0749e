"""Schedule expansion: compared with an independent construction (plain date arithmetic,
and dateutil's rrule built from RFC 5545 text), and its time-zone behaviour."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.recurrence import (
    MAX_OCCURRENCES,
    Repeat,
    Schedule,
    Slot,
    expand,
    horizon,
    local_dates,
    localise,
)

ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"]
REPEATING = [r for r in Repeat if r not in (Repeat.NONE, Repeat.CUSTOM)]


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday]
    if nth == -1:
        return date(year, month, days[-1])
    return date(year, month, days[nth - 1]) if nth <= len(days) else None


def _expected(schedule: Schedule) -> list[date]:
    """The dates, by hand: no dateutil."""
    start, last = schedule.start_date, horizon(schedule)
    every_day = [start + timedelta(days=n) for n in range((last - start).days + 1)]
    repeat = schedule.repeat
    if repeat is Repeat.NONE:
        return [start]
    if repeat is Repeat.WEEKLY:
        return every_day[::7]
    if repeat is Repeat.FORTNIGHTLY:
        return every_day[::14]
    if repeat is Repeat.WEEKDAYS:
        return [d for d in every_day if d.weekday() < 5]
    if repeat is Repeat.WEEKENDS:
        return [d for d in every_day if d.weekday() >= 5]
    if repeat is Repeat.DAILY:
        return every_day
    months = []
    year, month = start.year, start.month
    while date(year, month, 1) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    found: list[date | None]
    if repeat is Repeat.MONTHLY_BY_DAY:
        found = [date(y, m, start.day) if start.day <= calendar.monthrange(y, m)[1] else None for y, m in months]
    else:
        nth = (start.day - 1) // 7 + 1
        found = [_nth_weekday(y, m, start.weekday(), -1 if nth == 5 else nth) for y, m in months]
    return [d for d in found if d is not None and start <= d <= last]


_RFC = {
    Repeat.WEEKLY: "FREQ=WEEKLY",
    Repeat.FORTNIGHTLY: "FREQ=WEEKLY;INTERVAL=2",
    Repeat.WEEKDAYS: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    Repeat.WEEKENDS: "FREQ=WEEKLY;BYDAY=SA,SU",
    Repeat.DAILY: "FREQ=DAILY",
}


def _rfc_dates(schedule: Schedule) -> list[date] | None:
    """The same schedule written as RFC 5545 text and parsed by rrulestr (another route through dateutil)."""
    text = _RFC.get(schedule.repeat)
    if text is None:
        return None
    until = horizon(schedule).strftime("%Y%m%dT235959")
    rule = rrule.rrulestr(f"RRULE:{text};UNTIL={until}", dtstart=datetime.combine(schedule.start_date, time()))
    return [moment.date() for moment in rule]


schedules = st.builds(
    Schedule,
    repeat=st.sampled_from([*REPEATING, Repeat.NONE]),
    start_date=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    duration=st.integers(min_value=1, max_value=600),
    end_date=st.none(),
    max_advance_days=st.one_of(st.none(), st.integers(min_value=0, max_value=365)),
)


@settings(max_examples=300, deadline=None)
@given(schedule=schedules, span=st.one_of(st.none(), st.integers(min_value=0, max_value=400)))
def test_dates_match_an_independent_construction(schedule: Schedule, span: int | None) -> None:
    if span is not None:
        schedule = Schedule(**{**schedule.__dict__, "end_date": schedule.start_date + timedelta(days=span)})
    expected = _expected(schedule)
    assert local_dates(schedule) == expected
    rfc = _rfc_dates(schedule)
    if rfc is not None:
        assert rfc == expected


@settings(max_examples=200, deadline=None)
@given(schedule=schedules, zone_name=st.sampled_from(ZONES))
def test_wall_clock_time_holds_across_daylight_saving(schedule: Schedule, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    expected = _expected(schedule)
    if not expected or len(expected) > MAX_OCCURRENCES:
        with pytest.raises(ValidationFailed):
            expand(schedule, zone)
        return
    occurrences = expand(schedule, zone)
    assert [o.start.date() for o in occurrences] == expected
    for occurrence in occurrences:
        wall = occurrence.start.astimezone(zone)
        naive = datetime.combine(wall.date(), schedule.time)
        exists = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
        if exists:
            assert wall.time() == schedule.time  # 09:00 stays 09:00 local
        else:
            assert wall.time() > schedule.time  # inside a spring-forward gap: moved forward
        assert occurrence.duration == schedule.duration
    starts = [o.start_utc for o in occurrences]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_weekly_class_in_london_keeps_nine_oclock_across_the_spring_change() -> None:
    schedule = Schedule(Repeat.WEEKLY, date(2031, 3, 17), time(9, 0), 60, end_date=date(2031, 4, 7))
    occurrences = expand(schedule, ZoneInfo("Europe/London"))
    assert [o.start.isoformat() for o in occurrences] == [
        "2031-03-17T09:00:00+00:00",
        "2031-03-24T09:00:00+00:00",
        "2031-03-31T09:00:00+01:00",  # BST began on 30 March
        "2031-04-07T09:00:00+01:00",
    ]
    assert occurrences[2].start_utc.hour == 8


def test_a_time_in_the_gap_moves_forward_and_the_fold_takes_the_first() -> None:
    london = ZoneInfo("Europe/London")
    assert localise(date(2031, 3, 30), time(1, 30), london).isoformat() == "2031-03-30T02:30:00+01:00"
    assert localise(date(2031, 10, 26), time(1, 30), london).isoformat() == "2031-10-26T01:30:00+01:00"


def test_expansion_is_anchored_at_the_start_date_not_today() -> None:
    schedule = Schedule(Repeat.DAILY, date(2020, 1, 1), time(10, 0), 30, max_advance_days=6)
    assert len(expand(schedule, ZoneInfo("UTC"))) == 7  # 1..7 January 2020 whatever day this runs


def test_monthly_by_weekday_second_tuesday_and_fifth_means_last() -> None:
    second_tuesday = Schedule(Repeat.MONTHLY_BY_WEEKDAY, date(2031, 1, 14), time(18, 0), 60, end_date=date(2031, 4, 30))
    assert local_dates(second_tuesday) == [date(2031, 1, 14), date(2031, 2, 11), date(2031, 3, 11), date(2031, 4, 8)]
    fifth_friday = Schedule(Repeat.MONTHLY_BY_WEEKDAY, date(2031, 1, 31), time(18, 0), 60, end_date=date(2031, 3, 31))
    assert local_dates(fifth_friday) == [date(2031, 1, 31), date(2031, 2, 28), date(2031, 3, 28)]


def test_monthly_by_day_skips_months_without_that_day() -> None:
    schedule = Schedule(Repeat.MONTHLY_BY_DAY, date(2031, 1, 31), time(8, 0), 60, end_date=date(2031, 5, 31))
    assert local_dates(schedule) == [date(2031, 1, 31), date(2031, 3, 31), date(2031, 5, 31)]


def test_custom_slots_in_order_and_checked() -> None:
    slots = (Slot(date(2031, 3, 20), time(9, 30), 90), Slot(date(2031, 1, 1), time(11, 0), 60))
    schedule = Schedule(Repeat.CUSTOM, date(2031, 1, 1), time(11, 0), 60, slots=slots)
    assert [(o.start.date(), o.duration) for o in expand(schedule, ZoneInfo("UTC"))] == [
        (date(2031, 1, 1), 60),
        (date(2031, 3, 20), 90),
    ]
    clash = (Slot(date(2031, 1, 1), time(11, 0), 60), Slot(date(2031, 1, 1), time(11, 0), 30))
    with pytest.raises(ValidationFailed) as refused:
        expand(Schedule(Repeat.CUSTOM, date(2031, 1, 1), time(11, 0), 60, slots=clash), ZoneInfo("UTC"))
    assert refused.value.code == "duplicate_slot"
    with pytest.raises(ValidationFailed):
        expand(Schedule(Repeat.CUSTOM, date(2031, 1, 1), time(11, 0), 60), ZoneInfo("UTC"))


def test_bounds_are_refused_with_422() -> None:
    with pytest.raises(ValidationFailed) as backwards:
        expand(Schedule(Repeat.WEEKLY, date(2031, 1, 8), time(9), 60, end_date=date(2031, 1, 1)), ZoneInfo("UTC"))
    assert backwards.value.status == 422 and backwards.value.field == "end_date"
    with pytest.raises(ValidationFailed) as too_many:
        expand(Schedule(Repeat.DAILY, date(2031, 1, 1), time(9), 60, end_date=date(2032, 6, 1)), ZoneInfo("UTC"))
    assert too_many.value.code == "too_many_events"
    weekend_only_monday = Schedule(Repeat.WEEKENDS, date(2031, 1, 6), time(9), 60, end_date=date(2031, 1, 6))
    with pytest.raises(ValidationFailed):
        expand(weekend_only_monday, ZoneInfo("UTC"))
