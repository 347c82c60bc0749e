"""The sweeper on DynamoDB Local: what is due is applied exactly once, whoever sweeps."""

from __future__ import annotations

import calendar
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.services.identity import companies
from chalicelib.services.selling import bookings, capacity, holds, sweeper
from chalicelib.services.selling.bookings import NewBooking
from chalicelib.store import keys
from chalicelib.store.models import Hold

pytestmark = pytest.mark.integration

EVENT = {"start": "2031-01-10T10:00:00+00:00", "end": "2031-01-10T11:00:00+00:00", "what": "Class"}


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def test_two_sweepers_over_500_due_holds_release_every_seat_once(company_id: int) -> None:
    owner = bookings.create(
        company_id, NewBooking(graph="group_owner", event=EVENT, settings={"max_seats": 1000, "capacity_shards": 4})
    )
    assert owner.capacity_id is not None
    placed = []
    with ThreadPoolExecutor(8) as pool:
        placed = list(
            pool.map(
                lambda _i: holds.place(company_id, owner.capacity_id or "", 4, 1, 60, {}, owner.booking_id), range(500)
            )
        )
    # a confirmed seat that must not be touched
    bookings.create(
        company_id,
        NewBooking(
            graph="group_customer",
            customer={"name": "K", "email": "k@x.io"},
            owner_booking_id=owner.booking_id,
            seats=3,
        ),
    )
    before = capacity.read(owner.capacity_id, 4)
    assert before.held == 500 and before.booked == 3
    later = time.time() + 120  # every hold is due at this moment
    gate = threading.Barrier(2)

    def run() -> sweeper.SweepReport:
        gate.wait()
        # A generous budget: on a loaded machine the default 45 s could end a pass early (not under test here).
        return sweeper.sweep(now=later, budget_seconds=600)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _i: run(), range(2)))
    assert not any(r.stopped_early for r in reports)
    assert sum(r.applied for r in reports) == 500
    counters = capacity.read_shards(owner.capacity_id, 4)
    assert sum(s.held for s in counters) == 0
    assert sum(s.available for s in counters) == 1000 - 3
    statuses = {Hold.get(keys.hold_pk(h.hold_id), keys.HOLD_SK).status for h in placed}
    assert statuses == {"expired"}
    assert sweeper.sweep(now=later).applied == 0  # a repeated invocation finds nothing left


def test_nothing_is_due_before_its_time(company_id: int) -> None:
    owner = bookings.create(company_id, NewBooking(graph="group_owner", event=EVENT, settings={"max_seats": 5}))
    holds.place(company_id, owner.capacity_id or "", 1, 2, 300, {}, owner.booking_id)
    report = sweeper.sweep()
    assert report.applied == 0 and report.seen == 0


def test_payment_timeout_and_auto_complete_through_the_sweep(company_id: int) -> None:
    unpaid = bookings.create(
        company_id,
        NewBooking(
            graph="instant_payment",
            event=EVENT,
            customer={"name": "P", "email": "p@x.io"},
            settings={"payment_timeout": 60},
        ),
    )
    instant = bookings.create(
        company_id, NewBooking(graph="instant", event=EVENT, customer={"name": "I", "email": "i@x.io"})
    )
    kept = bookings.create(
        company_id,
        NewBooking(
            graph="instant",
            event=EVENT,
            customer={"name": "N", "email": "n@x.io"},
            settings={"auto_complete_one_hour_after_booking_ends": {"enabled": False}},
        ),
    )
    report = sweeper.sweep(now=time.time() + 120)  # past the payment timeout, before the class ends
    assert bookings.get(company_id, unpaid.booking_id).state == "unpaid"
    assert bookings.get(company_id, instant.booking_id).state == "confirmed"
    assert report.applied == 1
    after_class = calendar.timegm(time.strptime("2031-01-10 12:00:01", "%Y-%m-%d %H:%M:%S")) + 3600
    sweeper.sweep(now=after_class)
    assert bookings.get(company_id, instant.booking_id).state == "completed"
    assert bookings.get(company_id, kept.booking_id).state == "confirmed"


def test_group_payment_timeout_frees_the_seat(company_id: int) -> None:
    owner = bookings.create(company_id, NewBooking(graph="group_owner", event=EVENT, settings={"max_seats": 2}))
    seat = bookings.create(
        company_id,
        NewBooking(
            graph="group_customer_payment",
            owner_booking_id=owner.booking_id,
            customer={"name": "S", "email": "s@x.io"},
            seats=2,
        ),
    )
    assert capacity.read(owner.capacity_id or "", 1).available == 0
    sweeper.sweep(now=time.time() + 301)
    assert bookings.get(company_id, seat.booking_id).state == "unpaid"
    assert capacity.read(owner.capacity_id or "", 1).available == 2
