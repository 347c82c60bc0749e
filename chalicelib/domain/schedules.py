"""Schedules: Timekit availability constraints, evaluated in a resource's zone. Pure.

A constraint is a one-key object, ``{"allow_hours": {"start": 9, "end": 17}}``; the
kinds are ``day_and_time``, ``hours``, ``day``, ``period``, ``weekdays`` and ``weekends``,
each as ``allow_`` or ``block_``, and ``specific_day_and_time`` (a legacy name of
``allow_day_and_time``). How they combine (Timekit's rules):

- a resource is available until something blocks it; a level with no allow constraint
  allows everything;
- an allow constraint blocks everything it does not allow; the allows of one level add
  up (Monday 9-12 and Monday 13-17 are two rows of one week);
- levels (resource, project, request) intersect: each level's allows narrow the others';
- every block, of any level, is subtracted at the end.

Hours are wall-clock time in the resource's IANA zone: 09:00-17:00 stays 09:00-17:00
across a DST change (so its UTC time moves, and a day of 23 or 25 hours keeps 8 hours of
work unless the change falls inside them). A wall time in a spring-forward gap moves
forward by the gap; an ambiguous one (autumn fold) is the first of the two, as in
``recurrence.localise``. ``start``/``end`` are hours (9, 17.5) or "HH:MM", at minute
precision; an ``end`` before ``start`` runs past midnight into the next day (a night
shift); 24 is the end of the day. A period's bounds are dates (midnight, end exclusive:
block all of May 6 with end "2022-05-07"), wall-clock date-times in the zone
("2022-05-06T13:00"), or instants with an offset.

BookingBug's opening hours and date overrides are the same constraints: see
``weekly_hours`` and ``date_override``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.errors import ErrorCode, ValidationFailed
from chalicelib.domain.intervals import Span, clip, intersect, normalise, subtract, union
from chalicelib.domain.recurrence import localise

MINUTES_PER_DAY = 24 * 60
MIN_YEAR, MAX_YEAR = 1970, 2200
MAX_CONSTRAINTS = 500  # per level; Timekit caps the whole request at 64,000 characters
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKENDS = frozenset({5, 6})
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Weekly:
    """Every week, on ``days`` (0 = Monday), from ``start`` to ``end`` minutes after local
    midnight; ``end <= start`` runs into the next day."""

    allow: bool
    days: frozenset[int]
    start: int = 0
    end: int = MINUTES_PER_DAY

    def spans(self, zone: ZoneInfo, local_days: Sequence[date], window: Span) -> list[Span]:
        found: list[Span] = []
        overnight = self.end <= self.start
        for day in local_days:
            if day.weekday() not in self.days:
                continue
            last = day + timedelta(days=1) if overnight or self.end == MINUTES_PER_DAY else day
            found.append(Span(_wall(day, self.start, zone), _wall(last, self.end % MINUTES_PER_DAY, zone)))
        return clip(normalise(found), window)


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``: aware datetimes are instants, naive ones wall-clock in the zone."""

    allow: bool
    start: datetime
    end: datetime

    def spans(self, zone: ZoneInfo, local_days: Sequence[date], window: Span) -> list[Span]:
        return clip([Span(_instant(self.start, zone), _instant(self.end, zone))], window)


Constraint = Weekly | Period


def zone_of(name: object, field: str = "timezone") -> ZoneInfo:
    """An IANA zone by name, or a 422 naming the field."""
    if isinstance(name, str) and name and not name.startswith(("/", ".")) and ".." not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValidationFailed(
        f"{name!r} is not an IANA time zone such as 'Europe/London'", field=field, code=ErrorCode.INVALID_TIMEZONE
    )


