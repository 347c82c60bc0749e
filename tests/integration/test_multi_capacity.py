"""Seats on several capacities in one transaction, on DynamoDB Local: all or none; holds
converted into bookings of a capacity the booking does not own; cancelling frees them once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict
from chalicelib.services.identity import companies
from chalicelib.services.selling import bookings, capacity, holds
from chalicelib.services.selling.bookings import NewBooking
from chalicelib.store import transact
from chalicelib.store.models import Booking
from tests.integration.races import hammer as _hammer

pytestmark = pytest.mark.integration

EVENT = {"start": "2031-01-10T10:00:00+00:00", "end": "2031-01-10T11:00:00+00:00", "what": "Class"}


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _open(company_id: int, capacity_id: str, seats: int, shards: int = 1) -> None:
    transact.run(lambda tx: capacity.open_capacity(tx, capacity_id, company_id, seats, shards))


def _asks(names: list[str], seats: int = 1, shards: int = 1) -> list[holds.HoldAsk]:
    return [holds.HoldAsk(name, seats, shards, {"event": name}) for name in names]


def test_a_take_on_several_capacities_is_all_or_none(company_id: int) -> None:
    names = [f"C{i}" for i in range(4)]
    for name in names:
        _open(company_id, name, 3)
    _open(company_id, "SMALL", 1)
    placed = holds.place_many(company_id, _asks(names, seats=2), 900)
    assert len(placed) == 4 and all(capacity.read(n, 1).held == 2 for n in names)
    with pytest.raises(capacity.NoSpaceLeft) as refused:
        holds.place_many(company_id, _asks([*names[:2], "SMALL"], seats=1) + _asks(names[2:], seats=2), 900)
    assert refused.value.extra["capacity_id"] in names[2:]
    # nothing of the refused take stayed anywhere
    assert [capacity.read(n, 1).held for n in names] == [2, 2, 2, 2]
    assert capacity.read("SMALL", 1).available == 1


def test_sharded_capacities_split_and_lapsed_holds_are_reclaimed(
    company_id: int, travel: Callable[[float], None]
) -> None:
    _open(company_id, "BIG", 8, shards=4)
    _open(company_id, "ONE", 2)
    # 2 seats on BIG's first shard (asked as one shard), so 6 more only fit split over the other three
    holds.place_many(company_id, [holds.HoldAsk("BIG", 2, 1, {}), holds.HoldAsk("ONE", 2, 1, {})], 60)
    assert capacity.read("ONE", 1).available == 0
    with pytest.raises(capacity.NoSpaceLeft):
        holds.place_many(company_id, [holds.HoldAsk("ONE", 1, 1, {})], 60)
    travel(120)  # the holds lapse
    assert capacity.read("ONE", 1).available == 2  # on read, before any sweep
    placed = holds.place_many(company_id, [holds.HoldAsk("BIG", 6, 4, {}), holds.HoldAsk("ONE", 2, 1, {})], 60)
    big = capacity.from_list(placed[0].seat_shards)
    assert sum(big.values()) == 6
    assert capacity.read("BIG", 4).held == 6 and capacity.read("ONE", 1).held == 2


def test_course_race_all_or_nothing_under_contention(company_id: int) -> None:
    names = [f"EV{i}" for i in range(10)]
    for name in names:
        _open(company_id, name, 5)
    results = _hammer(16, [lambda: holds.place_many(company_id, _asks(names), 900)] * 50)
    won = [r for r in results if isinstance(r, list)]
    assert len(won) == 5
    assert all(isinstance(r, capacity.NoSpaceLeft) for r in results if not isinstance(r, list))
    for name in names:
        seats = capacity.read(name, 1)
        assert (seats.held, seats.available) == (5, 0)


def test_held_seats_become_a_booking_that_releases_them_once(company_id: int) -> None:
    _open(company_id, "EVENT-1", 3)
    (hold,) = holds.place_many(company_id, [holds.HoldAsk("EVENT-1", 2, 1, {})], 900)
    new = NewBooking(graph="instant", event=EVENT, customer={"name": "Ann", "email": "ann@example.com"})
    booking, writes = bookings.from_hold(company_id, new, hold, clock.now())
    transact.run(writes)
    stored = bookings.get(company_id, booking.booking_id)
    assert (stored.state, stored.capacity_id, int(stored.seats)) == ("confirmed", "EVENT-1", 2)
    seats = capacity.read("EVENT-1", 1)
    assert (seats.booked, seats.held, seats.available) == (2, 0, 1)
    with pytest.raises(Conflict):
        bookings.reschedule(company_id, booking.booking_id, "2031-02-01T10:00:00Z", "2031-02-01T11:00:00Z", None)
    results = _hammer(8, [lambda: bookings.act(company_id, booking.booking_id, "cancel", {})] * 8)
    assert sum(isinstance(r, Booking) for r in results) == 1
    seats = capacity.read("EVENT-1", 1)
    assert (seats.booked, seats.available) == (0, 3)


def test_a_lapsed_hold_cannot_become_a_booking(company_id: int, travel: Callable[[float], None]) -> None:
    _open(company_id, "EVENT-2", 1)
    (hold,) = holds.place_many(company_id, [holds.HoldAsk("EVENT-2", 1, 1, {})], 60)
    travel(61)
    _booking, writes = bookings.from_hold(company_id, NewBooking(graph="instant", event=EVENT), hold, clock.now())
    with pytest.raises(TransactWriteError) as error:
        transact.run(writes)
    assert transact.failed_condition(error.value)
    assert capacity.read("EVENT-2", 1).booked == 0
