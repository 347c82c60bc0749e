"""Issue 15: write-hot index keys are spread over partitions, and reads merge them.

A company's bookings go to one of ``BOOKING_LISTING_PARTITIONS`` listing partitions, a
group's seat bookings and a capacity's holds to the partition of the capacity shard they
took, timers to one of ``EXPIRY_SHARDS`` expiry partitions. Listings read every partition
and merge them: the order and the pages are what one partition gave before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.services.selling import bookings, capacity
from chalicelib.store import db, keys, pages
from chalicelib.store.models import Booking, Client, Hold
from tests.conftest import Api, Tenant

EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T13:00:00+00:00", "what": "Haircut"}
CUSTOMER = {"name": "Marty McFly", "email": "marty.mcfly@timekit.io"}


@dataclass
class _Listed:
    sk: str


def test_merge_by_interleaves_sorted_partitions_lazily() -> None:
    pulled: list[str] = []

    def stream(name: str, sks: list[str]) -> Any:
        for sk in sks:
            pulled.append(f"{name}:{sk}")
            yield _Listed(sk)

    merged = pages.merge_by(
        [stream("a", ["9", "5", "1"]), stream("b", ["8", "7", "2"]), stream("c", [])], "sk", newest_first=True
    )
    first_three = [next(merged).sk for _ in range(3)]
    assert first_three == ["9", "8", "7"]
    assert "a:1" not in pulled  # a partition is read no further than the page reaches
    assert [item.sk for item in merged] == ["5", "2", "1"]
    oldest_first = pages.merge_by([iter([_Listed("1"), _Listed("4")]), iter([_Listed("2")])], "sk", newest_first=False)
    assert [item.sk for item in oldest_first] == ["1", "2", "4"]


def test_partition_zero_is_the_key_before_the_spread() -> None:
    assert keys.company_bookings(7) == "CO#7#BOOKINGS" and keys.company_bookings(7, 3) == "CO#7#BOOKINGS#3"
    assert keys.owner_seats("g") == "OWNER#g" and keys.owner_seats("g", 2) == "OWNER#g#2"
    assert keys.capacity_holds("c") == "CAP#c#HOLDS" and keys.capacity_holds("c", 1) == "CAP#c#HOLDS#1"
    assert keys.first_shard(["SHARD#05", "SHARD#02"]) == 2 and keys.first_shard([]) == 0
    assert len(set(keys.expiry_partitions())) == keys.EXPIRY_SHARDS
    assert {keys.expiry_partition(f"HOLD#{n}") for n in range(500)} == set(keys.expiry_partitions())


def test_company_listing_merges_its_partitions_newest_first_in_pages(api: Api, tenant: Tenant) -> None:
    made = []
    for n in range(24):
        reply = api.post("/v2/bookings", {"graph": "instant", "event": EVENT, "customer": CUSTOMER}, tenant.v2)
        assert reply.status == 201, reply.body
        made.append(reply.body["data"]["id"])
        if n == 11:
            time.sleep(1.1)  # created_at has second precision: two seconds' worth
    stored = [bookings.get(tenant.id, booking_id) for booking_id in made]
    assert len({booking.gsi1pk for booking in stored}) > 1  # spread over several partitions
    assert {booking.gsi1pk for booking in stored} <= set(keys.company_booking_partitions(tenant.id))
    expected = [booking.booking_id for booking in sorted(stored, key=lambda b: str(b.gsi1sk), reverse=True)]

    whole = api.get("/v2/bookings?per_page=100", tenant.v2)
    assert [b["id"] for b in whole.body["data"]] == expected
    assert whole.body["meta"]["total_entries"] == 24
    assert set(expected[:12]) == set(made[12:])  # the later second first

    paged: list[str] = []
    page = 1
    while True:
        reply = api.get(f"/v2/bookings?per_page=5&page={page}", tenant.v2)
        paged += [b["id"] for b in reply.body["data"]]
        if "next" not in reply.body["_links"]:
            break
        page += 1
    assert page == 5 and paged == expected

    api.put(f"/v2/bookings/{made[3]}/cancel", {}, tenant.v2)
    cancelled = api.get("/v2/bookings?search=state:cancelled", tenant.v2)
    assert [b["id"] for b in cancelled.body["data"]] == [made[3]]
    assert cancelled.body["meta"]["total_entries"] == 1


def _group(api: Api, tenant: Tenant, seats: int, shards: int) -> str:
    reply = api.post(
        "/v2/bookings",
        {
            "graph": "group_owner",
            "settings": {"max_seats": seats, "capacity_shards": shards},
            "event": EVENT,
        },
        tenant.v2,
    )
    assert reply.status == 201, reply.body
    owner_id: str = reply.body["data"]["id"]
    return owner_id


def _seat(api: Api, tenant: Tenant, owner_id: str, **extra: Any) -> Any:
    return api.post(
        "/v2/bookings",
        {"graph": "group_customer", "related": {"owner_booking_id": owner_id}, "customer": CUSTOMER, **extra},
        tenant.v2,
    )


def test_seat_bookings_listed_by_shard_and_all_cancelled_with_the_owner(api: Api, tenant: Tenant) -> None:
    owner_id = _group(api, tenant, seats=12, shards=4)
    seat_ids = [_seat(api, tenant, owner_id).body["data"]["id"] for _ in range(12)]
    seats = [bookings.get(tenant.id, seat_id) for seat_id in seat_ids]
    for seat in seats:
        shard = keys.first_shard([entry["shard"] for entry in capacity.as_list(capacity.from_list(seat.seat_shards))])
        assert seat.gsi2pk == keys.owner_seats(owner_id, shard)
    assert len({seat.gsi2pk for seat in seats}) == 4  # every shard sold: every partition used

    owner = bookings.get(tenant.id, owner_id)
    listed = list(bookings.seat_bookings(owner))
    assert sorted(b.booking_id for b in listed) == sorted(seat_ids)
    assert [b.gsi2sk for b in listed] == sorted(str(b.gsi2sk) for b in listed)  # oldest first across partitions

    cancelled = api.put(f"/v2/bookings/{owner_id}/cancel", {}, tenant.v2)
    assert cancelled.status == 200 and cancelled.body["data"]["state"] == "cancelled"
    included = api.get(f"/v2/bookings/{owner_id}?include=related_bookings", tenant.v2)
    related = included.body["data"]["related_bookings"]
    assert sorted(b["id"] for b in related) == sorted(seat_ids)
    assert {b["state"] for b in related} == {"cancelled_by_owner"}


def test_lapsed_holds_on_every_shard_count_as_free_and_are_reclaimed(api: Api, tenant: Tenant) -> None:
    owner_id = _group(api, tenant, seats=4, shards=4)
    held = [
        api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": owner_id}}, tenant.v2).body["data"]["id"]
        for _ in range(4)
    ]
    items = [Hold.get(keys.hold_pk(hold_id), keys.HOLD_SK) for hold_id in held]
    assert {item.gsi1pk for item in items} == {keys.capacity_holds(str(items[0].capacity_id), n) for n in range(4)}
    past = int(time.time()) - 1
    for item in items:
        item.update(actions=[Hold.expires_at.set(past), Hold.gsi1sk.set(db.iso_epoch(past))])

    group = api.get(f"/v2/bookings/groups/{owner_id}", tenant.v2).body["data"]["attributes"]["group_booking"]
    assert group["available_seats"] == 4 and group["held_seats"] == 0
    for _ in range(4):
        assert _seat(api, tenant, owner_id).status == 201  # each reclaims lapsed holds as it needs
    assert _seat(api, tenant, owner_id).status == 409
    statuses = {Hold.get(keys.hold_pk(hold_id), keys.HOLD_SK).status for hold_id in held}
    assert statuses == {"expired"}
    assert len(list(bookings.seat_bookings(bookings.get(tenant.id, owner_id)))) == 4
    assert all(isinstance(b, Booking) for b in bookings.seat_bookings(bookings.get(tenant.id, owner_id)))


def test_spread_id_counters_hand_out_distinct_ids_above_the_ordered_ones(api: Api, tenant: Tenant) -> None:
    ordered = [db.allocate_ids() for _ in range(3)]
    assert ordered == sorted(ordered) and ordered[-1] < keys.ID_RANGE
    spread = [db.allocate_ids(2, spread=True) for _ in range(40)]
    blocks = {first + n for first in spread for n in range(2)}
    assert len(blocks) == 80  # blocks of two, never overlapping
    assert all(keys.ID_RANGE < first < keys.ID_COUNTERS * keys.ID_RANGE for first in spread)
    assert len({first // keys.ID_RANGE for first in spread}) > 1  # more than one counter took the load
    fields = {"email": "new@example.com", "first_name": "N", "last_name": "W"}
    client = api.post(f"/api/v1/{tenant.id}/client", fields, tenant.public)
    assert client.status == 201 and client.body["id"] > keys.ID_RANGE
    again = api.get(f"/api/v1/admin/{tenant.id}/client/{client.body['id']}", tenant.admin)
    assert again.status == 200 and again.body["email"] == "new@example.com"


def test_clients_and_their_email_guards_are_off_the_company_partition() -> None:
    assert keys.client_pk(7, 42) == "CO#7#CLIENT#000000000042" and keys.client_sk(42) == "CLIENT#000000000042"
    assert keys.client_email_pk(7, "A@X.io") == "CO#7#CLIENTEMAIL#a@x.io"
    assert keys.company_clients(7) == "CO#7#CLIENTS" and keys.company_clients(7, 5) == "CO#7#CLIENTS#5"
    assert len(set(keys.company_client_partitions(7))) == keys.CLIENT_LISTING_PARTITIONS


def test_client_listing_merges_its_partitions_by_id_in_pages(api: Api, tenant: Tenant) -> None:
    made = []
    for n in range(20):
        fields = {"email": f"c{n}@example.com", "first_name": "C", "last_name": str(n)}
        reply = api.post(f"/api/v1/{tenant.id}/client", fields, tenant.public)
        assert reply.status == 201
        made.append(reply.body["id"])
    stored = [Client.get(keys.client_pk(tenant.id, n), keys.client_sk(n)) for n in made]
    assert all(str(client.pk) != keys.company_pk(tenant.id) for client in stored)
    assert len({client.gsi1pk for client in stored}) > 1  # the clients really are spread

    seen: list[int] = []
    for page in (1, 2, 3):
        listing = api.get(f"/api/v1/admin/{tenant.id}/client?page={page}&per_page=8", tenant.admin)
        assert listing.status == 200 and listing.body["total_entries"] == 20
        seen += [client["id"] for client in listing.body["_embedded"]["clients"]]
    assert seen == sorted(made)  # by id across partitions, each once
    by_email = api.get(f"/api/v1/admin/{tenant.id}/client/find_by_email/c7%40example.com", tenant.admin)
    assert by_email.body["id"] == made[7]


def test_a_process_that_saw_every_shard_full_reads_instead_of_being_refused(
    api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_id = _group(api, tenant, seats=2, shards=2)
    assert [_seat(api, tenant, owner_id).status for _ in range(2)] == [201, 201]
    tried: list[object] = []
    real = capacity._attempt_many

    def counted(*args: Any, **kwargs: Any) -> Any:
        tried.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(capacity, "_attempt_many", counted)
    first = _seat(api, tenant, owner_id)
    assert first.status == 409 and first.body["error"]["code"] == "no_space_left"
    assert len(tried) == 1  # one refused transaction taught this process that both shards are full
    tried.clear()
    again = _seat(api, tenant, owner_id)
    assert again.status == 409 and again.body["error"]["code"] == "no_space_left"
    assert tried == []  # a read (BatchGetItem), not a refused transaction on a busy shard

    cancelled = api.get(f"/v2/bookings/{owner_id}?include=related_bookings", tenant.v2).body["data"]
    seat_id = cancelled["related_bookings"][0]["id"]
    given_back = api.put(f"/v2/bookings/{seat_id}/cancel_by_customer", {"cancel_by_customer": {}}, tenant.v2)
    assert given_back.status == 200
    assert _seat(api, tenant, owner_id).status == 201  # a seat given back is found by that read


# --- a webhook's deliveries (issue 15, section 1): spread by event id -----------------------------


def _hook_and_events(api: Api, tenant: Tenant, count: int) -> tuple[Any, list[dict[str, str]]]:
    from chalicelib.services.messaging import webhooks

    created = api.post("/v2/webhooks", {"url": "http://127.0.0.1:9000/hook", "events": ["booking.created"]}, tenant.v2)
    assert created.status == 201, created.body
    hook = webhooks.get(tenant.id, created.body["data"]["id"])
    events = [
        {
            "id": f"0c1d2e3f-0000-4000-8000-{n:012d}",
            "type": "booking.created",
            "occurred_at": f"2031-01-01T00:{n:02d}:00Z",
        }
        for n in range(count)
    ]
    return hook, events


def test_a_webhooks_deliveries_spread_over_partitions_and_list_as_one(api: Api, tenant: Tenant) -> None:
    from chalicelib.services.messaging import webhooks
    from chalicelib.store.models import WebhookDelivery

    hook, events = _hook_and_events(api, tenant, 40)
    webhook_id = int(hook.webhook_id)
    created = webhooks.new_deliveries([(hook, event, "{}") for event in events], time.time())
    assert all(created)
    partitions = {keys.delivery_partition(event["id"]) for event in events}
    assert len(partitions) > 10  # 40 events over 64 partitions: not one key
    for event in events:
        stored = WebhookDelivery.get(keys.delivery_pk(webhook_id, event["id"]), keys.delivery_sk(event["id"]))
        partition = keys.delivery_partition(event["id"])
        assert stored.pk == keys.webhook_pk(webhook_id, partition)
        assert stored.gsi1pk == keys.webhook_deliveries(webhook_id, partition)  # listed where it is written
        loaded = webhooks.load_delivery(webhook_id, event["id"])
        assert loaded is not None and loaded.event_id == event["id"]

    # The listing is what one partition gave before: newest first over all of them, ``limit`` long.
    newest_first = [event["id"] for event in reversed(events)]
    path = f"/v2/webhooks/{webhook_id}/deliveries"
    assert [d["id"] for d in api.get(f"{path}?limit=100", tenant.v2).body["data"]] == newest_first
    assert [d["id"] for d in api.get(f"{path}?limit=7", tenant.v2).body["data"]] == newest_first[:7]
    assert webhooks.get_delivery(tenant.id, webhook_id, events[3]["id"]).event_id == events[3]["id"]


def test_a_duplicated_event_still_collides_on_its_spread_key(api: Api, tenant: Tenant) -> None:
    from chalicelib.services.messaging import webhooks

    hook, events = _hook_and_events(api, tenant, 3)
    assert all(webhooks.new_deliveries([(hook, event, "{}") for event in events], time.time()))
    again = webhooks.new_deliveries([(hook, event, "{}") for event in [*events, {**events[0], "id": "fresh"}]], 0)
    assert again[:3] == [None, None, None] and again[3] is not None
    assert webhooks.new_delivery(hook, events[1], "{}") is None


def test_a_delivery_written_before_the_spread_is_still_found_until_moved(api: Api, tenant: Tenant) -> None:
    from chalicelib.services.messaging import webhooks

    hook, events = _hook_and_events(api, tenant, 8)
    event = next(e for e in events if keys.delivery_partition(e["id"]) != 0)
    fresh = webhooks.new_delivery(hook, event, "{}")
    assert fresh is not None
    old = webhooks._delivery_item(hook, event, "{}", None)
    old.pk, old.gsi1pk = keys.webhook_pk(int(hook.webhook_id)), keys.webhook_deliveries(int(hook.webhook_id))
    fresh.delete()
    old.save()
    found = webhooks.load_delivery(int(hook.webhook_id), event["id"])
    assert found is not None and found.pk == keys.webhook_pk(int(hook.webhook_id))
    assert webhooks.claim(found, 1, time.time(), 330)  # claimed where it is
    listed = api.get(f"/v2/webhooks/{hook.webhook_id}/deliveries", tenant.v2).body["data"]
    assert [d["id"] for d in listed] == [event["id"]]
