"""Event chains, events and event groups: the service contract and the v1 routes."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services.catalogue import events
from chalicelib.services.selling import capacity, holds
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


# --- v1 routes ----------------------------------------------------------------------------------


def _chain_api(api: Api, tenant: Tenant, **fields: Any) -> Any:
    body = {"name": "Yoga", "type": "recurring_event", "repeat": 1, "start_date": "2031-03-17", **fields}
    body.setdefault("end_date", "2031-04-07")
    body.setdefault("time", "09:00")
    reply = api.post(f"/api/v1/admin/{tenant.id}/event_chains", body, tenant.admin)
    assert reply.status == 201, reply.body
    return reply.body


def test_chain_crud_with_links_and_london_time(api: Api, tenant: Tenant) -> None:
    group = api.post(f"/api/v1/admin/{tenant.id}/event_groups", {"name": "Fitness"}, tenant.admin)
    assert group.status == 201
    questions = api.post(f"/api/v1/admin/{tenant.id}/question_groups", {"name": "Q"}, tenant.admin).body
    chain = _chain_api(
        api, tenant, event_group_id=group.body["id"], detail_group_id=questions["id"], price="1250", spaces="8"
    )
    assert chain["group"] == "Fitness" and chain["price"] == 1250 and chain["spaces"] == 8
    assert chain["type"] == "recurring_event" and chain["recurrence_type"] == "weekly" and not chain["course"]
    assert chain["timezone"] == "Europe/London"
    assert [e["datetime"] for e in chain["_embedded"]["events"]] == [
        "2031-03-17T09:00:00+00:00",
        "2031-03-24T09:00:00+00:00",
        "2031-03-31T09:00:00+01:00",
        "2031-04-07T09:00:00+01:00",
    ]
    links = chain["_links"]
    assert links["events"]["href"].split("{")[0].endswith(f"/events?event_chain_id={chain['id']}")
    assert links["questions"]["href"].endswith(f"/questions?detail_group_id={questions['id']}")
    assert links["event_group"]["href"].endswith(f"/event_groups/{group.body['id']}")
    public = api.get(f"/api/v1/{tenant.id}/event_chains", tenant.public)
    assert public.body["total_entries"] == 1
    assert public.body["_embedded"]["event_chains"][0]["id"] == chain["id"]
    renamed = api.put(f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}", {"name": "Hatha"}, tenant.admin)
    assert renamed.status == 200 and renamed.body["name"] == "Hatha"
    assert [e["id"] for e in renamed.body["_embedded"]["events"]] == [e["id"] for e in chain["_embedded"]["events"]]
    hidden = api.put(f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}", {"disabled": True}, tenant.admin)
    assert hidden.status == 200
    assert api.get(f"/api/v1/{tenant.id}/event_chains", tenant.public).body["total_entries"] == 0
    assert api.get(f"/api/v1/admin/{tenant.id}/event_chains", tenant.admin).body["total_entries"] == 1
    in_use = api.delete(f"/api/v1/admin/{tenant.id}/event_groups/{group.body['id']}", tenant.admin)
    assert in_use.status == 409 and in_use.error["code"] == "event_group_in_use"
    gone = api.delete(f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}", tenant.admin)
    assert gone.status == 200
    assert api.get(f"/api/v1/{tenant.id}/event_chains/{chain['id']}", tenant.public).status == 404
    event_id = chain["_embedded"]["events"][0]["id"]
    assert api.get(f"/api/v1/{tenant.id}/events/{event_id}", tenant.public).status == 404


def test_events_listing_and_one_event(api: Api, tenant: Tenant) -> None:
    chain = _chain_api(api, tenant, spaces=3, price=900)
    listed = api.get(f"/api/v1/{tenant.id}/events?start_date=2031-03-20&end_date=2031-04-30", tenant.public)
    assert listed.status == 200, listed.body
    found = listed.body["_embedded"]["events"]
    assert [e["datetime"] for e in found] == [
        "2031-03-24T09:00:00+00:00",
        "2031-03-31T09:00:00+01:00",
        "2031-04-07T09:00:00+01:00",
    ]
    first = found[0]
    assert (first["num_spaces"], first["spaces_booked"], first["spaces_reserved"], first["spaces_left"]) == (3, 0, 0, 3)
    assert first["bookable"] is True and first["price"] == 900 and first["event_chain_id"] == chain["id"]
    assert first["_links"]["book"]["href"].endswith(
        f"/basket/add_item?event_id={first['id']}&event_chain_id={chain['id']}"
    )
    one = api.get(f"/api/v1/{tenant.id}/events/{first['id']}", tenant.public)
    assert one.status == 200 and one.body == first
    paged = api.get(f"/api/v1/{tenant.id}/events?start_date=2031-03-01&end_date=2031-04-30&per_page=3", tenant.public)
    assert paged.body["total_entries"] == 4 and len(paged.body["_embedded"]["events"]) == 3
    assert "next" in paged.body["_links"]
    second = api.get(paged.body["_links"]["next"]["href"].split("/api/v1")[1].join(["/api/v1", ""]), tenant.public)
    assert [e["datetime"] for e in second.body["_embedded"]["events"]] == ["2031-04-07T09:00:00+01:00"]
    by_chain = api.get(
        f"/api/v1/{tenant.id}/events?start_date=2031-03-01&end_date=2031-04-30&event_chain_id={chain['id']}",
        tenant.public,
    )
    assert by_chain.body["total_entries"] == 4
    other_group = api.get(
        f"/api/v1/{tenant.id}/events?start_date=2031-03-01&end_date=2031-04-30&event_group_id=999", tenant.public
    )
    assert other_group.body["total_entries"] == 0


def test_events_range_is_bounded(api: Api, tenant: Tenant) -> None:
    wide = api.get(f"/api/v1/{tenant.id}/events?start_date=2031-01-01&end_date=2031-04-30", tenant.public)
    assert wide.status == 422 and wide.error["code"] == "range_too_wide"
    backwards = api.get(f"/api/v1/{tenant.id}/events?start_date=2031-02-01&end_date=2031-01-01", tenant.public)
    assert backwards.status == 422
    default = api.get(f"/api/v1/{tenant.id}/events", tenant.public)
    assert default.status == 200
    from datetime import date

    first, last = date.fromisoformat(default.body["start_date"]), date.fromisoformat(default.body["end_date"])
    assert 28 <= (last - first).days <= 31


def test_past_and_disabled_events_are_not_bookable(api: Api, tenant: Tenant) -> None:
    past = _chain_api(api, tenant, start_date="2020-01-06", end_date="2020-01-06", type=0, repeat=0)
    event_id = past["_embedded"]["events"][0]["id"]
    assert api.get(f"/api/v1/{tenant.id}/events/{event_id}", tenant.public).body["bookable"] is False


def test_custom_slots_replace_existing_ones_but_keep_booked_ones(api: Api, tenant: Tenant) -> None:
    chain = _chain_api(api, tenant, type="course", repeat=6, slots=[{"date": "2031-01-01", "time": "11:00"}])
    assert len(chain["_embedded"]["events"]) == 1
    booked_id = chain["_embedded"]["events"][0]["id"]
    booked = events.get_event(tenant.id, booked_id)
    holds.place(tenant.id, booked.capacity_id, 1, 1, 900, {})
    path = f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}"
    refused = api.put(path, {"slots": [{"date": "2031-02-10", "time": "11:10", "duration": 50}]}, tenant.admin)
    assert refused.status == 409 and refused.error["code"] == "slot_has_bookings"
    assert str(booked_id) in refused.error["message"] and refused.error["event_ids"] == [booked_id]
    kept = api.put(
        path,
        {"slots": [{"date": "2031-01-01", "time": "11:00"}, {"date": "2031-02-10", "time": "11:10", "duration": 50}]},
        tenant.admin,
    )
    assert kept.status == 200, kept.body
    assert [(e["id"] == booked_id, e["duration"]) for e in kept.body["_embedded"]["events"]] == [
        (True, 60),
        (False, 50),
    ]
    shrink = api.put(path, {"spaces": 1}, tenant.admin)
    assert shrink.status == 200
    too_small = api.put(f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}", {"spaces": 0}, tenant.admin)
    assert too_small.status == 422
    assert events.availability(events.get_event(tenant.id, booked_id))["num_spaces"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "start_date": "2031-01-01", "repeat": 9},
        {"name": "X", "start_date": "2031-01-01", "time": "25:00"},
        {"name": "X", "start_date": "2031-01-01", "type": 0, "repeat": 1},
        {"name": "X", "start_date": "2031-01-01", "end_date": "2030-01-01", "repeat": 1, "type": 2},
        {"name": "X", "start_date": "2031-01-01", "end_date": "2033-01-01", "repeat": 5, "type": 2},
        {"name": "X", "start_date": "2031-01-01", "event_group_id": 999999},
        {"name": "X", "start_date": "not a date"},
    ],
)
def test_bad_chains_are_422_and_write_nothing(api: Api, tenant: Tenant, body: dict[str, Any]) -> None:
    reply = api.post(f"/api/v1/admin/{tenant.id}/event_chains", body, tenant.admin)
    assert reply.status == 422, reply.body
    assert api.get(f"/api/v1/admin/{tenant.id}/event_chains", tenant.admin).body["total_entries"] == 0


def test_event_groups_public_paginated(api: Api, tenant: Tenant) -> None:
    for name in ("Fitness", "Pottery", "Music"):
        assert api.post(f"/api/v1/admin/{tenant.id}/event_groups", {"name": name}, tenant.admin).status == 201
    page = api.get(f"/api/v1/{tenant.id}/event_groups?per_page=2", tenant.public)
    assert page.body["total_entries"] == 3 and len(page.body["_embedded"]["event_groups"]) == 2
    assert "next" in page.body["_links"]
    group_id = page.body["_embedded"]["event_groups"][0]["id"]
    renamed = api.put(f"/api/v1/admin/{tenant.id}/event_groups/{group_id}", {"name": "Yoga"}, tenant.admin)
    assert renamed.body["name"] == "Yoga"
    assert api.get(f"/api/v1/{tenant.id}/event_groups/{group_id}", tenant.public).body["name"] == "Yoga"
    assert api.delete(f"/api/v1/admin/{tenant.id}/event_groups/{group_id}", tenant.admin).status == 200
    assert api.get(f"/api/v1/{tenant.id}/event_groups/{group_id}", tenant.public).status == 404


def test_extra_numbers_dynamodb_cannot_store_are_422(api: Api, tenant: Tenant) -> None:
    for extra in ({"n": 10**40}, {"n": [1e200]}, {"n": {"m": 1e-200}}):
        reply = api.post(f"/api/v1/admin/{tenant.id}/event_groups", {"name": "G", "extra": extra}, tenant.admin)
        assert reply.status == 422, (extra, reply.body)
    fine = api.post(f"/api/v1/admin/{tenant.id}/event_groups", {"name": "G", "extra": {"n": 10**30}}, tenant.admin)
    assert fine.status == 201


def test_an_on_sale_event_takes_up_to_32_shards_each_its_own_partition(api: Api, tenant: Tenant) -> None:
    chain = _chain_api(api, tenant, type="event", repeat=0, end_date="2031-03-17", spaces=1000, shards=20)
    query = f"event_chain_id={chain['id']}&start_date=2031-03-01&end_date=2031-03-30"
    listed = api.get(f"/api/v1/{tenant.id}/events?{query}", tenant.public).body
    event = events.get_event(tenant.id, int(listed["_embedded"]["events"][0]["id"]))
    assert int(event.shards) == 20
    assert capacity.read(event.capacity_id, 20).available == 1000  # 20 shard items, 50 seats each
    too_many = api.post(
        f"/api/v1/admin/{tenant.id}/event_chains",
        {"name": "Too many", "type": "event", "start_date": "2031-03-17", "time": "09:00", "shards": 33},
        tenant.admin,
    )
    assert too_many.status == 422 and too_many.error["field"] == "shards"
