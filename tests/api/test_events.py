"""Event chains, events and event groups: the service contract and the v1 routes."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services import events, holds
from tests.conftest import Api, Tenant, make_tenant


def _course(company_id: int, **spec: Any) -> tuple[Any, list[Any]]:
    base = {
        "name": "Pottery",
        "session_type": 1,
        "repeat": 1,
        "start_date": "2031-01-06",
        "end_date": "2031-02-03",
        "time": "09:00",
        "duration": 90,
        "spaces": 5,
    }
    return events.create_chain(company_id, {**base, **spec})


def test_create_chain_expands_writes_and_opens_capacity(api: Api, tenant: Tenant) -> None:
    chain, created = _course(tenant.id)
    assert len(created) == 5  # five Mondays, 6 Jan .. 3 Feb
    assert [e.start_at for e in created][:2] == ["2031-01-06T09:00:00Z", "2031-01-13T09:00:00Z"]
    listed = events.chain_events(tenant.id, int(chain.chain_id))
    assert [int(e.event_id) for e in listed] == [int(e.event_id) for e in created]
    event = events.get_event(tenant.id, int(created[0].event_id))
    assert event.capacity_id == f"EVENT-{int(event.event_id)}" and int(event.shards) == 1
    seats = events.availability(event)
    assert seats == {
        "num_spaces": 5,
        "spaces_booked": 0,
        "spaces_reserved": 0,
        "spaces_held": 0,
        "spaces_blocked": 0,
        "spaces_wait": 0,
        "spaces_left": 5,
        "bookable": True,
    }
    assert events.rules(chain).course is True


def test_a_hold_is_reserved_until_it_lapses(api: Api, tenant: Tenant) -> None:
    _chain, created = _course(tenant.id)
    event = created[0]
    hold = holds.place(tenant.id, event.capacity_id, int(event.shards), 2, 900, {})
    seats = events.availability(event)
    assert (seats["spaces_reserved"], seats["spaces_left"]) == (2, 3)
    holds.release(tenant.id, hold.hold_id)
    assert events.availability(event)["spaces_left"] == 5


def test_another_company_cannot_read_events(api: Api, tenant: Tenant) -> None:
    chain, created = _course(tenant.id)
    other = make_tenant(api, "Other")
    with pytest.raises(NotFound):
        events.get_event(other.id, int(created[0].event_id))
    with pytest.raises(NotFound):
        events.get_chain(other.id, int(chain.chain_id))
    with pytest.raises(NotFound):
        events.chain_events(other.id, int(chain.chain_id))


def test_editing_never_drops_a_slot_with_bookings(api: Api, tenant: Tenant) -> None:
    chain, created = _course(tenant.id)
    holds.place(tenant.id, created[-1].capacity_id, 1, 1, 900, {})
    with pytest.raises(Conflict) as refused:
        events.update_chain(tenant.id, int(chain.chain_id), {"end_date": "2031-01-27"})
    assert refused.value.code == "slot_has_bookings"
    assert refused.value.extra["event_ids"] == [int(created[-1].event_id)]
    assert len(events.chain_events(tenant.id, int(chain.chain_id))) == 5  # nothing changed
    _chain, kept = events.update_chain(tenant.id, int(chain.chain_id), {"start_date": "2031-01-13"})
    assert [int(e.event_id) for e in kept] == [int(e.event_id) for e in created[1:]]
