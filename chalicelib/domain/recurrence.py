"""Expanding a session's schedule (seed 001's repeat codes) into occurrences. Pure.

Dates and times are local to the company's IANA time zone: a weekly 09:00 class is
at 09:00 local on both sides of a daylight-saving change (so its UTC time moves).
A local time that does not exist (inside a spring-forward gap) moves forward by the
gap, as wall clocks do; an ambiguous one (autumn fold) is the first of the two.

The expansion is anchored at ``start_date`` and bounded by ``end_date`` or, when
there is none, ``start_date + max_advance`` days (DEFAULT_HORIZON_DAYS without
either), never by today: the same chain gives the same events whichever day it
is expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import ErrorCode, ValidationFailed

DEFAULT_HORIZON_DAYS = 90
MAX_OCCURRENCES = 400  # a daily session for a year, plus room; more is a mistake, not a schedule
MAX_SPAN_DAYS = 2 * 366


class Repeat(IntEnum):
    NONE = 0
    WEEKLY = 1
    FORTNIGHTLY = 2
    WEEKDAYS = 3
    WEEKENDS = 4
    DAILY = 5
    CUSTOM = 6
    MONTHLY_BY_DAY = 7
    MONTHLY_BY_WEEKDAY = 8


REPEAT_NAMES = {
    Repeat.NONE: "none",
    Repeat.WEEKLY: "weekly",
    Repeat.FORTNIGHTLY: "fortnightly",
    Repeat.WEEKDAYS: "weekdays",
    Repeat.WEEKENDS: "weekends",
    Repeat.DAILY: "daily",
    Repeat.CUSTOM: "custom",
    Repeat.MONTHLY_BY_DAY: "monthly_by_day",
    Repeat.MONTHLY_BY_WEEKDAY: "monthly_by_weekday",
}


@dataclass(frozen=True)
class Slot:
    """One custom slot, local date and time."""

    date: date
    time: time
    duration: int  # minutes


@dataclass(frozen=True)
class Schedule:
    repeat: Repeat
    start_date: date
    time: time
    duration: int  # minutes
    end_date: date | None = None
    max_advance_days: int | None = None
    slots: tuple[Slot, ...] = ()


@dataclass(frozen=True, order=True)
class Occurrence:
    start: datetime  # aware, in the company's zone
    duration: int

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)


def horizon(schedule: Schedule) -> date:
    """The last local date an occurrence may fall on."""
    if schedule.end_date is not None:
        return schedule.end_date
    days = schedule.max_advance_days if schedule.max_advance_days is not None else DEFAULT_HORIZON_DAYS
    return schedule.start_date + timedelta(days=days)


def local_dates(schedule: Schedule) -> list[date]:
    """The local dates of a repeating schedule (not CUSTOM), start_date first."""
    start, last = schedule.start_date, horizon(schedule)
    if last < start:
        raise ValidationFailed("end_date is before start_date", field="end_date", code=ErrorCode.INVALID_SCHEDULE)
    if (last - start).days > MAX_SPAN_DAYS:
        raise ValidationFailed(
            f"a session spans at most {MAX_SPAN_DAYS} days", field="end_date", code=ErrorCode.SCHEDULE_TOO_LONG
        )
    if schedule.repeat is Repeat.NONE:
        return [start]
    if schedule.repeat is Repeat.CUSTOM:
        raise ValueError("custom schedules list their slots")
    dtstart = datetime.combine(start, time())
    until = datetime.combine(last, time())
    rule = _rule(schedule.repeat, dtstart, until)
    return [moment.date() for moment in rule]


def _rule(repeat: Repeat, dtstart: datetime, until: datetime) -> Any:
    from dateutil import rrule  # imported on first expansion, not at cold start

    if repeat is Repeat.WEEKLY:
        return rrule.rrule(rrule.WEEKLY, dtstart=dtstart, until=until)
    if repeat is Repeat.FORTNIGHTLY:
        return rrule.rrule(rrule.WEEKLY, interval=2, dtstart=dtstart, until=until)
    if repeat is Repeat.WEEKDAYS:
        weekdays = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR)
        return rrule.rrule(rrule.DAILY, byweekday=weekdays, dtstart=dtstart, until=until)
    if repeat is Repeat.WEEKENDS:
        return rrule.rrule(rrule.DAILY, byweekday=(rrule.SA, rrule.SU), dtstart=dtstart, until=until)
    if repeat is Repeat.DAILY:
        return rrule.rrule(rrule.DAILY, dtstart=dtstart, until=until)
    if repeat is Repeat.MONTHLY_BY_DAY:
        # Months without that day (the 31st in April) are skipped, as RFC 5545 does.
        return rrule.rrule(rrule.MONTHLY, bymonthday=dtstart.day, dtstart=dtstart, until=until)
    # MONTHLY_BY_WEEKDAY: the start date's nth weekday (second Tuesday); a fifth one means "last".
    nth = nth_weekday(dtstart.date())
    weekday = rrule.weekday(dtstart.weekday(), nth)
    return rrule.rrule(rrule.MONTHLY, byweekday=weekday, dtstart=dtstart, until=until)


def nth_weekday(day: date) -> int:
    """1..4 for the first to fourth such weekday of its month; -1 for a fifth (the last)."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def localise(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``zone``; a time in a DST gap moves forward by the gap."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone, fold=0)
    # Round trip through UTC: a non-existent wall time comes back normalised.
    return aware.astimezone(UTC).astimezone(zone)


def expand(schedule: Schedule, zone: ZoneInfo) -> list[Occurrence]:
    """Every occurrence of ``schedule`` in ``zone``, by start; refuses empty or oversized ones."""
    if schedule.repeat is Repeat.CUSTOM:
        if not schedule.slots:
            raise ValidationFailed(
                "a custom session needs at least one slot", field="slots", code=ErrorCode.INVALID_SCHEDULE
            )
        found = {Occurrence(localise(s.date, s.time, zone), s.duration) for s in schedule.slots}
    else:
        found = {Occurrence(localise(d, schedule.time, zone), schedule.duration) for d in local_dates(schedule)}
        if not found:
            raise ValidationFailed(
                "the schedule has no occurrence between start_date and its end",
                field="start_date",
                code=ErrorCode.INVALID_SCHEDULE,
            )
    if len(found) > MAX_OCCURRENCES:
        raise ValidationFailed(
            f"a session has at most {MAX_OCCURRENCES} events; shorten it or split it",
            field="end_date",
            code=ErrorCode.TOO_MANY_EVENTS,
        )
    starts = [occurrence.start_utc for occurrence in found]
    if len(set(starts)) != len(starts):
        raise ValidationFailed("two slots start at the same time", field="slots", code=ErrorCode.DUPLICATE_SLOT)
    return sorted(found, key=lambda occurrence: occurrence.start_utc)
