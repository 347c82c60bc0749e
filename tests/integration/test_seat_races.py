"""The product's promise, under real concurrency on DynamoDB Local: no seat is ever
oversold, every state change is compare-and-set, seats come back exactly once.

Each race has a control that removes the guard and must break, which shows the
test can see the race it claims to win.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.seats import ENFORCED, UNCHECKED, SeatRule
from chalicelib.services.identity import companies
from chalicelib.services.selling import bookings, capacity
from chalicelib.services.selling.bookings import NewBooking
from chalicelib.store import keys, warm
from chalicelib.store.models import Booking
from tests.integration.races import hammer

pytestmark = pytest.mark.integration

EVENT = {"start": "2031-01-10T10:00:00+00:00", "end": "2031-01-10T11:00:00+00:00", "what": "Class"}
CUSTOMER = {"name": "Marty", "email": "marty@example.com"}


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _owner(company_id: int, seats: int, shards: int = 1) -> Booking:
    return bookings.create(
        company_id,
        NewBooking(graph="group_owner", event=EVENT, settings={"max_seats": seats, "capacity_shards": shards}),
    )


def _seat(company_id: int, owner: Booking, seats: int, rule: SeatRule = ENFORCED) -> Booking:
    return bookings.create(
        company_id,
        NewBooking(graph="group_customer", customer=CUSTOMER, owner_booking_id=owner.booking_id, seats=seats),
        rule=rule,
    )


def _flash_sale(company_id: int, shards: int, rule: SeatRule = ENFORCED) -> tuple[int, int, list[Any]]:
    owner = _owner(company_id, 50, shards)
    rng = random.Random(7)
    asks = [rng.randint(1, 3) for _ in range(400)]
    results = hammer(16, [partial(_seat, company_id, owner, n, rule) for n in asks])
    sold = sum(int(r.seats) for r in results if isinstance(r, Booking))
    group = bookings.group_booking(bookings.get(company_id, owner.booking_id))
    assert group is not None
    return sold, group["current_seats"], results


@pytest.mark.parametrize("shards", [1, 8])
def test_fifty_seats_never_oversell(company_id: int, shards: int) -> None:
    sold, current_seats, results = _flash_sale(company_id, shards)
    refusals = [r for r in results if not isinstance(r, Booking)]
    assert sold == current_seats
    assert sold <= 50
    assert sold >= 48  # a request for 2 or 3 may not fit the last seat or two
    assert refusals and all(isinstance(r, capacity.NoSpaceLeft) for r in refusals), {type(r) for r in refusals}
    assert all(r.code == "no_space_left" for r in refusals)


def test_control_without_the_capacity_condition_oversells(company_id: int) -> None:
    sold, current_seats, _results = _flash_sale(company_id, 1, UNCHECKED)
    assert current_seats == sold
    assert sold > 50, "with the capacity condition off the race must oversell, or the test cannot see it"


def test_confirm_and_decline_race_exactly_one_wins(company_id: int) -> None:
    rounds = 100
    wins = []
    for _ in range(rounds):
        booking = bookings.create(company_id, NewBooking(graph="confirm_decline", event=EVENT, customer=CUSTOMER))
        results = hammer(
            2,
            [
                partial(bookings.act, company_id, booking.booking_id, "confirm", {}),
                partial(bookings.act, company_id, booking.booking_id, "decline", {}),
            ],
        )
        won = [r for r in results if isinstance(r, Booking)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, results
        final = bookings.get(company_id, booking.booking_id)
        assert final.state == won[0].state and final.log_count == 2
        wins.append(final.state)
    assert set(wins) <= {"confirmed", "declined"}


def test_ten_concurrent_cancels_free_the_seat_once(company_id: int) -> None:
    owner = _owner(company_id, 5)
    seat = _seat(company_id, owner, 2)
    _seat(company_id, owner, 1)
    before = bookings.group_booking(bookings.get(company_id, owner.booking_id))
    assert before is not None and before["current_seats"] == 3
    results = hammer(10, [lambda: bookings.act(company_id, seat.booking_id, "cancel_by_customer", {})] * 10)
    assert sum(isinstance(r, Booking) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Booking))
    after = bookings.group_booking(bookings.get(company_id, owner.booking_id))
    assert after is not None and after["current_seats"] == 1 and after["available_seats"] == 4


def test_cancel_racing_the_owner_cascade_releases_each_seat_once(company_id: int) -> None:
    owner = _owner(company_id, 60, shards=4)
    seats = [_seat(company_id, owner, 1) for _ in range(30)]
    jobs: list[Callable[[], Any]] = [lambda: bookings.act(company_id, owner.booking_id, "cancel", {})]
    jobs += [partial(bookings.act, company_id, s.booking_id, "cancel_by_customer", {}) for s in seats[:10]]
    hammer(11, jobs)
    final_owner = bookings.get(company_id, owner.booking_id)
    assert final_owner.state == "cancelled"
    states = [bookings.get(company_id, s.booking_id).state for s in seats]
    assert set(states) <= {"cancelled_by_customer", "cancelled_by_owner"}
    group = bookings.group_booking(final_owner)
    assert group is not None and group["current_seats"] == 0 and group["available_seats"] == 60


@pytest.mark.parametrize("action", ["cancel", "complete"])
def test_a_remembered_open_group_takes_no_seat_once_it_stopped(company_id: int, action: str) -> None:
    """A seat booking reads its group as this process remembered it (store/warm.py, up to 5 s):
    here "tentative", while another process has since cancelled or completed the group. The
    group's shards, closed in the same transaction as that change, refuse the seat; the
    refusal reads the group afresh and says why."""
    owner = _owner(company_id, 10)
    _seat(company_id, owner, 1)  # remembers the owner, tentative
    stale = warm.read(company_id, f"group {owner.booking_id}", lambda: bookings.get(company_id, owner.booking_id))
    assert stale.state == "tentative"
    bookings.act(company_id, owner.booking_id, action, {})  # forgets this process's copy ...
    remembered = warm.read(company_id, f"group {owner.booking_id}", lambda: stale)  # ... as another process would not
    assert remembered.state == "tentative"
    with pytest.raises(Conflict) as refused:
        _seat(company_id, owner, 1)
    assert refused.value.code == "group_closed"
    group = bookings.group_booking(bookings.get(company_id, owner.booking_id))
    assert group is not None and group["current_seats"] == (1 if action == "complete" else 0)


def test_same_idempotency_key_twenty_times_at_once_makes_one_booking(company_id: int) -> None:
    from chalicelib.services.selling import idempotency

    def create() -> dict[str, Any]:
        booking = bookings.create(company_id, NewBooking(graph="instant", event=EVENT, customer=CUSTOMER))
        return {"status": 201, "body": {"id": booking.booking_id}, "headers": {}}

    fingerprint = {"operation": "POST /v2/bookings", "body": {"graph": "instant"}}
    results = hammer(20, [partial(idempotency.run_once, company_id, "same-key", fingerprint, create)] * 20)
    replies = [r for r in results if isinstance(r, dict)]
    in_flight = [r for r in results if isinstance(r, Conflict)]
    assert len(replies) + len(in_flight) == 20, results
    assert all(r.code == "idempotency_in_progress" for r in in_flight)
    assert len({reply["body"]["id"] for reply in replies}) == 1
    listed = [item for key in keys.company_booking_partitions(company_id) for item in Booking.listing.query(key)]
    assert len(listed) == 1
    # once the first has finished, a retry replays it
    replay = idempotency.run_once(company_id, "same-key", fingerprint, create)
    assert replay["body"]["id"] == replies[0]["body"]["id"]
