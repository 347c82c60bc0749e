"""Windows per actor on the v2 face: a group's settings bind customers, not staff; nobody books the past."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.windows import Actor
from chalicelib.services.selling import bookings
from chalicelib.store.models import Booking
from tests.conftest import Api, Tenant

START, END = "2031-09-30T08:00:00+00:00", "2031-09-30T09:00:00+00:00"
CUSTOMER = {"name": "Marty McFly", "email": "marty.mcfly@timekit.io"}


def _group(api: Api, tenant: Tenant, **settings: Any) -> str:
    body = {
        "graph": "group_owner",
        "settings": {"max_seats": 5, **settings},
        "start": START,
        "end": END,
        "what": "Yoga",
    }
    reply = api.post("/v2/bookings", body, tenant.v2)
    assert reply.status == 201, reply.body
    return str(reply.body["data"]["id"])


def _seat(tenant: Tenant, owner_id: str, actor: Actor) -> Booking:
    new = bookings.NewBooking(graph="group_customer", customer=CUSTOMER, owner_booking_id=owner_id)
    return bookings.create(tenant.id, new, actor=actor)


def _refused(call: Any) -> tuple[str, str]:
    with pytest.raises(Conflict) as caught:
        call()
    return caught.value.code, caught.value.message


def test_a_customer_books_a_group_inside_its_window_and_staff_any_time(api: Api, tenant: Tenant) -> None:
    not_open = _group(api, tenant, max_booking_time="2 weeks")
    assert _refused(lambda: _seat(tenant, not_open, Actor.CUSTOMER)) == (
        "booking_not_open",
        "this group can be booked from 2 weeks before the start",
    )
    closed = _group(api, tenant, min_booking_time="3000 days")
    assert _refused(lambda: _seat(tenant, closed, Actor.CUSTOMER)) == (
        "booking_closed",
        "this group can be booked until 3000 days before the start",
    )
    # the owner's secret key is staff: the same groups take its bookings
    assert (
        api.post(
            "/v2/bookings",
            {"graph": "group_customer", "related": {"owner_booking_id": closed}, "customer": CUSTOMER},
            tenant.v2,
        ).status
        == 201
    )
    assert _seat(tenant, not_open, Actor.STAFF).state == "confirmed"
    assert _seat(tenant, _group(api, tenant, max_booking_time="3000 days"), Actor.CUSTOMER).state == "confirmed"


def test_a_customer_cancels_until_min_cancel_time_and_nothing_changes_after(api: Api, tenant: Tenant) -> None:
    owner = _group(api, tenant, min_cancel_time="3000 days")
    seat = _seat(tenant, owner, Actor.STAFF)
    code, message = _refused(
        lambda: bookings.act(tenant.id, seat.booking_id, "cancel_by_customer", {}, actor=Actor.CUSTOMER)
    )
    assert (code, message) == ("cancellation_closed", "this booking can be cancelled until 3000 days before the start")
    kept = bookings.get(tenant.id, seat.booking_id)
    assert (kept.state, int(kept.version)) == ("confirmed", int(seat.version))
    # the secret key (staff) may still cancel it for the customer
    reply = api.put(f"/v2/bookings/{seat.booking_id}/cancel_by_customer", {}, tenant.v2)
    assert reply.status == 200 and reply.body["data"]["state"] == "cancelled_by_customer"

    open_owner = _group(api, tenant, min_cancel_time="1 day")
    free = _seat(tenant, open_owner, Actor.STAFF)
    done = bookings.act(tenant.id, free.booking_id, "cancel_by_customer", {}, actor=Actor.CUSTOMER)
    assert done.state == "cancelled_by_customer"


def test_bookings_in_the_past_are_refused_for_everyone(api: Api, tenant: Tenant) -> None:
    past = {"start": "1999-01-01T10:00:00+00:00", "end": "1999-01-01T11:00:00+00:00", "what": "Party"}
    reply = api.post("/v2/bookings", {"graph": "instant", "event": past, "customer": CUSTOMER}, tenant.v2)
    assert reply.status == 422
    assert (reply.body["error"]["code"], reply.body["error"]["field"]) == ("in_the_past", "event.start")
    assert api.get("/v2/bookings", tenant.v2).body["data"] == []

    future = {"start": START, "end": END, "what": "Party"}
    made = api.post("/v2/bookings", {"graph": "instant", "event": future, "customer": CUSTOMER}, tenant.v2)
    assert made.status == 201
    moved = api.post(
        f"/v2/bookings/{made.body['data']['id']}/reschedule",
        {"start": past["start"], "end": past["end"]},
        tenant.v2,
    )
    assert moved.status == 422 and moved.body["error"]["code"] == "in_the_past"


def test_the_public_key_is_a_customer_and_bound_by_the_groups_windows(api: Api, tenant: Tenant) -> None:
    project = api.post("/v2/projects", {"name": "Studio", "booking": {"graph": "group_customer"}}, tenant.v2)
    assert project.status == 201, project.body
    project_id = project.body["data"]["id"]

    def klass(**settings: Any) -> str:
        body = {"graph": "group_owner", "settings": {"max_seats": 5, **settings}, "start": START, "end": END}
        reply = api.post("/v2/bookings", body | {"what": "Yoga", "project_id": project_id}, tenant.v2)
        assert reply.status == 201, reply.body
        return str(reply.body["data"]["id"])

    seat = {"graph": "group_customer", "customer": CUSTOMER, "project_id": project_id}
    closed = api.post(
        "/v2/bookings", seat | {"related": {"owner_booking_id": klass(min_booking_time="3000 days")}}, tenant.widget
    )
    assert closed.status == 409
    assert closed.error["message"] == "this group can be booked until 3000 days before the start"
    assert "seconds" not in closed.error["message"]

    strict = klass(min_cancel_time="3000 days")
    booked = api.post("/v2/bookings", seat | {"related": {"owner_booking_id": strict}}, tenant.widget)
    assert booked.status == 201, booked.body
    data = booked.body["data"]
    as_customer = {**tenant.widget, "Timekit-Customer-Token": data["customer_action_links"]["token"]}
    late = api.put(f"/v2/bookings/{data['id']}/cancel_by_customer", {}, as_customer)
    assert (late.status, late.error["code"]) == (409, "cancellation_closed")
    assert late.error["message"] == "this booking can be cancelled until 3000 days before the start"
    assert api.get(f"/v2/bookings/{data['id']}", tenant.v2).body["data"]["state"] == "confirmed"
