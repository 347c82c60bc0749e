"""Issue 4's proofs on DynamoDB Local: courses, recurring occurrences and basket holds under
real concurrency, on the same capacity items as /v2/bookings.

The threads call the services the basket routes call (chalice's test client keeps one
``current_request`` per app, so it cannot serve threads); the routes' own mapping of
these results (201, the NoSpaceLeftError body) is tested in tests/api/test_basket.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.services.catalogue import catalogue, events
from chalicelib.services.identity import companies
from chalicelib.services.selling import baskets, capacity
from chalicelib.store import keys
from chalicelib.store.models import Booking, Purchase
from tests.integration.races import hammer as _hammer

pytestmark = pytest.mark.integration


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _chain(company_id: int, **spec: Any) -> tuple[Any, list[Any]]:
    base = {"name": "Pottery", "start_date": "2031-01-06", "time": "09:00", "duration": 90, "spaces": 5}
    return events.create_chain(company_id, {**base, **spec})


def _book(company_id: int, n: int, event_id: int | None, chain_id: int | None) -> Purchase:
    """One booker's whole journey: add_item, then checkout with their own email."""
    picked = baskets.pick(company_id, event_id, chain_id)
    basket, _token = baskets.add_item(company_id, None, picked, 1)
    client = {"email": f"booker{n}@example.com", "first_name": "B", "last_name": str(n)}
    return baskets.checkout(company_id, basket.basket_id, baskets.CheckoutIn(client, None, [], {}))


def _bookings(company_id: int) -> list[Booking]:
    return [b for b in Booking.listing.query(keys.company_bookings(company_id)) if isinstance(b, Booking)]


def test_course_of_ten_events_fifty_bookers_five_win_everywhere(company_id: int) -> None:
    chain, created = _chain(company_id, session_type=1, repeat=1, end_date="2031-03-10")
    assert len(created) == 10
    results = _hammer(16, [partial(_book, company_id, n, None, int(chain.chain_id)) for n in range(50)])
    purchases = [r for r in results if isinstance(r, Purchase)]
    refused = [r for r in results if not isinstance(r, Purchase)]
    assert len(purchases) == 5
    assert all(isinstance(r, capacity.NoSpaceLeft) for r in refused), {type(r) for r in refused}
    assert all(len(p.booking_ids) == 10 for p in purchases)  # a space on every event, or none
    for event in created:
        seats = events.availability(event)
        assert (seats["spaces_booked"], seats["spaces_reserved"], seats["spaces_left"]) == (5, 0, 0)
    engine = _bookings(company_id)
    assert len(engine) == 50 and {b.state for b in engine} == {"confirmed"}
    per_event: dict[str, int] = {}
    for booking in engine:
        per_event[str(booking.capacity_id)] = per_event.get(str(booking.capacity_id), 0) + int(booking.seats)
    assert per_event == {event.capacity_id: 5 for event in created}


def test_recurring_occurrences_are_independent(company_id: int) -> None:
    _chain_item, created = _chain(company_id, session_type=2, repeat=1, end_date="2031-01-20", spaces=2)
    first, second, third = created
    results = _hammer(10, [partial(_book, company_id, n, int(first.event_id), None) for n in range(10)])
    assert sum(isinstance(r, Purchase) for r in results) == 2
    assert events.availability(first)["spaces_left"] == 0
    assert [events.availability(e)["spaces_left"] for e in (second, third)] == [2, 2]
    _book(company_id, 99, int(second.event_id), None)
    assert [events.availability(e)["spaces_booked"] for e in created] == [2, 1, 0]