def _wall(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return localise(day, time(minutes // 60, minutes % 60), zone).astimezone(UTC)


def _instant(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return localise(moment.date(), moment.time(), zone).astimezone(UTC)


def local_days(zone: ZoneInfo, window: Span) -> list[date]:
    """Local dates whose rules can reach into ``window``: one day before it for overnight rows."""
    first = window.start.astimezone(zone).date() - timedelta(days=1)
    last = window.end.astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def allowed(levels: Sequence[Sequence[Constraint]], zone: ZoneInfo, window: Span) -> list[Span]:
    """The parts of ``window`` the constraint levels leave available, in UTC, normalised."""
    if window.start >= window.end:
        return []
    days = local_days(zone, window)
    result = [window]
    blocks: list[list[Span]] = []
    for level in levels:
        allows = [c.spans(zone, days, window) for c in level if c.allow]
        if allows:
            result = intersect(result, union(*allows))
        blocks.extend(c.spans(zone, days, window) for c in level if not c.allow)
    return subtract(result, union(*blocks)) if blocks else result


# --- parsing Timekit's JSON -------------------------------------------------------------

_WEEKLY_KINDS = {"day_and_time", "hours", "day", "weekdays", "weekends"}
_FIELDS = {
    "day_and_time": {"day", "start", "end"},
    "hours": {"start", "end"},
    "day": {"day"},
    "period": {"start", "end"},
    "weekdays": set(),
    "weekends": set(),
}


def parse_constraints(raw: object, field: str) -> list[Constraint]:
    """Validate a list of Timekit constraints; a 422 names the first bad entry's field."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationFailed(
            "constraints are a list of one-key objects", field=field, code=ErrorCode.INVALID_CONSTRAINT
        )
    if len(raw) > MAX_CONSTRAINTS:
        raise ValidationFailed(
            f"at most {MAX_CONSTRAINTS} constraints; drop the ones in the past",
            field=field,
            code=ErrorCode.TOO_MANY_CONSTRAINTS,
        )
    return [parse_constraint(entry, f"{field}.{index}") for index, entry in enumerate(raw)]


def parse_constraint(entry: object, field: str) -> Constraint:
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise ValidationFailed(
            'a constraint is an object with one key, e.g. {"allow_hours": {"start": 9, "end": 17}}',
            field=field,
            code=ErrorCode.INVALID_CONSTRAINT,
        )
    ((key, payload),) = entry.items()
    name = "allow_day_and_time" if key == "specific_day_and_time" else str(key)
    effect, _, kind = name.partition("_")
    if effect not in ("allow", "block") or kind not in _FIELDS:
        kinds = ", ".join(f"allow_{k}/block_{k}" for k in _FIELDS)
        raise ValidationFailed(
            f"unknown constraint {key!r}; known: {kinds}", field=field, code=ErrorCode.INVALID_CONSTRAINT
        )
    field = f"{field}.{key}"
    payload = {} if payload is None else payload
    if not isinstance(payload, Mapping):
        raise ValidationFailed("a constraint's value is an object", field=field, code=ErrorCode.INVALID_CONSTRAINT)
    unknown = set(payload) - _FIELDS[kind]
    missing = _FIELDS[kind] - set(payload)
    if unknown or missing:
        wrong = sorted(unknown or missing)[0]
        problem = "is not a field of" if unknown else "is required by"
        raise ValidationFailed(
            f"{wrong!r} {problem} {key}", field=f"{field}.{wrong}", code=ErrorCode.INVALID_CONSTRAINT
        )
    allow = effect == "allow"
    if kind == "period":
        begins = _period_bound(payload["start"], f"{field}.start")
        ends = _period_bound(payload["end"], f"{field}.end")
        if (begins.tzinfo is None) == (ends.tzinfo is None) and ends <= begins:
            raise ValidationFailed(
                "a period ends after it starts", field=f"{field}.end", code=ErrorCode.INVALID_CONSTRAINT
            )
        return Period(allow, begins, ends)
    assert kind in _WEEKLY_KINDS
    days = {"weekdays": WEEKDAYS, "weekends": WEEKENDS}.get(kind, EVERY_DAY)
    if "day" in payload:
        days = frozenset({_day(payload["day"], f"{field}.day")})
    start, end = 0, MINUTES_PER_DAY
    if "start" in payload:
        start = _clock(payload["start"], f"{field}.start")
        end = _clock(payload["end"], f"{field}.end")
        if start == MINUTES_PER_DAY:
            raise ValidationFailed(
                "a day's hours start before 24", field=f"{field}.start", code=ErrorCode.INVALID_CONSTRAINT
            )
        if end == start:
            raise ValidationFailed(
                "start and end are equal; use allow_day for a whole day",
                field=f"{field}.end",
                code=ErrorCode.INVALID_CONSTRAINT,
            )
    return Weekly(allow, days, start, end)


def _day(value: object, field: str) -> int:
    if isinstance(value, str):
        word = value.strip().lower()
        for index, name in enumerate(DAY_NAMES):
            if word == name or (len(word) == 3 and name.startswith(word)):
                return index
    raise ValidationFailed(
        f"{value!r} is not a day of the week such as 'Monday'", field=field, code=ErrorCode.INVALID_CONSTRAINT
    )


def _clock(value: object, field: str) -> int:
    """Minutes after midnight from 9, 17.5 or "09:30"; 0 to 24 hours, whole minutes."""
    minutes: float | None = None
    if isinstance(value, bool):
        minutes = None
    elif isinstance(value, int | float):
        minutes = value * 60
    elif isinstance(value, str) and (match := _HHMM.match(value.strip())):
        hours, mins = int(match.group(1)), int(match.group(2))
        minutes = hours * 60 + mins if mins < 60 else None
    if minutes is None or not 0 <= minutes <= MINUTES_PER_DAY or minutes != int(minutes):
        raise ValidationFailed(
            f"{value!r} is not a time of day: hours 0 to 24 (9, 17.5) or 'HH:MM', in whole minutes",
            field=field,
            code=ErrorCode.INVALID_CONSTRAINT,
        )
    return int(minutes)


def _period_bound(value: object, field: str) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        try:
            moment = (
                datetime.combine(date.fromisoformat(text), time()) if len(text) == 10 else datetime.fromisoformat(text)
            )
        except ValueError:
            moment = None
        # Bounded years: far ones leave datetime's range once an offset or zone is applied.
        if moment is not None and MIN_YEAR <= moment.year <= MAX_YEAR:
            return moment
    raise ValidationFailed(
        f"{value!r} is not a date ('2022-05-01') or date-time ('2022-05-01T09:00', with or without an offset)"
        f" between {MIN_YEAR} and {MAX_YEAR}",
        field=field,
        code=ErrorCode.INVALID_CONSTRAINT,
    )


# --- BookingBug's opening hours, as constraints --------------------------------------------


def _hours_value(minutes: int) -> int | str:
    return minutes // 60 if minutes % 60 == 0 else f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekly_hours(rows: Iterable[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Opening hours ``(weekday, start minute, end minute)`` as ``allow_day_and_time`` rows."""
    return [
        {"allow_day_and_time": {"day": DAY_NAMES[day].title(), "start": _hours_value(s), "end": _hours_value(e)}}
        for day, s, e in rows
    ]


def date_override(day: date, hours: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """One date's own hours (none: closed) replacing the weekly ones that day: its hours are
    allowed as periods and the rest of the day blocked, all wall-clock in the zone."""

    def at(minutes: int) -> str:
        moment = datetime.combine(day, time()) + timedelta(minutes=minutes)
        return moment.isoformat(timespec="minutes")

    rows: list[dict[str, Any]] = []
    previous = 0
    for start, end in sorted(hours):
        rows.append({"allow_period": {"start": at(start), "end": at(end)}})
        if start > previous:
            rows.append({"block_period": {"start": at(previous), "end": at(start)}})
        previous = max(previous, end)
    if previous < MINUTES_PER_DAY:
        rows.append({"block_period": {"start": at(previous), "end": at(MINUTES_PER_DAY)}})
    return rows
