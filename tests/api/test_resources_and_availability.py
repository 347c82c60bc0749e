"""The Timekit face of issue 11: resources, availability, and bookings that claim time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.services.selling import bookings
from tests.conftest import Api, Tenant

WORKING_HOURS = [
    {"allow_hours": {"start": 9, "end": 17}},
    {"block_hours": {"start": 12, "end": 13}},
    {"block_weekends": {}},
]
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}
DAY = "2031-03-03"  # a Monday


def _resource(api: Api, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    body = {"name": "Doc Brown", "timezone": "Europe/London", "availability_constraints": WORKING_HOURS, **extra}
    reply = api.post("/v2/resources", body, tenant.v2)
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


def _book(
    api: Api, tenant: Tenant, resource_id: str, start: str, end: str, graph: str = "instant", **extra: Any
) -> Any:
    body = {
        "graph": graph,
        "event": {"start": start, "end": end, "what": "Check-up"},
        "customer": CUSTOMER,
        "resource_id": resource_id,
        **extra,
    }
    return api.post("/v2/bookings", body, tenant.v2)


def _slots(api: Api, tenant: Tenant, ids: list[str], **extra: Any) -> Any:
    body = {"resources": ids, "from": f"{DAY}T00:00:00Z", "to": f"{DAY}T23:59:00Z", "length": "1 hour", **extra}
    return api.post("/v2/availability", body, tenant.v2)


def test_resource_crud(api: Api, tenant: Tenant) -> None:
    created = _resource(api, tenant, email="doc@example.com", meta={"t_speciality": "flux"}, first_name="Emmett")
    rid = created["id"]
    assert rid.isdigit()
    assert created["timezone"] == "Europe/London" and created["availability_constraints"] == WORKING_HOURS
    assert created["meta"] == {"t_speciality": "flux"} and created["email"] == "doc@example.com"
    assert api.get(f"/v2/resources/{rid}", tenant.v2).body["data"] == created
    changed = api.put(f"/v2/resources/{rid}", {"timezone": "America/Los_Angeles"}, tenant.v2)
    assert changed.status == 200 and changed.body["data"]["timezone"] == "America/Los_Angeles"
    assert changed.body["data"]["name"] == "Doc Brown"
    _resource(api, tenant, name="Clara")
    listed = api.get("/v2/resources?per_page=1", tenant.v2).body
    assert listed["meta"]["total_entries"] == 2 and len(listed["data"]) == 1 and "next" in listed["_links"]
    assert api.delete(f"/v2/resources/{rid}", tenant.v2).status == 200
    assert api.get(f"/v2/resources/{rid}", tenant.v2).status == 404
    assert api.get("/v2/resources", tenant.v2).body["meta"]["total_entries"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X"}, "timezone"),
        ({"timezone": "UTC"}, "name"),
        ({"name": "X", "timezone": "UTC", "availability_constraints": [{"allow_hours": {"start": 9}}]}, None),
        ({"name": "X", "timezone": "UTC", "availability_constraints": [{"allow_moons": {}}]}, None),
        ({"name": "X", "timezone": "UTC", "password": "hunter2"}, "password"),
        ({"name": "X", "timezone": "UTC", "meta": {"": 1}}, "meta"),
    ],
)
def test_bad_resources_are_422s_and_write_nothing(
    api: Api, tenant: Tenant, body: dict[str, Any], field: str | None
) -> None:
    reply = api.post("/v2/resources", body, tenant.v2)
    assert reply.status == 422, reply.body
    if field is not None:
        assert reply.error["field"] == field
    else:
        assert reply.error["field"].startswith("availability_constraints.0")
    assert api.get("/v2/resources", tenant.v2).body["meta"]["total_entries"] == 0


def test_unknown_resources_are_404(api: Api, tenant: Tenant) -> None:
    for path in ("/v2/resources/999999", "/v2/resources/abc"):
        assert api.get(path, tenant.v2).status == 404
    assert api.put("/v2/resources/999999", {"name": "Y"}, tenant.v2).status == 404
    reply = _slots(api, tenant, ["999999"])
    assert reply.status == 404 and reply.error["field"] == "resources.0"
    assert _slots(api, tenant, ["not-a-uuid-we-know"]).status == 404


def test_availability_books_and_the_slot_disappears(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    reply = _slots(api, tenant, [doc["id"]], output_timezone="Europe/London")
    assert reply.status == 200, reply.body
    starts = [slot["start"] for slot in reply.body["data"]]
    assert starts == [f"{DAY}T{h:02d}:00:00+00:00" for h in (9, 10, 11, 13, 14, 15, 16)]
    assert reply.body["data"][0]["resources"] == [{"id": doc["id"], "name": "Doc Brown", "timezone": "Europe/London"}]
    booked = _book(api, tenant, doc["id"], f"{DAY}T10:00:00Z", f"{DAY}T11:00:00Z")
    assert booked.status == 201, booked.body
    assert booked.body["data"]["resource"] == {"id": doc["id"], "name": "Doc Brown", "timezone": "Europe/London"}
    after = [slot["start"][11:16] for slot in _slots(api, tenant, [doc["id"]]).body["data"]]
    assert after == ["09:00", "11:00", "13:00", "14:00", "15:00", "16:00"]
    twice = _book(api, tenant, doc["id"], f"{DAY}T10:30:00Z", f"{DAY}T11:30:00Z")
    assert twice.status == 409 and twice.error["code"] == "time_taken"
    assert twice.body["error"]["conflict"] == {"start": f"{DAY}T10:00:00Z", "end": f"{DAY}T11:00:00Z"}
    # cancelling gives the hour back
    bid = booked.body["data"]["id"]
    assert api.put(f"/v2/bookings/{bid}/cancel", {}, tenant.v2).status == 200
    assert "10:00" in [slot["start"][11:16] for slot in _slots(api, tenant, [doc["id"]]).body["data"]]


def test_availability_modes_buffer_and_increments(api: Api, tenant: Tenant) -> None:
    a, b = _resource(api, tenant, name="A"), _resource(api, tenant, name="B")
    assert _book(api, tenant, a["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").status == 201
    mutual = _slots(api, tenant, [a["id"], b["id"]], mode="mutual").body["data"]
    assert mutual[0]["start"].startswith(f"{DAY}T10:00") and len(mutual[0]["resources"]) == 2
    first = _slots(api, tenant, [a["id"], b["id"]], mode="roundrobin_prioritized").body["data"][0]
    assert first["resources"][0]["id"] == b["id"]  # A is busy at 09:00
    exclusive = _slots(api, tenant, [a["id"], b["id"]], mode="exclusive").body["data"]
    assert [r["id"] for r in exclusive[1]["resources"]] == [a["id"], b["id"]]
    buffered = _slots(api, tenant, [a["id"]], buffer="30 minutes", timeslot_increments="30 minutes").body["data"]
    assert buffered[0]["start"].startswith(f"{DAY}T10:30")
    narrowed = _slots(api, tenant, [b["id"]], constraints=[{"allow_hours": {"start": 14, "end": 16}}]).body["data"]
    assert [s["start"][11:16] for s in narrowed] == ["14:00", "15:00"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"mode": "lottery"}, "mode"),
        ({"length": "a while"}, "length"),
        ({"from": "soon"}, "from"),
        ({"to": "2099-01-01T00:00:00Z", "from": "2031-01-01T00:00:00Z"}, "to"),
        ({"buffer": "2 days"}, "buffer"),
        ({"output_timezone": "Nowhere/Land"}, "output_timezone"),
        ({"constraints": [{"allow_hours": {"start": 30, "end": 2}}]}, "constraints.0.allow_hours.start"),
        ({"timeslot_increments": "30 seconds"}, "timeslot_increments"),
        ({"resources": []}, "resources"),
    ],
)
def test_bad_availability_requests_are_422(api: Api, tenant: Tenant, extra: dict[str, Any], field: str) -> None:
    doc = _resource(api, tenant)
    reply = _slots(api, tenant, [doc["id"]], **extra)
    assert reply.status == 422, reply.body
    assert reply.error["field"] == field


def test_keys_a_project_posts_back_are_accepted(api: Api, tenant: Tenant) -> None:
    """The widget posts its project's availability object verbatim: unknown keys are not errors."""
    doc = _resource(api, tenant)
    reply = _slots(api, tenant, [doc["id"]], ignore_all_day_events=True, closest_time_interval="15 minutes")
    assert reply.status == 200, reply.body
    assert reply.body["data"] == _slots(api, tenant, [doc["id"]]).body["data"]


