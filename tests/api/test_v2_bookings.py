"""The Timekit v2 face: shapes of seeds 002 and 003, actions, groups, holds, lineage."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.services.selling import bookings
from tests.conftest import Api, Tenant, make_tenant

EVENT = {
    "start": "2031-03-01T08:00:00+00:00",
    "end": "2031-03-01T13:00:00+00:00",
    "what": "Mens haircut",
    "where": "Sesame St, Middleburg, FL 32068, USA",
    "calendar_id": "c91c5d04-2a57-46c0-ab35-e489dadf132e",
    "description": "Please arrive 10 minutes before you time begin",
}
CUSTOMER = {
    "name": "Marty McFly",
    "email": "marty.mcfly@timekit.io",
    "phone": "1-591-001-5403",
    "voip": "McFly",
    "timezone": "America/Los_Angeles",
}


def _book(api: Api, tenant: Tenant, graph: str = "confirm_decline", **extra: Any) -> dict[str, Any]:
    body = {"graph": graph, "event": EVENT, "customer": CUSTOMER, **extra}
    reply = api.post("/v2/bookings", body, tenant.v2)
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


def _group(api: Api, tenant: Tenant, seats: int = 3, **settings: Any) -> dict[str, Any]:
    # seed 002 sends the group's event at the top level
    reply = api.post(
        "/v2/bookings",
        {
            "graph": "group_owner",
            "settings": {"max_seats": seats, **settings},
            "start": "2031-09-30T08:00:00-08:00",
            "end": "2031-09-30T09:00:00-08:00",
            "what": "Doc Brown's webinar on flux capacitance",
            "where": "https://join.skype.com/XXXXXX",
        },
        tenant.v2,
    )
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


def _seat(api: Api, tenant: Tenant, owner_id: str, seats: int = 1, graph: str = "group_customer") -> Any:
    return api.post(
        "/v2/bookings",
        {"graph": graph, "related": {"owner_booking_id": owner_id, "seats": seats}, "customer": CUSTOMER},
        tenant.v2,
    )


def test_create_confirm_decline_like_seed_003(api: Api, tenant: Tenant) -> None:
    data = _book(api, tenant, action="create")
    assert data["graph"] == "confirm_decline" and data["state"] == "tentative" and data["completed"] is False
    assert data["possible_actions"] == ["confirm", "decline"]
    assert data["attributes"]["event_info"]["what"] == "Mens haircut"
    assert data["customers"][0]["name"] == "Marty McFly" and data["customers"][0]["id"]
    logs = [entry["description"] for entry in data["logs"]]
    assert logs[0] == "Changed state to: creating" and logs[-1] == "Changed state to: tentative"


def test_decline_then_confirm_is_refused_with_possible_actions(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    declined = api.put(f"/v2/bookings/{booking['id']}/decline", {"decline": {"message": "Sorry"}}, tenant.v2)
    assert declined.status == 200
    assert declined.body["data"]["state"] == "declined" and declined.body["data"]["completed"] is True
    refused = api.put(f"/v2/bookings/{booking['id']}/confirm", {}, tenant.v2)
    assert refused.status == 409
    assert refused.error["code"] == "action_not_allowed" and refused.error["possible_actions"] == []


def test_unknown_action_is_409_not_500(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    refused = api.put(f"/v2/bookings/{booking['id']}/fly", {}, tenant.v2)
    assert refused.status == 409 and refused.error["possible_actions"] == ["confirm", "decline"]


def test_disabled_step_is_logged_as_skipped(api: Api, tenant: Tenant) -> None:
    data = _book(api, tenant, notify_owner_by_email={"enabled": False})
    assert "Skipped notify_owner_by_email (disabled in the request)" in [e["description"] for e in data["logs"]]


def test_unknown_option_key_is_422(api: Api, tenant: Tenant) -> None:
    refused = api.post(
        "/v2/bookings",
        {"graph": "instant", "event": EVENT, "customer": CUSTOMER, "launch_rockets": {"enabled": True}},
        tenant.v2,
    )
    assert refused.status == 422


def test_instant_confirms_at_once_and_gets_an_auto_complete_timer(api: Api, tenant: Tenant) -> None:
    data = _book(api, tenant, graph="instant")
    assert data["state"] == "confirmed"
    assert data["possible_actions"] == ["cancel", "cancel_by_customer", "complete", "reschedule_by_customer"]
    stored = bookings.get(tenant.id, data["id"])
    assert stored.timer_action == "complete" and stored.xsk is not None and stored.xsk.startswith("2031-03-01T14:00")


def test_auto_complete_can_be_disabled(api: Api, tenant: Tenant) -> None:
    data = _book(
        api, tenant, graph="instant", settings={"auto_complete_one_hour_after_booking_ends": {"enabled": False}}
    )
    assert bookings.get(tenant.id, data["id"]).timer_action is None


def test_payment_needs_a_payment_id_and_times_out(api: Api, tenant: Tenant) -> None:
    data = _book(api, tenant, graph="instant_payment")
    assert data["state"] == "tentative" and data["possible_actions"] == ["pay"]
    missing = api.put(f"/v2/bookings/{data['id']}/pay", {}, tenant.v2)
    assert missing.status == 422 and missing.error["field"] == "pay.payment_id"
    paid = api.put(f"/v2/bookings/{data['id']}/pay", {"pay": {"payment_id": "pi_123"}}, tenant.v2)
    assert paid.status == 200 and paid.body["data"]["state"] == "paid"
    assert paid.body["data"]["payment"]["payment_id"] == "pi_123"
    other = _book(api, tenant, graph="instant_payment")
    stored = bookings.get(tenant.id, other["id"])
    assert stored.timer_action == "timeout"
    timed_out = bookings.run_timer(stored)
    assert timed_out is not None and timed_out.state == "unpaid"
    assert bookings.run_timer(stored) is None  # a second sweep finds nothing to do


def test_etag_and_if_match(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    read = api.get(f"/v2/bookings/{booking['id']}", tenant.v2)
    assert read.headers["ETag"] == '"1"'
    stale = api.put(f"/v2/bookings/{booking['id']}/confirm", {}, {**tenant.v2, "If-Match": '"7"'})
    assert stale.status == 412
    fresh = api.put(f"/v2/bookings/{booking['id']}/confirm", {}, {**tenant.v2, "If-Match": read.headers["ETag"]})
    assert fresh.status == 200 and fresh.headers["ETag"] == '"2"'


def test_group_seats_current_seats_and_sold_out(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant, seats=3)
    assert owner["state"] == "tentative" and owner["possible_actions"] == ["cancel", "complete"]
    assert _seat(api, tenant, owner["id"], 2).status == 201
    refused = _seat(api, tenant, owner["id"], 2)
    assert refused.status == 409 and refused.error["code"] == "no_space_left" and refused.error["seats_free"] == 1
    seat = _seat(api, tenant, owner["id"], 1)
    assert seat.status == 201 and seat.body["data"]["state"] == "confirmed"
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2)
    assert group.body["data"]["attributes"]["group_booking"]["max_seats"] == 3
    assert group.body["data"]["attributes"]["group_booking"]["current_seats"] == 3
    cancelled = api.put(
        f"/v2/bookings/{seat.body['data']['id']}/cancel_by_customer",
        {"cancel_by_customer": {"message": "Double booked. Sorry, Doc!"}},
        tenant.v2,
    )
    assert cancelled.status == 200 and cancelled.body["data"]["state"] == "cancelled_by_customer"
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2)
    assert group.body["data"]["attributes"]["group_booking"]["current_seats"] == 2
    listing = api.get("/v2/bookings/groups", tenant.v2)
    assert [b["id"] for b in listing.body["data"]] == [owner["id"]]


def test_owner_cancel_cancels_every_seat(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant, seats=10)
    seat_ids = [_seat(api, tenant, owner["id"]).body["data"]["id"] for _ in range(4)]
    cancelled = api.put(f"/v2/bookings/{owner['id']}/cancel", {"cancel": {"message": "Down with the flu"}}, tenant.v2)
    assert cancelled.status == 200 and cancelled.body["data"]["state"] == "cancelled"
    included = api.get(f"/v2/bookings/{owner['id']}?include=related_bookings.customers", tenant.v2)
    related = included.body["data"]["related_bookings"]
    assert sorted(b["id"] for b in related) == sorted(seat_ids)
    assert {b["state"] for b in related} == {"cancelled_by_owner"}
    assert related[0]["customers"][0]["name"] == "Marty McFly"
    closed = _seat(api, tenant, owner["id"])
    assert closed.status == 409 and closed.error["code"] == "group_closed"


def test_owner_cancel_in_batches_resumes(api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = _group(api, tenant, seats=10)
    for _ in range(5):
        _seat(api, tenant, owner["id"])
    monkeypatch.setattr(bookings, "CASCADE_BATCH", 2)
    monkeypatch.setattr(bookings, "CASCADE_BUDGET", 1)
    first = api.put(f"/v2/bookings/{owner['id']}/cancel", {}, tenant.v2)
    assert first.body["data"]["state"] == "cancelling"  # still cancelling: it says so
    stored = bookings.get(tenant.id, owner["id"])
    assert stored.timer_action == "cancel"  # due now, for the sweeper
    for _ in range(3):
        stored = bookings.run_timer(stored) or stored
    assert stored.state == "cancelled"
    group = bookings.group_booking(stored)
    assert group is not None and group["current_seats"] == 0


def test_reserve_then_book_keeps_the_seat(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant, seats=2)
    hold = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": owner["id"], "seats": 2}}, tenant.v2)
    assert hold.status == 201 and hold.body["data"]["status"] == "active"
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2).body["data"]["attributes"]["group_booking"]
    assert group["held_seats"] == 2 and group["available_seats"] == 0
    assert _seat(api, tenant, owner["id"]).status == 409
    booked = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "customer": CUSTOMER,
            "related": {"owner_booking_id": owner["id"], "seats": 2},
            "reservation_id": hold.body["data"]["id"],
        },
        tenant.v2,
    )
    assert booked.status == 201 and booked.body["data"]["related"]["seats"] == 2
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2).body["data"]["attributes"]["group_booking"]
    assert group == {"max_seats": 2, "current_seats": 2, "held_seats": 0, "available_seats": 0, "waitlist_length": 0}
    again = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "customer": CUSTOMER,
            "related": {"owner_booking_id": owner["id"]},
            "reservation_id": hold.body["data"]["id"],
        },
        tenant.v2,
    )
    assert again.status == 409 and again.error["code"] == "hold_expired"


def test_expired_hold_counts_as_free_before_any_sweep(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant, seats=1)
    hold = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": owner["id"]}}, tenant.v2).body["data"]
    from chalicelib.store import keys
    from chalicelib.store.models import Hold

    item = Hold.get(keys.hold_pk(hold["id"]), keys.HOLD_SK)
    past = int(time.time()) - 1
    from chalicelib.store import db

    item.update(actions=[Hold.expires_at.set(past), Hold.gsi1sk.set(db.iso_epoch(past))])
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2).body["data"]["attributes"]["group_booking"]
    assert group["available_seats"] == 1 and group["held_seats"] == 0
    late = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "customer": CUSTOMER,
            "related": {"owner_booking_id": owner["id"]},
            "reservation_id": hold["id"],
        },
        tenant.v2,
    )
    assert late.status == 409 and late.error["code"] == "hold_expired"
    seat = _seat(api, tenant, owner["id"])  # reclaims the lapsed hold on the way
    assert seat.status == 201
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2).body["data"]["attributes"]["group_booking"]
    assert group == {"max_seats": 1, "current_seats": 1, "held_seats": 0, "available_seats": 0, "waitlist_length": 0}


def test_extend_is_capped(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant, seats=2)
    hold = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": owner["id"]}}, tenant.v2).body["data"]
    for expected in (1, 2, 3):
        extended = api.put("/v2/bookings/reserve/extend", {"reservation_id": hold["id"]}, tenant.v2)
        assert extended.status == 200 and extended.body["data"]["extensions"] == expected
    capped = api.put("/v2/bookings/reserve/extend", {"reservation_id": hold["id"]}, tenant.v2)
    assert capped.status == 409 and capped.error["code"] == "extension_limit"


def test_reschedule_keeps_lineage(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant, graph="instant")
    moved = api.post(
        f"/v2/bookings/{booking['id']}/reschedule",
        {"start": "2031-04-01T08:00:00+00:00", "end": "2031-04-01T09:00:00+00:00", "message": "Running late"},
        tenant.v2,
    )
    assert moved.status == 201
    new = moved.body["data"]
    assert new["id"] != booking["id"] and new["rescheduled_from"] == booking["id"] and new["state"] == "confirmed"
    assert new["attributes"]["event_info"]["start"].startswith("2031-04-01T08:00")
    old = api.get(f"/v2/bookings/{booking['id']}", tenant.v2).body["data"]
    assert old["state"] == "rescheduled_by_customer" and old["rescheduled_to"] == new["id"]
    again = api.post(
        f"/v2/bookings/{booking['id']}/reschedule",
        {"start": "2031-05-01T08:00:00+00:00", "end": "2031-05-01T09:00:00+00:00"},
        tenant.v2,
    )
    assert again.status == 409


def test_group_reschedules_in_place(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant)
    moved = api.post(
        f"/v2/bookings/{owner['id']}/reschedule",
        {"start": "2031-10-01T08:00:00+00:00", "end": "2031-10-01T09:00:00+00:00"},
        tenant.v2,
    )
    assert moved.status == 201 and moved.body["data"]["id"] == owner["id"]
    assert moved.body["data"]["attributes"]["event_info"]["start"].startswith("2031-10-01T08:00")


def test_listing_is_newest_first_with_search_and_paging(
    api: Api, tenant: Tenant, travel: Callable[[float], None]
) -> None:
    first = _book(api, tenant, graph="instant")
    travel(1.1)  # created_at has second precision
    second = _book(api, tenant)
    api.put(f"/v2/bookings/{first['id']}/cancel", {}, tenant.v2)
    listing = api.get("/v2/bookings", tenant.v2)
    assert [b["id"] for b in listing.body["data"]] == [second["id"], first["id"]]
    assert listing.body["meta"]["total_entries"] == 2
    cancelled = api.get("/v2/bookings?search=graph:instant;state:cancelled", tenant.v2)
    assert [b["id"] for b in cancelled.body["data"]] == [first["id"]]
    paged = api.get("/v2/bookings?per_page=1", tenant.v2)
    assert len(paged.body["data"]) == 1 and "next" in paged.body["_links"]
    bad = api.get("/v2/bookings?search=colour:red", tenant.v2)
    assert bad.status == 422 and bad.error["field"] == "search"


def test_idempotency_key_replays_and_refuses_another_body(api: Api, tenant: Tenant) -> None:
    headers = {**tenant.v2, "Idempotency-Key": "order-42"}
    body = {"graph": "instant", "event": EVENT, "customer": CUSTOMER}
    first = api.post("/v2/bookings", body, headers)
    again = api.post("/v2/bookings", body, headers)
    assert first.status == again.status == 201
    assert again.body == first.body and again.headers.get("Idempotent-Replayed") == "true"
    assert api.get("/v2/bookings", tenant.v2).body["meta"]["total_entries"] == 1
    other = api.post("/v2/bookings", {**body, "graph": "confirm_decline"}, headers)
    assert other.status == 422 and other.error["code"] == "idempotency_key_reused"


def test_idempotency_keys_are_scoped_to_the_company(api: Api, tenant: Tenant) -> None:
    other = make_tenant(api, "Other")
    body = {"graph": "instant", "event": EVENT, "customer": CUSTOMER}
    mine = api.post("/v2/bookings", body, {**tenant.v2, "Idempotency-Key": "shared"})
    theirs = api.post("/v2/bookings", body, {**other.v2, "Idempotency-Key": "shared"})
    assert mine.status == theirs.status == 201 and mine.body["data"]["id"] != theirs.body["data"]["id"]


def test_graph_documents(api: Api, tenant: Tenant) -> None:
    listing = api.get("/v2/graphs", tenant.v2)
    assert sorted(g["name"] for g in listing.body["data"]) == sorted(
        ["instant", "confirm_decline", "instant_payment", "group_owner", "group_customer", "group_customer_payment"]
    )
    one = api.get("/v2/graphs/instant_payment", tenant.v2).body
    tentative = next(s for s in one["states"] if s["name"] == "tentative")
    assert tentative["timer"] == {"action": "timeout", "setting": "payment_timeout", "default_seconds": 300}
    dot = api.call("GET", "/v2/graphs/instant_payment?format=dot", headers=tenant.v2)
    assert dot.headers["Content-Type"] == "text/vnd.graphviz" and "digraph" in str(dot.body)
    assert api.get("/v2/graphs/nope", tenant.v2).status == 404


def test_v2_needs_the_secret_key(api: Api, tenant: Tenant) -> None:
    import base64

    public = {"Authorization": "Basic " + base64.b64encode(f":{tenant.app_key}".encode()).decode()}
    assert api.get("/v2/bookings", public).status == 401
    assert api.get("/v2/bookings").status == 401


def test_first_action_and_seat_fields_are_checked(api: Api, tenant: Tenant) -> None:
    wrong = api.post(
        "/v2/bookings", {"graph": "instant", "action": "create", "event": EVENT, "customer": CUSTOMER}, tenant.v2
    )
    assert wrong.status == 422 and wrong.error["field"] == "action" and "'confirm'" in wrong.error["message"]
    stray = api.post(
        "/v2/bookings",
        {
            "graph": "instant",
            "event": EVENT,
            "customer": CUSTOMER,
            "related": {"owner_booking_id": "58190fc6-1ec0-4ebb-b627-7ce6aa9fc703"},
        },
        tenant.v2,
    )
    assert stray.status == 422 and stray.error["field"] == "related.owner_booking_id"
    no_owner = api.post("/v2/bookings", {"graph": "group_customer", "customer": CUSTOMER}, tenant.v2)
    assert no_owner.status == 422 and no_owner.error["field"] == "related.owner_booking_id"
    missing = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "customer": CUSTOMER,
            "related": {"owner_booking_id": "58190fc6-1ec0-4ebb-b627-7ce6aa9fc703"},
        },
        tenant.v2,
    )
    assert missing.status == 404
    no_event = api.post("/v2/bookings", {"graph": "instant", "customer": CUSTOMER}, tenant.v2)
    assert no_event.status == 422 and no_event.error["field"] == "event.start"
    backwards = api.post(
        "/v2/bookings",
        {"graph": "instant", "customer": CUSTOMER, "event": {**EVENT, "end": "2031-03-01T07:00:00+00:00"}},
        tenant.v2,
    )
    assert backwards.status == 422 and backwards.error["field"] == "event.end"
    no_seats = api.post("/v2/bookings", {"graph": "group_owner", "event": EVENT}, tenant.v2)
    assert no_seats.status == 422 and no_seats.error["field"] == "settings.max_seats"


def test_every_change_writes_its_outbox_event(api: Api, tenant: Tenant) -> None:
    from chalicelib.store.models import OutboxEvent

    booking = _book(api, tenant)
    api.put(f"/v2/bookings/{booking['id']}/confirm", {}, tenant.v2)
    events = [e for e in OutboxEvent.scan() if e.subject_id == booking["id"]]  # moto only: a test may scan
    by_type = {e.event_type: e for e in events}
    assert set(by_type) == {"booking.created", "booking.confirmed"}
    confirmed = by_type["booking.confirmed"].payload.as_dict()
    assert confirmed["state"] == "confirmed" and confirmed["possible_actions"] == [
        "cancel",
        "cancel_by_customer",
        "complete",
        "reschedule_by_customer",
    ]
    assert all(int(e.company_id) == tenant.id for e in events)


def test_an_action_retried_after_a_transaction_conflict_succeeds_once(
    api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.store import transact

    booking = _book(api, tenant)
    real = transact.transaction
    commits = {"count": 0}

    class ConflictOnce:
        """The first commit fails as DynamoDB does when another transaction holds an item."""

        def __init__(self) -> None:
            self.tx = real()

        def __enter__(self) -> Any:
            return self.tx.__enter__()

        def __exit__(self, *exc: Any) -> Any:
            commits["count"] += 1
            if commits["count"] == 1 and exc[0] is None:
                error: Any = {"Error": {"Code": "TransactionConflictException", "Message": "conflict"}}
                raise TransactWriteError("conflict", ClientError(error, "TransactWriteItems"))
            return self.tx.__exit__(*exc)

    monkeypatch.setattr(transact, "transaction", ConflictOnce)
    confirmed = api.put(f"/v2/bookings/{booking['id']}/confirm", {}, tenant.v2)
    assert confirmed.status == 200 and confirmed.body["data"]["state"] == "confirmed"
    assert commits["count"] == 2
    assert bookings.get(tenant.id, booking["id"]).version == 2  # one increment, not two


def test_a_rescheduled_booking_keeps_its_state_timer_at_the_new_times(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)  # confirm_decline
    api.put(f"/v2/bookings/{booking['id']}/confirm", {}, tenant.v2)
    moved = api.post(
        f"/v2/bookings/{booking['id']}/reschedule",
        {"start": "2031-04-01T08:00:00+00:00", "end": "2031-04-01T09:00:00+00:00"},
        tenant.v2,
    )
    assert moved.status == 201 and moved.body["data"]["state"] == "confirmed"
    successor = bookings.get(tenant.id, moved.body["data"]["id"])
    assert successor.timer_action == "complete"
    assert successor.xsk is not None and successor.xsk.startswith("2031-04-01T10:00")
    assert bookings.get(tenant.id, booking["id"]).timer_action is None