def test_hundred_add_items_on_twenty_spaces_then_the_holds_lapse(
    company_id: int, travel: Callable[[float], None]
) -> None:
    _chain_item, (event,) = _chain(company_id, spaces=20)
    picked = baskets.pick(company_id, int(event.event_id), None)
    results = _hammer(16, [partial(baskets.add_item, company_id, None, picked, 1)] * 100)
    held = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if not isinstance(r, tuple)]
    assert len(held) == 20 and len(refused) == 80
    assert all(isinstance(r, capacity.NoSpaceLeft) for r in refused)
    seats = events.availability(event)
    assert (seats["spaces_reserved"], seats["spaces_left"]) == (20, 0)
    travel(15 * 60 + 1)  # every hold lapses; no sweeper runs
    seats = events.availability(event)
    assert (seats["spaces_reserved"], seats["spaces_left"]) == (0, 20)
    again = _hammer(16, [partial(baskets.add_item, company_id, None, picked, 1)] * 30)
    assert sum(isinstance(r, tuple) for r in again) == 20, {type(r).__name__ for r in again}
    seats = events.availability(event)
    assert (seats["spaces_reserved"], seats["spaces_booked"], seats["spaces_left"]) == (20, 0, 0)
    # a basket from before the lapse cannot check out: nothing is booked
    basket, _token = held[0]
    with pytest.raises(Conflict) as lapsed:
        baskets.checkout(company_id, basket.basket_id, baskets.CheckoutIn({"email": "x@example.com"}, None, [], {}))
    assert lapsed.value.code == "hold_expired"
    assert events.availability(event)["spaces_booked"] == 0


def test_concurrent_cancels_of_one_purchase_free_each_space_once(company_id: int) -> None:
    chain, created = _chain(company_id, session_type=1, repeat=1, end_date="2031-01-20", spaces=3)
    purchase = _book(company_id, 1, None, int(chain.chain_id))
    _book(company_id, 2, None, int(chain.chain_id))
    results = _hammer(8, [partial(baskets.cancel, company_id, purchase, by_admin=True)] * 8)
    assert all(isinstance(r, Purchase) and r.status == "cancelled" for r in results), results
    for event in created:
        seats = events.availability(event)
        assert (seats["spaces_booked"], seats["spaces_left"]) == (1, 2)


def test_two_checkouts_of_one_basket_book_once(company_id: int) -> None:
    _chain_item, (event,) = _chain(company_id, spaces=5, max_num_bookings=10)
    picked = baskets.pick(company_id, int(event.event_id), None)
    basket, _token = baskets.add_item(company_id, None, picked, 2)
    given = baskets.CheckoutIn({"email": "one@example.com", "first_name": "O", "last_name": "N"}, None, [], {})
    results = _hammer(6, [partial(baskets.checkout, company_id, basket.basket_id, given)] * 6)
    assert sum(isinstance(r, Purchase) for r in results) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Purchase)), results
    seats = events.availability(event)
    assert (seats["spaces_booked"], seats["spaces_reserved"]) == (2, 0)
    assert len(_bookings(company_id)) == 1


def test_twenty_first_bookers_of_a_service_slot_open_it_once_and_three_hold(
    company_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = catalogue.create_service(
        company_id,
        {"name": "Sauna", "durations": [60], "prices": [900], "spaces": 3, "max_advance_period": 10 * 366 * 86_400},
    )
    opened: list[bool] = []
    real_open = capacity.open_once

    def counted(capacity_id: str, owner: int, total: int) -> bool:
        result = real_open(capacity_id, owner, total)
        opened.append(result)  # list.append is atomic under the GIL
        return result

    monkeypatch.setattr(capacity, "open_once", counted)

    def add(_n: int) -> Any:
        picked = baskets.pick_slot(company_id, int(service.service_id), "2031-01-07", 10 * 60, None)
        return baskets.add_item(company_id, None, picked, 1)

    results = _hammer(16, [partial(add, n) for n in range(20)])
    held = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if not isinstance(r, tuple)]
    assert len(held) == 3 and len(refused) == 17, {repr(r) for r in refused}
    assert all(isinstance(r, capacity.NoSpaceLeft) for r in refused), {type(r).__name__ for r in refused}
    assert len(opened) == 20 and opened.count(True) == 1  # every taker tried; exactly one opened it
    slot = keys.slot_capacity(int(service.service_id), "20310107T100000Z", 60)  # January: London is UTC
    (shard,) = capacity._shard_items(slot, 1)
    assert (int(shard.capacity), int(shard.held), int(shard.booked), int(shard.available)) == (3, 3, 0, 0)
    basket, _token = held[0]
    given = baskets.CheckoutIn({"email": "s@example.com", "first_name": "S", "last_name": "L"}, None, [], {})
    purchase = baskets.checkout(company_id, basket.basket_id, given)
    (booking,) = _bookings(company_id)
    assert booking.booking_id == purchase.booking_ids[0] and booking.capacity_id == slot
    assert capacity.read(slot, 1) == capacity.Availability(capacity=3, booked=1, held=2, available=0, open=True)
