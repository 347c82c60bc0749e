"""Availability: slots from schedules minus busy time, in Timekit's modes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.availability import (
    Mode,
    Question,
    Resource,
    Slot,
    as_timekit,
    find,
    parse_buffer,
    parse_increments,
    parse_length,
    parse_window,
)
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.intervals import Span, normalise, pad
from chalicelib.domain.schedules import allowed, parse_constraints

MONDAY = datetime(2024, 1, 1, tzinfo=UTC)  # 1 January 2024 is a Monday
NOW = MONDAY - timedelta(days=1)
HOUR = timedelta(hours=1)
UTC_ZONE = ZoneInfo("UTC")
FIRST_DAY = Span(MONDAY, MONDAY + timedelta(days=1))
NINE_TO_FIVE = parse_constraints([{"allow_hours": {"start": 9, "end": 17}}], "c")


def at(hours: float, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hours)


def busy(*pairs: tuple[float, float]) -> list[Span]:
    return [Span(at(a), at(b)) for a, b in pairs]


def resource(rid: str, *pairs: tuple[float, float], zone: str = "UTC", constraints: Any = NINE_TO_FIVE) -> Resource:
    return Resource(rid, rid.title(), ZoneInfo(zone), constraints, busy(*pairs))


def ask(
    *resources: Resource,
    mode: Mode = Mode.ROUNDROBIN_PRIORITIZED,
    window: Span = FIRST_DAY,
    length: timedelta = HOUR,
    increments: timedelta | None = None,
    buffer: timedelta = timedelta(),
    now: datetime = NOW,
    levels: Any = (),
    rng: random.Random | None = None,
) -> list[Slot]:
    question = Question(window, length, increments, buffer, mode, levels)
    return find(list(resources), question, now=now, rng=rng)


def starts(slots: list[Slot]) -> list[float]:
    return [(s.start - MONDAY) / HOUR for s in slots]


def test_a_day_of_hourly_slots() -> None:
    slots = ask(resource("doc"))
    assert starts(slots) == [9, 10, 11, 12, 13, 14, 15, 16]
    assert all(s.end - s.start == HOUR and [r.id for r in s.resources] == ["doc"] for s in slots)


def test_bookings_remove_slots_but_do_not_move_the_grid() -> None:
    assert starts(ask(resource("doc", (10.25, 10.75)))) == [9, 11, 12, 13, 14, 15, 16]


def test_buffer_pads_every_busy_interval() -> None:
    slots = ask(resource("doc", (11, 12)), buffer=timedelta(minutes=15))
    assert starts(slots) == [9, 13, 14, 15, 16]


def test_increments_and_breaks() -> None:
    half = timedelta(minutes=30)
    assert starts(ask(resource("doc"), increments=half))[:3] == [9, 9.5, 10]
    assert starts(ask(resource("doc"), increments=half))[-1] == 16
    lunch = parse_constraints(
        [{"allow_hours": {"start": 9, "end": 17}}, {"block_hours": {"start": 12, "end": "12:30"}}], "c"
    )
    assert starts(ask(resource("doc", constraints=lunch))) == [9, 10, 11, 12.5, 13.5, 14.5, 15.5]


def test_the_grid_does_not_depend_on_when_you_ask() -> None:
    later = at(10, 0) + timedelta(minutes=20, seconds=7)
    window = Span(later, at(0, 1))
    assert starts(ask(resource("doc"), window=window, now=later)) == [11, 12, 13, 14, 15, 16]
    # No constraint at all: the grid is anchored at local midnight, so slots are on the hour.
    free = resource("doc", constraints=())
    assert starts(ask(free, window=window, now=later))[:2] == [11, 12]
    # And nothing in the past is offered, whatever from says.
    assert starts(ask(resource("doc"), now=at(14.5)))[0] == 15


def test_slots_stay_inside_the_window() -> None:
    window = Span(at(9.5), at(12.5))
    assert starts(ask(resource("doc"), window=window)) == [10, 11]


def test_project_and_request_levels_narrow_every_resource() -> None:
    mornings = [parse_constraints([{"allow_hours": {"start": 8, "end": 12}}], "constraints")]
    assert starts(ask(resource("doc"), levels=mornings)) == [9, 10, 11]


def test_prioritized_takes_the_first_free_in_request_order() -> None:
    a, b = resource("a", (9, 11)), resource("b", (13, 14))
    slots = ask(a, b)
    assert [(t, s.resources[0].id) for t, s in zip(starts(slots), slots, strict=True)] == [
        (9, "b"),
        (10, "b"),
        (11, "a"),
        (12, "a"),
        (13, "a"),
        (14, "a"),
        (15, "a"),
        (16, "a"),
    ]


def test_random_is_shuffled_once_and_sticky() -> None:
    rs = [resource(name) for name in "abcde"]
    picked = {s.resources[0].id for s in ask(*rs, mode=Mode.ROUNDROBIN_RANDOM, rng=random.Random(7))}
    assert len(picked) == 1  # all free: the first of the shuffled order keeps every slot
    firsts = {ask(*rs, mode=Mode.ROUNDROBIN_RANDOM, rng=random.Random(seed))[0].resources[0].id for seed in range(40)}
    assert len(firsts) > 1  # and which one that is varies with the shuffle
    order = ["a", "b", "c", "d", "e"]
    random.Random(7).shuffle(order)
    assert picked == {order[0]}


def test_exclusive_lists_every_free_resource_in_request_order() -> None:
    slots = ask(resource("b", (9, 10)), resource("a"), resource("c", (9, 12)), mode=Mode.EXCLUSIVE)
    assert [[r.id for r in s.resources] for s in slots[:4]] == [["a"], ["b", "a"], ["b", "a"], ["b", "a", "c"]]


def test_mutual_needs_everyone_and_intersects_schedules() -> None:
    late = parse_constraints([{"allow_hours": {"start": "09:30", "end": "17:30"}}], "c")
    slots = ask(resource("a", (12, 13)), resource("b", constraints=late), mode=Mode.MUTUAL)
    assert starts(slots) == [9.5, 10.5, 13.5, 14.5, 15.5]
    assert all([r.id for r in s.resources] == ["a", "b"] for s in slots)


def test_duplicates_and_no_resources() -> None:
    assert ask() == []
    slots = ask(resource("a"), resource("a"), mode=Mode.EXCLUSIVE)
    assert all(len(s.resources) == 1 for s in slots)


def test_each_resource_in_its_own_zone_and_output_in_another() -> None:
    la = resource("la", zone="America/Los_Angeles")
    ny = resource("ny", zone="America/New_York")
    day = Span(datetime(2024, 5, 6, 4, tzinfo=UTC), datetime(2024, 5, 7, 4, tzinfo=UTC))  # a NY day
    slots = ask(la, ny, mode=Mode.EXCLUSIVE, window=day)
    body = as_timekit(slots, ZoneInfo("America/New_York"))
    assert body[0] == {
        "start": "2024-05-06T09:00:00-04:00",
        "end": "2024-05-06T10:00:00-04:00",
        "resources": [{"id": "ny", "name": "Ny", "timezone": "America/New_York"}],
    }
    assert body[-1]["end"] == "2024-05-06T20:00:00-04:00"  # LA's 17:00
    assert body[-1]["resources"] == [{"id": "la", "name": "La", "timezone": "America/Los_Angeles"}]


def test_dst_keeps_slots_on_the_wall_clock() -> None:
    london = resource("doc", zone="Europe/London")
    week = Span(datetime(2024, 3, 29, tzinfo=UTC), datetime(2024, 4, 3, tzinfo=UTC))
    slots = ask(london, window=week, now=week.start)
    body = as_timekit(slots, ZoneInfo("Europe/London"))
    assert {b["start"][11:] for b in body[:8]} == {f"{h:02d}:00:00+00:00" for h in range(9, 17)}
    assert {b["start"][11:] for b in body[-8:]} == {f"{h:02d}:00:00+01:00" for h in range(9, 17)}


def test_too_many_slots_is_a_clear_422() -> None:
    anytime = resource("a", constraints=())
    with pytest.raises(ValidationFailed) as caught:
        ask(anytime, window=Span(MONDAY, MONDAY + timedelta(days=120)), increments=timedelta(minutes=5))
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "too_many_slots", "to")


def test_window_parsing() -> None:
    now = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
    assert parse_window(None, None, now) == Span(now, now + timedelta(weeks=4))
    assert parse_window("tomorrow", "3 days 2 weeks", now) == Span(
        datetime(2024, 5, 7, tzinfo=UTC), now + timedelta(days=17)
    )
    assert parse_window("now", "6 months", now).end == datetime(2024, 11, 6, 9, 30, tzinfo=UTC)
    for raw_from, raw_to, code in (
        ("now", "7 months", "window_too_long"),
        ("2 weeks", "1 week", "invalid_interval"),
        ("now", "someday", "invalid_time"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            parse_window(raw_from, raw_to, now)
        assert (caught.value.code, caught.value.field) == (code, "to")


def test_duration_fields() -> None:
    assert parse_length(None) == HOUR
    assert parse_increments(None) is None
    assert parse_increments("15 minutes") == timedelta(minutes=15)
    assert parse_buffer(None) == timedelta()
    assert parse_buffer("0 minutes") == timedelta()
    for call, raw, field in (
        (parse_length, "90 seconds", "length"),
        (parse_length, "8 days", "length"),
        (parse_length, "0 minutes", "length"),
        (parse_increments, "0 minutes", "timeslot_increments"),
        (parse_buffer, "2 days", "buffer"),
        (parse_buffer, "soon", "buffer"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            call(raw)
        assert caught.value.field == field


def test_a_busy_month_for_ten_resources_offers_only_free_slots() -> None:
    """Speed is measured by `make bench` (availability); here: a realistic month stays correct."""
    rng = random.Random(1)
    month = Span(MONDAY, MONDAY + timedelta(days=31))
    weekdays = parse_constraints([{"allow_hours": {"start": 9, "end": 17}}, {"block_weekends": {}}], "c")
    resources = []
    for n in range(10):
        # About 60% of working hours taken, in 30-minute bookings.
        booked = [
            Span(at(h, d), at(h, d) + timedelta(minutes=30))
            for d in range(31)
            for h in (9 + k / 2 for k in range(16))
            if rng.random() < 0.6
        ]
        resources.append(Resource(f"r{n}", f"R{n}", UTC_ZONE, weekdays, booked))
    question = Question(month, timedelta(minutes=30), mode=Mode.ROUNDROBIN_RANDOM)
    slots = find(resources, question, now=NOW, rng=rng)
    assert len(as_timekit(slots, ZoneInfo("Europe/London"))) > 300
    busy = {r.id: r.busy for r in resources}
    for slot in slots:
        (taken,) = slot.resources
        assert not any(b.start < slot.end and slot.start < b.end for b in busy[taken.id]), slot


# --- properties ---------------------------------------------------------------------------------

quarter_hours = st.integers(0, 4 * 48).map(lambda q: MONDAY + timedelta(minutes=15 * q))
busy_lists = st.lists(
    st.tuples(quarter_hours, st.integers(1, 12)).map(lambda p: Span(p[0], p[0] + timedelta(minutes=15 * p[1]))),
    max_size=8,
)
constraint_sets = st.sampled_from(
    [
        [],
        [{"allow_hours": {"start": 9, "end": 17}}],
        [{"allow_hours": {"start": "08:15", "end": "12:45"}}, {"allow_hours": {"start": 14, "end": 20}}],
        [{"allow_hours": {"start": 22, "end": 6}}, {"block_hours": {"start": 1, "end": 2}}],
        [{"block_hours": {"start": 12, "end": 13}}],
    ]
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(constraint_sets, busy_lists), min_size=1, max_size=4),
    st.sampled_from(list(Mode)),
    st.sampled_from([15, 30, 60, 90]),
    st.sampled_from([None, 15, 45]),
    st.sampled_from([0, 10, 30]),
    st.integers(0, 2**32),
)
def test_slots_are_free_inside_the_schedule_and_obey_the_mode(
    specs: list[tuple[list[dict[str, Any]], list[Span]]],
    mode: Mode,
    length_minutes: int,
    increment_minutes: int | None,
    buffer_minutes: int,
    seed: int,
) -> None:
    resources = [
        Resource(f"r{i}", f"R{i}", UTC_ZONE, parse_constraints(raw, "c"), spans) for i, (raw, spans) in enumerate(specs)
    ]
    window = Span(MONDAY, MONDAY + timedelta(days=2))
    length = timedelta(minutes=length_minutes)
    increments = None if increment_minutes is None else timedelta(minutes=increment_minutes)
    buffer = timedelta(minutes=buffer_minutes)
    slots = ask(
        *resources,
        mode=mode,
        window=window,
        length=length,
        increments=increments,
        buffer=buffer,
        rng=random.Random(seed),
    )
    assert [s.start for s in slots] == sorted({s.start for s in slots})
    for slot in slots:
        assert slot.end - slot.start == length
        assert window.start <= slot.start and slot.end <= window.end
        for r in slot.resources:
            schedule = allowed([r.constraints], r.zone, window)
            assert any(span.contains(Span(slot.start, slot.end)) for span in schedule)
            assert not any(b.overlaps(Span(slot.start, slot.end)) for b in pad(normalise(r.busy), buffer, buffer))
    alone = {
        r.id: {s.start for s in ask(r, window=window, length=length, increments=increments, buffer=buffer)}
        for r in resources
    }
    offered = set().union(*alone.values())
    if mode is Mode.MUTUAL:
        assert all(len(s.resources) == len(resources) for s in slots)
    elif mode is Mode.EXCLUSIVE:
        assert {s.start for s in slots} == offered
        for slot in slots:
            assert [r.id for r in slot.resources] == [r.id for r in resources if slot.start in alone[r.id]]
    else:
        assert {s.start for s in slots} == offered
        assert all(len(s.resources) == 1 for s in slots)
        if mode is Mode.ROUNDROBIN_PRIORITIZED:
            for slot in slots:
                assert slot.resources[0].id == next(r.id for r in resources if slot.start in alone[r.id])
