"""Timekit v2: DELETE of an ended booking, bulk create and bulk actions, search keys."""

from __future__ import annotations

from typing import Any

from chalicelib.services.catalogue import resources
from chalicelib.services.selling import bookings, time_claims
from chalicelib.store.models import Booking, BookingLog, OutboxEvent
from tests.conftest import Api, Tenant, make_tenant

EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Haircut"}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}


def _book(api: Api, tenant: Tenant, graph: str = "instant", **extra: Any) -> dict[str, Any]:
    reply = api.post("/v2/bookings", {"graph": graph, "event": EVENT, "customer": CUSTOMER, **extra}, tenant.v2)
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


# --- DELETE ----------------------------------------------------------------------------------------


def test_a_live_booking_is_not_deleted_until_it_ends(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    refused = api.delete(f"/v2/bookings/{booking['id']}", tenant.v2)
    assert refused.status == 409
    assert refused.body["error"]["code"] == "booking_active"
    assert "cancel" in refused.body["error"]["possible_actions"]
    assert api.get(f"/v2/bookings/{booking['id']}", tenant.v2).status == 200

    assert api.put(f"/v2/bookings/{booking['id']}/cancel", {}, tenant.v2).status == 200
    deleted = api.delete(f"/v2/bookings/{booking['id']}", tenant.v2)
    assert deleted.status == 204
    assert api.get(f"/v2/bookings/{booking['id']}", tenant.v2).status == 404
    assert api.delete(f"/v2/bookings/{booking['id']}", tenant.v2).status == 404
    # the record and its log are gone; the deletion is an event like any other change
    assert list(BookingLog.query(f"BK#{booking['id']}")) == []
    events = [e for e in OutboxEvent.scan() if e.subject_id == booking["id"]]
    assert "booking.deleted" in {e.event_type for e in events}


def test_delete_honours_if_match(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    cancelled = api.put(f"/v2/bookings/{booking['id']}/cancel", {}, tenant.v2)
    etag = cancelled.headers["ETag"]
    stale = api.delete(f"/v2/bookings/{booking['id']}", {**tenant.v2, "If-Match": '"1"'})
    assert stale.status == 412
    assert api.delete(f"/v2/bookings/{booking['id']}", {**tenant.v2, "If-Match": etag}).status == 204


def test_delete_is_per_company(api: Api, tenant: Tenant) -> None:
    other = make_tenant(api, "Other")
    booking = _book(api, tenant)
    api.put(f"/v2/bookings/{booking['id']}/cancel", {}, tenant.v2)
    assert api.delete(f"/v2/bookings/{booking['id']}", other.v2).status == 404
    assert api.get(f"/v2/bookings/{booking['id']}", tenant.v2).status == 200


def _group_with_seat(api: Api, tenant: Tenant) -> tuple[str, str]:
    group = api.post(
        "/v2/bookings",
        {"graph": "group_owner", "settings": {"max_seats": 2}, "event": EVENT},
        tenant.v2,
    ).body["data"]
    seat = api.post(
        "/v2/bookings",
        {"graph": "group_customer", "related": {"owner_booking_id": group["id"]}, "customer": CUSTOMER},
        tenant.v2,
    )
    assert seat.status == 201, seat.body
    return group["id"], seat.body["data"]["id"]


def test_a_group_goes_only_after_its_seats(api: Api, tenant: Tenant) -> None:
    group_id, seat_id = _group_with_seat(api, tenant)
    assert api.put(f"/v2/bookings/{group_id}/complete", {}, tenant.v2).status == 200
    assert api.get(f"/v2/bookings/{seat_id}", tenant.v2).body["data"]["state"] == "confirmed"
    refused = api.delete(f"/v2/bookings/{group_id}", tenant.v2)
    assert refused.status == 409
    assert refused.body["error"]["seat_booking_id"] == seat_id

    group_id, seat_id = _group_with_seat(api, tenant)
    assert api.put(f"/v2/bookings/{group_id}/cancel", {}, tenant.v2).status == 200
    assert api.get(f"/v2/bookings/{group_id}", tenant.v2).body["data"]["state"] == "cancelled"
    assert api.delete(f"/v2/bookings/{group_id}", tenant.v2).status == 204
    assert api.get(f"/v2/bookings/{seat_id}", tenant.v2).body["data"]["state"] != "confirmed"


# --- bulk --------------------------------------------------------------------------------------------


def test_bulk_create_reports_each_item_and_keeps_the_ones_that_worked(api: Api, tenant: Tenant) -> None:
    good = {"graph": "instant", "event": EVENT, "customer": CUSTOMER}
    closed_group = {"graph": "group_customer", "related": {"owner_booking_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}}
    reply = api.post("/v2/bookings/bulk", [good, closed_group, good], tenant.v2)
    assert reply.status == 200, reply.body
    items = reply.body["data"]
    assert [i["index"] for i in items] == [0, 1, 2]
    assert [i["status"] for i in items] == [201, 404, 201]
    assert items[1]["error"]["field"] == "related.owner_booking_id"
    assert items[1]["data"] is None and items[1]["id"] is None
    assert reply.body["meta"] == {"succeeded": 2, "failed": 1}
    for item in (items[0], items[2]):
        assert item["data"]["state"] == "confirmed"
        assert api.get(f"/v2/bookings/{item['id']}", tenant.v2).status == 200


def test_bulk_create_takes_the_bookings_key_too(api: Api, tenant: Tenant) -> None:
    good = {"graph": "confirm_decline", "event": EVENT, "customer": CUSTOMER}
    reply = api.post("/v2/bookings/bulk", {"bookings": [good]}, tenant.v2)
    assert reply.status == 200
    assert reply.body["data"][0]["data"]["state"] == "tentative"


def test_an_invalid_item_refuses_the_whole_request_and_writes_nothing(api: Api, tenant: Tenant) -> None:
    before = api.get("/v2/bookings", tenant.v2).body["meta"]["total_entries"]
    good = {"graph": "instant", "event": EVENT, "customer": CUSTOMER}
    bad = {"graph": "instant", "event": EVENT, "customer": {"name": "x", "email": "not an email"}}
    reply = api.post("/v2/bookings/bulk", [good, bad], tenant.v2)
    assert reply.status == 422
    assert reply.body["error"]["field"].startswith("bookings.1.customer")
    assert api.get("/v2/bookings", tenant.v2).body["meta"]["total_entries"] == before
    assert api.post("/v2/bookings/bulk", [], tenant.v2).status == 422
    assert api.post("/v2/bookings/bulk", [good] * 51, tenant.v2).status == 422


def test_bulk_actions_report_each_item(api: Api, tenant: Tenant) -> None:
    first = _book(api, tenant, "confirm_decline")
    second = _book(api, tenant, "confirm_decline")
    other = make_tenant(api, "Other")
    foreign = _book(api, other, "confirm_decline")
    reply = api.put(
        "/v2/bookings/bulk",
        [
            {"id": first["id"], "action": "confirm"},
            {"id": second["id"], "action": "decline", "decline": {"message": "sorry"}},
            {"id": first["id"], "action": "decline"},  # no longer possible: it was just confirmed
            {"id": foreign["id"], "action": "confirm"},  # another company's: not found
        ],
        tenant.v2,
    )
    assert reply.status == 200, reply.body
    items = reply.body["data"]
    assert [i["status"] for i in items] == [200, 200, 409, 404]
    assert items[0]["data"]["state"] == "confirmed"
    assert items[1]["data"]["state"] == "declined"
    assert items[2]["error"]["code"]
    assert reply.body["meta"] == {"succeeded": 2, "failed": 2}
    assert api.get(f"/v2/bookings/{foreign['id']}", other.v2).body["data"]["state"] == "tentative"


def test_bulk_action_items_are_validated(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant, "confirm_decline")
    reply = api.put("/v2/bookings/bulk", [{"id": booking["id"]}], tenant.v2)
    assert reply.status == 422
    assert reply.body["error"]["field"] == "bookings.0.action"
    reply = api.put("/v2/bookings/bulk", [{"id": booking["id"], "action": "confirm", "nonsense": 1}], tenant.v2)
    assert reply.status == 422


def test_bulk_needs_the_api_key(api: Api, tenant: Tenant) -> None:
    assert api.post("/v2/bookings/bulk", [], {}).status == 401
    assert api.put("/v2/bookings/bulk", [], {}).status == 401


# --- search ------------------------------------------------------------------------------------------


def _with_resource(tenant: Tenant, resource_id: int, start: str, end: str) -> Booking:
    new = bookings.NewBooking(
        graph="instant",
        event={"start": start, "end": end, "what": "Check-up"},
        customer={"name": "Doc", "email": "doc@example.com"},
        time=time_claims.TimeAsk((resource_id,)),
    )
    return bookings.create(tenant.id, new)


def test_search_by_resource_and_customer(api: Api, tenant: Tenant) -> None:
    brown = resources.create(tenant.id, {"name": "Dr Brown", "timezone": "UTC"})
    grey = resources.create(tenant.id, {"name": "Dr Grey", "timezone": "UTC"})
    on_brown = _with_resource(tenant, int(brown.resource_id), "2031-04-01T09:00:00Z", "2031-04-01T10:00:00Z")
    _with_resource(tenant, int(grey.resource_id), "2031-04-01T09:00:00Z", "2031-04-01T10:00:00Z")
    _book(api, tenant)

    found = api.get(f"/v2/bookings?search=resource.id:{int(brown.resource_id)}", tenant.v2).body
    assert [b["id"] for b in found["data"]] == [on_brown.booking_id]
    both = api.get("/v2/bookings?search=customers.email:doc@example.com;graph:instant", tenant.v2).body
    assert len(both["data"]) == 2
    marty = api.get("/v2/bookings?search=customer.name:Marty McFly", tenant.v2).body
    assert len(marty["data"]) == 1
    none = api.get(f"/v2/bookings?search=resource_id:{int(grey.resource_id)};state:cancelled", tenant.v2).body
    assert none["data"] == []


def test_unknown_search_keys_are_refused(api: Api, tenant: Tenant) -> None:
    for search in ("colour:red", "resource.id:", "customers.email"):
        reply = api.get(f"/v2/bookings?search={search}", tenant.v2)
        assert reply.status == 422, search
        assert reply.body["error"]["field"] == "search"
