"""Waitlist promotion under real concurrency on DynamoDB Local (issue 14, section 5).

A full group of 10, 30 customers queued. Ten seat holders cancel at once while ten
outside bookers keep trying to book. Every freed seat must go to the queue, in join
order, each seat once, and no outsider may book: the offer's hold is placed in the
transaction that frees the seat. The control promotes in a transaction of its own
after the seat was freed (a parameter, ``Promotion.AFTERWARDS``) and must let outsiders
in, which the test asserts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from chalicelib.domain.lifecycle import HoldStatus
from chalicelib.services.identity import companies
from chalicelib.services.selling import bookings, capacity, holds, waitlist
from chalicelib.services.selling.bookings import NewBooking
from chalicelib.services.selling.waitlist import EntryStatus, Promotion, Queue
from chalicelib.store import keys
from chalicelib.store.models import Booking, Hold, WaitlistEntry
from tests.integration.races import hammer

pytestmark = pytest.mark.integration

EVENT = {"start": "2031-01-10T10:00:00+00:00", "end": "2031-01-10T11:00:00+00:00", "what": "Class"}
SEATS = 10
WAITING = 30
OUTSIDERS = 10


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _seat(company_id: int, owner: Booking, who: str) -> Booking:
    return bookings.create(
        company_id,
        NewBooking(
            graph="group_customer",
            customer={"name": who, "email": f"{who}@example.com"},
            owner_booking_id=owner.booking_id,
        ),
    )


def _full_group_with_queue(company_id: int) -> tuple[Booking, list[Booking], list[WaitlistEntry]]:
    owner = bookings.create(
        company_id, NewBooking(graph="group_owner", event=EVENT, settings={"max_seats": SEATS, "capacity_shards": 1})
    )
    seated = [_seat(company_id, owner, f"seat{n}") for n in range(SEATS)]
    queue = Queue(company_id, owner.capacity_id or "", 1, owner_booking_id=owner.booking_id)
    queued = [waitlist.join(queue, {"name": f"w{n}", "email": f"w{n}@example.com"}, 1, 1800) for n in range(WAITING)]
    return owner, seated, queued


def _race(company_id: int, promotion: Promotion) -> tuple[Booking, list[WaitlistEntry], list[Any]]:
    owner, seated, queued = _full_group_with_queue(company_id)
    cancelled = threading.Semaphore(0)
    done = threading.Event()

    def cancel(seat: Booking) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return bookings.act(company_id, seat.booking_id, "cancel_by_customer", {}, promotion=promotion)
            finally:
                cancelled.release()

        return run

    def outsider(n: int) -> Callable[[], Any]:
        def run() -> Any:
            # Keep trying until every cancel has committed, then once more.
            while True:
                last = done.is_set()
                try:
                    return _seat(company_id, owner, f"outsider{n}")
                except capacity.NoSpaceLeft:
                    if last:
                        return None
                time.sleep(0.01)

        return run

    def referee() -> None:
        for _ in range(SEATS):
            cancelled.acquire()
        done.set()

    watcher = threading.Thread(target=referee)
    watcher.start()
    results = hammer(SEATS + OUTSIDERS, [cancel(s) for s in seated] + [outsider(n) for n in range(OUTSIDERS)])
    watcher.join()
    return owner, queued, results


def _check(company_id: int, owner: Booking, queued: list[WaitlistEntry], results: list[Any]) -> None:
    outsiders = [r for r in results if isinstance(r, Booking) and str(r.customer["name"]).startswith("outsider")]
    assert outsiders == [], "an outside booker took a freed seat"
    entries = [waitlist.get(company_id, owner.capacity_id or "", e.entry_id) for e in queued]
    statuses = [e.status for e in entries]
    assert statuses == [EntryStatus.OFFERED] * SEATS + [EntryStatus.WAITING] * (WAITING - SEATS), statuses
    offers = [Hold.get(keys.hold_pk(str(e.hold_id)), keys.HOLD_SK, consistent_read=True) for e in entries[:SEATS]]
    assert len({h.hold_id for h in offers}) == SEATS, "an offer was given twice"
    assert all(h.status == HoldStatus.ACTIVE and int(h.seats) == 1 for h in offers)
    assert [h.details["customer"]["email"] for h in offers] == [f"w{n}@example.com" for n in range(SEATS)]
    (shard,) = capacity.read_shards(owner.capacity_id or "", 1)
    assert (shard.available, shard.held) == (0, SEATS), "a freed seat was lost or given twice"
    assert waitlist.length(owner.capacity_id or "") == WAITING - SEATS


def test_every_freed_seat_goes_to_the_queue_in_order(company_id: int) -> None:
    owner, queued, results = _race(company_id, Promotion.IN_TRANSACTION)
    cancels = [r for r in results if isinstance(r, Booking) and r.state == "cancelled_by_customer"]
    assert len(cancels) == SEATS, results
    _check(company_id, owner, queued, results)


def test_control_promoting_after_the_freeing_transaction_lets_outsiders_in(company_id: int) -> None:
    owner, queued, results = _race(company_id, Promotion.AFTERWARDS)
    with pytest.raises(AssertionError):
        _check(company_id, owner, queued, results)
    outsiders = [r for r in results if isinstance(r, Booking) and str(r.customer["name"]).startswith("outsider")]
    assert outsiders, "with promotion outside the freeing transaction, outsiders must win some seats"


def test_lapsing_offers_pass_down_the_queue_once_each(company_id: int, travel: Callable[[float], None]) -> None:
    """Ten offers lapse and are expired by racing sweepers: each passes to the next in line once."""
    owner, seated, queued = _full_group_with_queue(company_id)
    for seat in seated:
        bookings.act(company_id, seat.booking_id, "cancel_by_customer", {})
    offered = [waitlist.get(company_id, owner.capacity_id or "", e.entry_id) for e in queued[:SEATS]]
    lapsed = [Hold.get(keys.hold_pk(str(e.hold_id)), keys.HOLD_SK, consistent_read=True) for e in offered]
    travel(1801)  # past the offer window
    # two sweepers at once over the same lapsed holds
    results = hammer(8, [partial(holds.expire, h) for h in lapsed for _ in range(2)])
    assert sum(r is True for r in results) == SEATS
    entries = [waitlist.get(company_id, owner.capacity_id or "", e.entry_id) for e in queued]
    statuses = [e.status for e in entries]
    expected = [EntryStatus.LAPSED] * SEATS + [EntryStatus.OFFERED] * SEATS + [EntryStatus.WAITING] * 10
    assert statuses == expected, statuses
    (shard,) = capacity.read_shards(owner.capacity_id or "", 1)
    assert (shard.available, shard.held) == (0, SEATS)
