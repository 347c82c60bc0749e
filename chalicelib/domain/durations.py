"""Timekit's durations ("1 hour", "3 days 2 weeks") and moments ("now", "tomorrow",
"2 weeks", ISO 8601). Pure: the caller passes ``now``.

Durations are sums of ``<whole number> <unit>`` terms (seconds to weeks); a month has
no fixed length, so it is refused as a duration. Moments are

- ``now``, ``today``, ``tomorrow``, ``yesterday`` (the last three: midnight, in
  ``zone``, default UTC, as PHP's strtotime, which Timekit's grammar comes from);
- relative terms counted from ``now`` ("2 weeks", "+3 days 2 weeks", "-1 day"),
  where months and years are calendar months (31 January + 1 month = 28/29 February);
- an ISO 8601 date (midnight in ``zone``) or date-time; one without an offset is
  wall-clock time in ``zone``.

Anything else is a 422 naming the field.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from chalicelib.domain.errors import ErrorCode, ValidationFailed

_UNITS = {
    "second": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_MONTHS = {"month": 1, "year": 12}
_TERM = re.compile(r"(\d{1,6})\s*([a-z]+?)s?(?=[\s,]|$)")
_JOINERS = re.compile(r"(?:\s+and\s+|\s*,\s*|\s+)")
MAX_DURATION = timedelta(days=3660)  # ten years: beyond that it is a typo, and datetimes overflow sooner or later


def _terms(text: str) -> list[tuple[int, str]] | None:
    """``[(count, unit)]`` of "3 days, 2 weeks and 1 hour"; None unless every word is a term."""
    rest = text.strip().lower()
    found: list[tuple[int, str]] = []
    while rest:
        match = _TERM.match(rest)
        if match is None or (match.group(2) not in _UNITS and match.group(2) not in _MONTHS):
            return None
        found.append((int(match.group(1)), match.group(2)))
        rest = rest[match.end() :]
        joiner = _JOINERS.match(rest)
        if joiner is not None:
            rest = rest[joiner.end() :]
    return found or None


def parse_duration(text: object, field: str, *, allow_zero: bool = False) -> timedelta:
    """A fixed length of time: "30 minutes", "1 hour 30 minutes", "2 weeks"."""
    terms = _terms(text) if isinstance(text, str) else None
    if terms is None or any(unit in _MONTHS for _, unit in terms):
        raise ValidationFailed(
            f"{text!r} is not a duration like '30 minutes', '2 hours' or '1 day 12 hours'",
            field=field,
            code=ErrorCode.INVALID_DURATION,
        )
    length = sum((count * _UNITS[unit] for count, unit in terms), timedelta())
    if length > MAX_DURATION:
        raise ValidationFailed(f"{text!r} is longer than ten years", field=field, code=ErrorCode.INVALID_DURATION)
    if not length and not allow_zero:
        raise ValidationFailed(f"{text!r} is no time at all", field=field, code=ErrorCode.INVALID_DURATION)
    return length


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later (or earlier); a day the month lacks becomes its last day."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _midnight(day: date, zone: tzinfo) -> datetime:
    # Through UTC, so a midnight that does not exist (a DST change at 00:00) moves forward.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC).astimezone(zone)


def parse_moment(text: object, field: str, *, now: datetime, zone: tzinfo = UTC) -> datetime:
    """An instant (UTC) from absolute or relative text; relative text counts from ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(text, str) or not text.strip():
        raise _bad_moment(text, field)
    word = text.strip().lower()
    local_today = now.astimezone(zone).date()
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if word == "now":
        return now.astimezone(UTC)
    if word in named:
        return _midnight(local_today + timedelta(days=named[word]), zone).astimezone(UTC)
    relative = _relative(word, now)
    if relative is not None:
        return relative.astimezone(UTC)
    return _absolute(text.strip(), field, zone)


def _relative(word: str, now: datetime) -> datetime | None:
    sign = 1
    if word[:1] in "+-":
        sign = -1 if word[0] == "-" else 1
        word = word[1:]
    terms = _terms(word)
    if terms is None:
        return None
    moment = now.astimezone(UTC)
    try:
        for count, unit in terms:
            if unit in _MONTHS:
                moment = add_months(moment, sign * count * _MONTHS[unit])
            else:
                moment += sign * count * _UNITS[unit]
    except (OverflowError, ValueError):
        return None
    return moment


def _absolute(text: str, field: str, zone: tzinfo) -> datetime:
    try:
        if len(text) == 10:
            return _midnight(date.fromisoformat(text), zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError) as error:
        raise _bad_moment(text, field) from error
    if moment.tzinfo is None:
        # Wall-clock in the zone; a time in a DST gap moves forward, an ambiguous one is the first.
        moment = moment.replace(tzinfo=zone, fold=0)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # year 1 or 9999 with an offset leaves datetime's range
        raise _bad_moment(text, field) from error


def _bad_moment(text: object, field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{text!r} is not a timestamp or relative time (e.g. '2024-05-06T09:00:00Z', 'now', 'tomorrow', '2 weeks')",
        field=field,
        code=ErrorCode.INVALID_TIME,
    )
