"""Availability: which times of ``length`` each resource can take, in Timekit's modes. Pure.

Per resource: the schedule's allowed intervals (its own constraints, then the project's
and the request's levels, all in its zone) minus its busy intervals, each padded by the
request's ``buffer``. Slots start on a grid of ``increments`` (default ``length``)
anchored at the start of each allowed interval, so a 09:00 opening gives 09:00, 10:00 ...
and slots after a 12:00-12:30 break start at 12:30; bookings do not move the grid. The
schedule is evaluated from local midnight of the window's first day, so the grid does not
depend on when the question is asked; slots before ``from`` or ``now`` are dropped.

Modes (Timekit):

- ``roundrobin_prioritized``: a slot when any resource is free; the first free one in
  request order takes it;
- ``roundrobin_random``: the same with the resources shuffled once per request (the
  order is sticky for the whole answer, as Timekit's is);
- ``exclusive``: a slot when any is free, listing every free one;
- ``mutual``: a slot only when all are free at once (their schedules intersected).

Every step is a sweep over sorted intervals: the cost is linear in constraints, busy
intervals and slots, never slots x bookings.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.durations import add_months, parse_duration, parse_moment
from chalicelib.domain.errors import ErrorCode, ValidationFailed
from chalicelib.domain.intervals import Span, intersect, normalise, pad, subtract, union
from chalicelib.domain.schedules import Constraint, allowed
from chalicelib.domain.time_claims import MAX_LENGTH

DEFAULT_FROM = "now"
DEFAULT_TO = "4 weeks"
DEFAULT_LENGTH = "1 hour"
MAX_WINDOW_MONTHS = 6  # calendar months: "6 months" from any date is allowed
MAX_SLOTS = 10_000  # one answer; a smaller window or larger increments ask for fewer
MIN_INCREMENT = timedelta(minutes=1)
MAX_BUFFER = timedelta(days=1)


class Mode(StrEnum):
    ROUNDROBIN_RANDOM = "roundrobin_random"
    ROUNDROBIN_PRIORITIZED = "roundrobin_prioritized"
    EXCLUSIVE = "exclusive"
    MUTUAL = "mutual"


@dataclass(frozen=True)
class Resource:
    """A resource as availability sees it: its schedule and what keeps it busy."""

    id: str
    name: str
    zone: ZoneInfo
    constraints: Sequence[Constraint] = ()
    busy: Sequence[Span] = ()  # any order; already padded by each claim's own before/after


@dataclass(frozen=True)
class Question:
    window: Span
    length: timedelta
    increments: timedelta | None = None
    buffer: timedelta = timedelta()
    mode: Mode = Mode.ROUNDROBIN_RANDOM
    levels: Sequence[Sequence[Constraint]] = ()  # project and request constraints

    @property
    def step(self) -> timedelta:
        return self.increments or self.length


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    resources: tuple[Resource, ...]


def parse_window(raw_from: object, raw_to: object, now: datetime) -> Span:
    """``from``/``to`` (absolute or relative, defaults "now" and "4 weeks"), at most 6 months apart."""
    start = parse_moment(DEFAULT_FROM if raw_from is None else raw_from, "from", now=now)
    end = parse_moment(DEFAULT_TO if raw_to is None else raw_to, "to", now=now)
    if end <= start:
        raise ValidationFailed("to is after from", field="to", code=ErrorCode.INVALID_INTERVAL)
    if end > add_months(start, MAX_WINDOW_MONTHS):
        raise ValidationFailed(
            f"availability is searched at most {MAX_WINDOW_MONTHS} months at once",
            field="to",
            code=ErrorCode.WINDOW_TOO_LONG,
        )
    return Span(start, end)


def parse_length(raw: object, field: str = "length") -> timedelta:
    length = parse_duration(DEFAULT_LENGTH if raw is None else raw, field)
    _check_minutes(length, field)
    if length > MAX_LENGTH:
        raise ValidationFailed(
            f"a slot is at most {MAX_LENGTH.days} days long", field=field, code=ErrorCode.LENGTH_TOO_LONG
        )
    return length


def parse_increments(raw: object, field: str = "timeslot_increments") -> timedelta | None:
    if raw is None:
        return None
    step = parse_duration(raw, field)
    _check_minutes(step, field)
    return step


def parse_buffer(raw: object, field: str = "buffer") -> timedelta:
    if raw is None:
        return timedelta()
    buffer = parse_duration(raw, field, allow_zero=True)
    _check_minutes(buffer, field)
    if buffer > MAX_BUFFER:
        raise ValidationFailed("a buffer is at most one day", field=field, code=ErrorCode.BUFFER_TOO_LONG)
    return buffer


def _check_minutes(length: timedelta, field: str) -> None:
    if length % MIN_INCREMENT:
        raise ValidationFailed("durations here are whole minutes", field=field, code=ErrorCode.INVALID_DURATION)


def find(
    resources: Sequence[Resource], question: Question, *, now: datetime, rng: random.Random | None = None
) -> list[Slot]:
    """The slots of ``question`` over ``resources`` (request order), by start time."""
    unique = list({r.id: r for r in reversed(resources)}.values())  # one per id: its first mention
    unique.reverse()
    if not unique:
        return []
    earliest = max(question.window.start, now)
    if question.mode is Mode.MUTUAL:
        each = [_free(r, question) for r in unique]
        schedule = _intersect_all([spans for spans, _ in each])
        busy = union(*(busy for _, busy in each))
        starts = _starts(schedule, subtract(schedule, busy), question, earliest)
        return [Slot(s, s + question.length, tuple(unique)) for s in starts]

    order = list(unique)
    if question.mode is Mode.ROUNDROBIN_RANDOM:
        (rng or random.Random()).shuffle(order)
    free_at: dict[datetime, list[Resource]] = {}
    for resource in order:
        schedule, busy = _free(resource, question)
        for start in _starts(schedule, subtract(schedule, busy), question, earliest):
            free_at.setdefault(start, []).append(resource)
        if len(free_at) > MAX_SLOTS:
            raise _too_many()
    slots = []
    for start in sorted(free_at):
        taking = free_at[start]
        if question.mode is Mode.EXCLUSIVE:
            # Listed in request order, whatever order they were searched in.
            ids = {r.id for r in taking}
            chosen = tuple(r for r in unique if r.id in ids)
        else:
            chosen = (taking[0],)
        slots.append(Slot(start, start + question.length, chosen))
    return slots


def _free(resource: Resource, question: Question) -> tuple[list[Span], list[Span]]:
    """(allowed intervals, buffered busy intervals) of one resource, UTC."""
    zone = resource.zone
    first_day = question.window.start.astimezone(zone).date()
    # From local midnight, so the grid anchors on the schedule, not on the moment asked.
    midnight = datetime.combine(first_day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    scope = Span(min(midnight, question.window.start), question.window.end)
    schedule = allowed([resource.constraints, *question.levels], zone, scope)
    busy = pad(normalise(resource.busy), question.buffer, question.buffer)
    return schedule, busy


def _intersect_all(lists: Sequence[list[Span]]) -> list[Span]:
    result = lists[0]
    for spans in lists[1:]:
        result = intersect(result, spans)
    return result


def _starts(schedule: list[Span], free: list[Span], question: Question, earliest: datetime) -> list[datetime]:
    """Grid starts (anchored per schedule interval) whose whole slot lies in one free interval.

    ``free`` is ``schedule`` minus busy time, so each free interval lies inside exactly one
    schedule interval, and both are sorted: one pointer finds each one's anchor."""
    length, step = question.length, question.step
    starts: list[datetime] = []
    anchor_index = 0
    for span in free:
        while schedule[anchor_index].end < span.end:
            anchor_index += 1
        anchor = schedule[anchor_index].start
        first = max(span.start, earliest)
        steps = -((anchor - first) // step)  # ceiling division: the first grid point at or after ``first``
        start = anchor + steps * step
        while start + length <= span.end:
            starts.append(start)
            start += step
        if len(starts) > MAX_SLOTS:
            raise _too_many()
    return starts


def _too_many() -> ValidationFailed:
    return ValidationFailed(
        f"more than {MAX_SLOTS} slots; ask for a shorter window or larger timeslot_increments",
        field="to",
        code=ErrorCode.TOO_MANY_SLOTS,
    )


def as_timekit(slots: Sequence[Slot], output_zone: ZoneInfo) -> list[dict[str, Any]]:
    """Timekit's answer: times in ``output_zone`` with their offset, resources as objects."""
    return [
        {
            "start": slot.start.astimezone(output_zone).isoformat(),
            "end": slot.end.astimezone(output_zone).isoformat(),
            "resources": [{"id": r.id, "name": r.name, "timezone": r.zone.key} for r in slot.resources],
        }
        for slot in slots
    ]
