"""The public key on /v2 as a booking page's widget key: what it may do, and its rate limit."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.settings import reset_settings
from tests.conftest import Api, Tenant, make_tenant

DAY = "2031-03-03"  # a Monday
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com", "timezone": "Europe/London"}


def _resource(api: Api, tenant: Tenant, name: str = "Doc Brown") -> str:
    body = {
        "name": name,
        "timezone": "Europe/London",
        "availability_constraints": [{"allow_hours": {"start": 9, "end": 17}}],
    }
    created = api.post("/v2/resources", body, tenant.v2)
    assert created.status == 201, created.body
    rid: str = created.body["data"]["id"]
    return rid


def _project(api: Api, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    created = api.post("/v2/projects", {"name": "Clinic", **fields}, tenant.v2)
    assert created.status == 201, created.body
    data: dict[str, Any] = created.body["data"]
    return data


def _appointment(project: dict[str, Any], resource_id: str, hour: int = 9, **extra: Any) -> dict[str, Any]:
    return {
        "graph": "instant",
        "start": f"{DAY}T{hour:02d}:00:00+00:00",
        "end": f"{DAY}T{hour + 1:02d}:00:00+00:00",
        "what": "Check-up",
        "customer": CUSTOMER,
        "project_id": project["id"],
        "resource_id": resource_id,
        **extra,
    }


def test_a_booking_page_books_its_projects_resource_and_keeps_the_customers_fields(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    project = _project(api, tenant, resources=[doc], booking={"graph": "instant", "rescheduling_url": "x"})
    customer = {**CUSTOMER, "first_name": "Marty", "last_name": "McFly", "comment": "Flux", "where": "Hill Valley"}
    body = _appointment(project, doc, customer=customer | {"fav_color": "red", "newsletter": True})
    created = api.post("/v2/bookings", body, tenant.widget)
    assert created.status == 201, created.body
    data = created.body["data"]
    assert data["project_id"] == project["id"] and data["resource"]["id"] == doc
    kept = data["customers"][0]
    assert (kept["comment"], kept["first_name"], kept["where"], kept["fav_color"], kept["newsletter"]) == (
        "Flux",
        "Marty",
        "Hill Valley",
        "red",
        True,
    )
    assert data["customer_action_links"]["reschedule_by_customer"].split("?")[0].endswith(f"/book/{project['slug']}")
    read = api.get(f"/v2/bookings/{data['id']}", tenant.v2).body["data"]
    assert read["customers"][0]["fav_color"] == "red"


def test_what_a_booking_page_may_not_book(api: Api, tenant: Tenant) -> None:
    doc, other = _resource(api, tenant), _resource(api, tenant, "Other")
    project = _project(api, tenant, resources=[doc])
    no_project = {k: v for k, v in _appointment(project, doc).items() if k != "project_id"}
    for body, status, field in (
        (no_project, 422, "project_id"),
        (_appointment(project, doc, graph="confirm_decline"), 403, "graph"),
        (_appointment(project, other), 403, "resource_id"),
        (_appointment(project, doc, project_id="5f5e0c0e-0000-0000-0000-000000000000"), 404, "project_id"),
        (_appointment(project, doc, customer=CUSTOMER | {"bad name": "x"}), 422, "customer"),
    ):
        reply = api.post("/v2/bookings", body, tenant.widget)
        assert reply.status == status and reply.error["field"] == field, (body, reply.body)
    assert api.get("/v2/bookings", tenant.v2).body["meta"]["total_entries"] == 0
    other_company = make_tenant(api, "Other company")
    assert api.post("/v2/bookings", _appointment(project, doc), other_company.widget).error["field"] == "project_id"


def test_group_mode_lists_the_projects_open_classes_and_books_a_seat(api: Api, tenant: Tenant) -> None:
    project = _project(api, tenant, booking={"graph": "group_customer"})
    klass = {"graph": "group_owner", "settings": {"max_seats": 2}, "what": "Yoga", "project_id": project["id"]}
    owner = api.post("/v2/bookings", klass | {"start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z"}, tenant.v2).body[
        "data"
    ]
    elsewhere = api.post(
        "/v2/bookings",
        {k: v for k, v in klass.items() if k != "project_id"}
        | {"start": f"{DAY}T11:00:00Z", "end": f"{DAY}T12:00:00Z"},
        tenant.v2,
    ).body["data"]
    listed = api.get(f"/v2/bookings/groups?search=project.id:{project['id']}", tenant.widget)
    assert listed.status == 200, listed.body
    assert [group["id"] for group in listed.body["data"]] == [owner["id"]]
    assert api.get("/v2/bookings/groups", tenant.widget).error["field"] == "search"
    seat = {"graph": "group_customer", "customer": CUSTOMER, "project_id": project["id"]}
    booked = api.post("/v2/bookings", seat | {"related": {"owner_booking_id": owner["id"]}}, tenant.widget)
    assert booked.status == 201, booked.body
    assert booked.body["data"]["related"]["owner_booking_id"] == owner["id"]
    refused = api.post("/v2/bookings", seat | {"related": {"owner_booking_id": elsewhere["id"]}}, tenant.widget)
    assert refused.status == 404 and refused.error["field"] == "related.owner_booking_id"
    held = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": owner["id"]}}, tenant.widget)
    assert held.status == 201, held.body
    group = api.get(f"/v2/bookings/groups/{owner['id']}", tenant.v2).body["data"]["attributes"]["group_booking"]
    assert (group["current_seats"], group["held_seats"]) == (1, 1)
    assert (
        api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": elsewhere["id"]}}, tenant.widget).status
        == 404
    )


def test_the_customers_link_reschedules_and_cancels_that_booking_only(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    project = _project(api, tenant, resources=[doc])
    first = api.post("/v2/bookings", _appointment(project, doc, 9), tenant.widget).body["data"]
    second = api.post("/v2/bookings", _appointment(project, doc, 11), tenant.widget).body["data"]
    token = first["customer_action_links"]["token"]
    move = {"start": f"{DAY}T14:00:00+00:00", "end": f"{DAY}T15:00:00+00:00", "resource_id": doc, "message": "later"}
    assert api.post(f"/v2/bookings/{first['id']}/reschedule", move, tenant.widget).status == 401
    stolen = api.post(
        f"/v2/bookings/{second['id']}/reschedule", move, {**tenant.widget, "Timekit-Customer-Token": token}
    )
    assert stolen.status == 401 and stolen.error["field"] == "Timekit-Customer-Token"
    moved = api.post(f"/v2/bookings/{first['id']}/reschedule", move, {**tenant.widget, "Timekit-Customer-Token": token})
    assert moved.status == 201, moved.body
    new = moved.body["data"]
    assert new["rescheduled_from"] == first["id"] and new["attributes"]["event_info"]["start"].startswith(
        f"{DAY}T14:00"
    )
    new_token = {**tenant.widget, "Timekit-Customer-Token": new["customer_action_links"]["token"]}
    assert api.put(f"/v2/bookings/{new['id']}/cancel", {}, new_token).status == 403
    cancelled = api.put(f"/v2/bookings/{new['id']}/cancel_by_customer", {}, new_token)
    assert cancelled.status == 200 and cancelled.body["data"]["state"] == "cancelled_by_customer"


def test_public_requests_are_rate_limited_per_key_and_address(
    api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import clock

    project = _project(api, tenant)
    other = make_tenant(api, "Other")
    # One fixed moment, 15.5 s into a minute: every request below falls in that minute's window.
    clock.set_clock(lambda: 1_900_000_035.5)
    monkeypatch.setenv("PUBLIC_REQUESTS_PER_MINUTE", "3")
    reset_settings()
    try:
        statuses = [api.get(f"/v2/projects/{project['id']}", tenant.widget).status for _ in range(4)]
        refused = api.get(f"/v2/projects/{project['id']}", tenant.widget)
        assert statuses == [200, 200, 200, 429]
        assert refused.error["code"] == "rate_limited" and refused.headers["Retry-After"] == "45"
        assert api.get(f"/api/v1/{other.id}/services", other.public).status == 200  # another key: its own count
        assert api.get(f"/v2/projects/{project['id']}", tenant.v2).status == 200  # the secret key: not limited
    finally:
        clock.set_clock(None)
        monkeypatch.delenv("PUBLIC_REQUESTS_PER_MINUTE")
        reset_settings()