def test_a_projects_resources_and_settings_apply_and_the_request_overrides_them(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    project = api.post(
        "/v2/projects",
        {
            "name": "Clinic",
            "resources": [doc["id"]],
            "availability": {"length": "2 hours", "from": f"{DAY}T00:00:00Z", "to": f"{DAY}T23:59:00Z"},
            "availability_constraints": [{"allow_hours": {"start": 9, "end": 13}}],
        },
        tenant.v2,
    ).body["data"]
    by_project = api.post("/v2/availability", {"project_id": project["id"]}, tenant.v2)
    assert by_project.status == 200, by_project.body
    # the resource's hours (lunch 12-13 blocked) and the project's (9-13) both hold
    assert [(s["start"][11:16], s["end"][11:16]) for s in by_project.body["data"]] == [("09:00", "11:00")]
    assert by_project.body["data"][0]["resources"][0]["id"] == doc["id"]
    shorter = api.post("/v2/availability", {"project_id": project["id"], "length": "1 hour"}, tenant.widget)
    assert shorter.status == 200, shorter.body  # the public key may ask, and the request's length wins
    assert [s["start"][11:16] for s in shorter.body["data"]] == ["09:00", "10:00", "11:00"]
    assert api.post("/v2/availability", {"length": "1 hour"}, tenant.v2).error["field"] == "resources"


def test_an_unknown_project_is_not_found(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    reply = _slots(api, tenant, [doc["id"]], project_id="5f5e0c0e-0000-0000-0000-000000000000")
    assert reply.status == 404 and reply.error["field"] == "project_id"


def test_default_window_is_four_weeks_from_now(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant, availability_constraints=[])
    reply = api.post("/v2/availability", {"resources": [doc["id"]], "timeslot_increments": "1 day"}, tenant.v2)
    assert reply.status == 200
    assert 27 <= len(reply.body["data"]) <= 28
    first = datetime.fromisoformat(reply.body["data"][0]["start"])
    assert abs(first - datetime.now(UTC)) < timedelta(days=1)


def test_booking_names_its_resource_in_event_or_top_level(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    body = {
        "graph": "confirm_decline",
        "event": {"start": f"{DAY}T14:00:00Z", "end": f"{DAY}T15:00:00Z", "what": "X", "resource_id": doc["id"]},
        "customer": CUSTOMER,
    }
    pending = api.post("/v2/bookings", body, tenant.v2)
    assert pending.status == 201 and pending.body["data"]["resource"]["id"] == doc["id"]
    assert "resource_id" not in pending.body["data"]["attributes"]["event_info"]
    # a pending request holds its time
    clash = _book(api, tenant, doc["id"], f"{DAY}T14:30:00Z", f"{DAY}T15:30:00Z", graph="confirm_decline")
    assert clash.status == 409 and clash.error["code"] == "time_taken"
    # declining frees it
    assert api.put(f"/v2/bookings/{pending.body['data']['id']}/decline", {}, tenant.v2).status == 200
    assert _book(api, tenant, doc["id"], f"{DAY}T14:30:00Z", f"{DAY}T15:30:00Z").status == 201
    # two different resources named: 422; unknown or deleted resource: 404
    both = {**body, "resource_id": "12345"}
    assert api.post("/v2/bookings", both, tenant.v2).status == 422
    for rid in ("999999", "nope"):
        reply = _book(api, tenant, rid, f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z")
        assert reply.status == 404 and reply.error["field"] == "resource_id", reply.body
    gone = _resource(api, tenant, name="Gone")
    api.delete(f"/v2/resources/{gone['id']}", tenant.v2)
    assert _book(api, tenant, gone["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").status == 404


def test_claim_limits_are_422(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    long = _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", "2031-03-11T09:00:00Z")
    assert long.status == 422 and long.error["code"] == "interval_too_long"
    seconds = _book(api, tenant, doc["id"], f"{DAY}T09:00:30Z", f"{DAY}T10:00:00Z")
    assert seconds.status == 422 and seconds.error["code"] == "time_not_on_minute"


def test_payment_timeout_releases_the_time(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    unpaid = _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z", graph="instant_payment")
    assert unpaid.status == 201 and unpaid.body["data"]["state"] == "tentative"
    assert _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").status == 409
    booking = bookings.get(tenant.id, unpaid.body["data"]["id"])
    assert booking.timer_action == "timeout"
    assert bookings.run_timer(booking) is not None
    assert bookings.get(tenant.id, booking.booking_id).state == "unpaid"
    assert _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").status == 201


def test_reschedule_moves_the_claim(api: Api, tenant: Tenant) -> None:
    doc, other = _resource(api, tenant), _resource(api, tenant, name="Clara")
    first = _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").body["data"]
    _book(api, tenant, doc["id"], f"{DAY}T13:00:00Z", f"{DAY}T14:00:00Z")
    clash = api.post(
        f"/v2/bookings/{first['id']}/reschedule", {"start": f"{DAY}T13:30:00Z", "end": f"{DAY}T14:30:00Z"}, tenant.v2
    )
    assert clash.status == 409 and clash.error["code"] == "time_taken"
    assert api.get(f"/v2/bookings/{first['id']}", tenant.v2).body["data"]["state"] == "confirmed"
    moved = api.post(
        f"/v2/bookings/{first['id']}/reschedule",
        {"start": f"{DAY}T13:00:00Z", "end": f"{DAY}T14:00:00Z", "resource_id": other["id"]},
        tenant.v2,
    )
    assert moved.status == 201, moved.body
    assert moved.body["data"]["resource"]["id"] == other["id"]
    # the old hour on Doc is free again
    assert _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").status == 201


def test_reserving_time_holds_it_until_booked_or_lapsed(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    window = {"resource_id": doc["id"], "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z", "what": "Check-up"}
    held = api.post("/v2/bookings/reserve", {**window, "customer": CUSTOMER}, tenant.v2)
    assert held.status == 201, held.body
    data = held.body["data"]
    assert data["resource"]["id"] == doc["id"] and data["seats"] == 0 and data["start"].startswith(f"{DAY}T09:00")
    # held: not offered, not bookable, not reservable twice
    assert "09:00" not in [s["start"][11:16] for s in _slots(api, tenant, [doc["id"]]).body["data"]]
    assert _book(api, tenant, doc["id"], f"{DAY}T09:30:00Z", f"{DAY}T10:30:00Z").status == 409
    assert api.post("/v2/bookings/reserve", window, tenant.v2).status == 409
    extended = api.put("/v2/bookings/reserve/extend", {"reservation_id": data["id"]}, tenant.v2)
    assert extended.status == 200 and extended.body["data"]["extensions"] == 1
    # converted into a booking: it keeps the time, the hold is gone, nobody else can take it
    booked = api.post(
        "/v2/bookings", {"graph": "instant", "reservation_id": data["id"], "customer": CUSTOMER}, tenant.v2
    )
    assert booked.status == 201, booked.body
    assert booked.body["data"]["resource"]["id"] == doc["id"]
    assert booked.body["data"]["attributes"]["event_info"]["start"].startswith(f"{DAY}T09:00")
    again = api.post("/v2/bookings", {"graph": "instant", "reservation_id": data["id"]}, tenant.v2)
    assert again.status == 409 and again.error["code"] == "hold_expired"
    assert _book(api, tenant, doc["id"], f"{DAY}T09:30:00Z", f"{DAY}T10:30:00Z").status == 409


def test_a_lapsed_time_reservation_is_free_before_any_sweep_and_the_sweep_releases_it(
    api: Api, tenant: Tenant, travel: Callable[[float], None]
) -> None:
    from chalicelib.domain import clock
    from chalicelib.services.selling import holds, sweeper, time_claims

    doc = _resource(api, tenant)
    window = {"resource_id": doc["id"], "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z"}
    held = api.post("/v2/bookings/reserve", {**window, "reservation_time": 10}, tenant.v2).body["data"]
    travel(60)
    later = clock.now()
    booked = _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z")
    assert booked.status == 201, booked.body
    assert sweeper.sweep(later).by_kind.get("Hold") == 1
    assert holds.get(tenant.id, held["id"]).status == "expired"
    assert time_claims.owners_on(int(doc["id"]), [DAY]) == {booked.body["data"]["id"]}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"resource_id": "1", "start": f"{DAY}T09:00:00Z"}, 422, "end"),
        ({"start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z"}, 422, "resource_id"),
        ({"resource_id": "999999", "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z"}, 404, "resource_id"),
        ({"resource_id": "1", "start": f"{DAY}T10:00:00Z", "end": f"{DAY}T09:00:00Z"}, 422, "end"),
        (
            {"resource_id": "1", "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z", "graph": "group_owner"},
            422,
            "graph",
        ),
    ],
)
def test_bad_time_reservations(api: Api, tenant: Tenant, body: dict[str, Any], status: int, field: str) -> None:
    reply = api.post("/v2/bookings/reserve", body, tenant.v2)
    assert reply.status == status, reply.body
    assert reply.error["field"] == field


def test_bookings_can_be_searched_by_resource(api: Api, tenant: Tenant) -> None:
    doc, clara = _resource(api, tenant), _resource(api, tenant, name="Clara")
    mine = _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").body["data"]["id"]
    _book(api, tenant, clara["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z")
    found = api.get(f"/v2/bookings?search=resource.id:{doc['id']};graph:instant", tenant.v2).body
    assert [b["id"] for b in found["data"]] == [mine] and found["meta"]["total_entries"] == 1


def test_group_bookings_do_not_claim_time_yet(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    body = {
        "graph": "group_owner",
        "settings": {"max_seats": 3},
        "start": f"{DAY}T09:00:00Z",
        "end": f"{DAY}T10:00:00Z",
        "what": "Class",
        "resource_id": doc["id"],
    }
    reply = api.post("/v2/bookings", body, tenant.v2)
    assert reply.status == 422 and reply.error["field"] == "resource_id"


def test_resource_references_are_unique_and_find_the_resource(api: Api, tenant: Tenant) -> None:
    from chalicelib.domain.errors import Conflict, NotFound
    from chalicelib.services.catalogue import resources

    emma = resources.create(tenant.id, {"name": "Emma", "timezone": "Europe/London", "reference": "E1"}, kind="person")
    assert emma.resource_kind == "person"
    with pytest.raises(Conflict) as taken:
        resources.create(tenant.id, {"name": "Other", "timezone": "UTC", "reference": "E1"})
    assert taken.value.code == "duplicate_reference"
    assert int(resources.find_by_ref(tenant.id, "E1").resource_id) == int(emma.resource_id)
    resources.update(tenant.id, int(emma.resource_id), {"reference": "E2"})
    with pytest.raises(NotFound):
        resources.find_by_ref(tenant.id, "E1")
    assert resources.find_by_ref(tenant.id, "E2").name == "Emma"
    assert resources.listing(tenant.id, 1, 10, kind="resource").total == 0
    assert resources.listing(tenant.id, 1, 10, kind="person").total == 1


def test_a_booking_page_cannot_reserve_a_resources_time(api: Api, tenant: Tenant) -> None:
    doc = _resource(api, tenant)
    window = {"resource_id": doc["id"], "start": f"{DAY}T09:00:00Z", "end": f"{DAY}T10:00:00Z"}
    reply = api.post("/v2/bookings/reserve", window, tenant.widget)
    assert reply.status == 403 and reply.error["field"] == "resource_id"
    assert _book(api, tenant, doc["id"], f"{DAY}T09:00:00Z", f"{DAY}T10:00:00Z").status == 201
