"""A customer action link under real concurrency on DynamoDB Local: it runs its action once,
and it is spent exactly when its action commits (the used-marker rides in the action's
transaction). The control writes the marker outside the transaction and must break."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.domain.errors import BookingError
from chalicelib.domain.windows import Actor
from chalicelib.services.identity import companies, customer_links
from chalicelib.services.identity.customer_links import ActionLink
from chalicelib.services.selling import action_links, bookings
from chalicelib.services.selling.bookings import NewBooking
from chalicelib.store.models import Booking
from tests.integration.races import hammer

pytestmark = pytest.mark.integration

EVENT = {"start": "2031-01-10T10:00:00+00:00", "end": "2031-01-10T11:00:00+00:00", "what": "Massage"}
CUSTOMER = {"name": "Marty", "email": "marty@example.com"}
ROUNDS = 12


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _link(company_id: int, now: datetime) -> tuple[Booking, ActionLink]:
    booking = bookings.create(company_id, NewBooking(graph="instant", event=EVENT, customer=CUSTOMER))
    signature = customer_links.action_signature(company_id, booking.booking_id, "cancel_by_customer", now)
    return booking, customer_links.read_action_signature(booking.booking_id, "cancel_by_customer", signature, now)


def test_one_link_used_eight_times_at_once_runs_its_action_once(company_id: int) -> None:
    now = clock.utcnow()
    booking, link = _link(company_id, now)
    results = hammer(8, [lambda: action_links.perform(link, now) for _ in range(8)])
    won = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, BookingError)]
    assert len(won) == 1 and len(refused) == 7
    assert {r.status for r in refused} == {409}
    after = bookings.get(company_id, booking.booking_id)
    assert after.state == "cancelled_by_customer" and int(after.log_count) == 2
    assert action_links.is_spent(link)


def _race_with_the_owner(company_id: int, perform: Callable[[ActionLink, datetime], Any]) -> list[tuple[bool, bool]]:
    """Per round: (the link's action committed, the link is spent), racing the owner's cancel."""
    outcomes = []
    for _ in range(ROUNDS):
        now = clock.utcnow()
        booking, link = _link(company_id, now)
        customer, _owner = hammer(
            2,
            [
                partial(perform, link, now),
                partial(bookings.act, company_id, booking.booking_id, "cancel", {}, actor=Actor.STAFF),
            ],
        )
        outcomes.append((isinstance(customer, Booking), action_links.is_spent(link)))
    return outcomes


def test_a_link_is_spent_exactly_when_its_action_commits(company_id: int) -> None:
    outcomes = _race_with_the_owner(company_id, action_links.perform)
    assert all(committed == spent for committed, spent in outcomes), outcomes
    assert any(not committed for committed, _ in outcomes), "the owner never won a round: no race was run"


def test_control_a_marker_written_outside_the_transaction_burns_links_that_did_nothing(company_id: int) -> None:
    def marker_first(link: ActionLink, now: datetime) -> Booking:
        action_links.marker(link, now).save()
        return bookings.act(link.company_id, link.booking_id, link.action, {}, actor=Actor.CUSTOMER)

    outcomes = _race_with_the_owner(company_id, marker_first)
    assert any(spent and not committed for committed, spent in outcomes), outcomes
