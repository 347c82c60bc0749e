"""BookingBug people and resources over the one resource model; opening hours; time_data, day_data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.services.selling import bookings, time_claims
from tests.conftest import Api, Tenant, make_tenant

LONDON = ZoneInfo("Europe/London")


def _monday(weeks_ahead: int = 2) -> date:
    today = datetime.now(LONDON).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks_ahead)


def _person(api: Api, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    reply = api.post(f"/api/v1/admin/{tenant.id}/people", {"name": "Emma", **fields}, tenant.admin)
    assert reply.status == 201, reply.body
    body: dict[str, Any] = reply.body
    return body


def _service(api: Api, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Consultation", "duration": 60, "price": 3000, "booking_time_step": 60, **fields}
    reply = api.post(f"/api/v1/admin/{tenant.id}/services", body, tenant.admin)
    assert reply.status == 201, reply.body
    service: dict[str, Any] = reply.body
    return service


# --- people and resources -------------------------------------------------------------------


def test_people_crud_in_bookingbug_shapes(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant, email="emma@example.com", reference="EM1", phone="0123", description="GP")
    assert emma["type"] == "person" and emma["company_id"] == tenant.id
    assert emma["timezone"] == "Europe/London"  # the company's zone by default
    assert emma["phone"] == "0123" and emma["description"] == "GP"  # kept as given
    assert emma["availability_constraints"] == []  # the company's opening hours apply

    public = api.get(f"/api/v1/{tenant.id}/people", tenant.public)
    assert public.status == 200
    assert public.body["total_entries"] == 1
    assert public.body["_embedded"]["people"][0]["id"] == emma["id"]
    assert api.get(f"/api/v1/{tenant.id}/people/{emma['id']}", tenant.public).body["name"] == "Emma"
    found = api.get(f"/api/v1/admin/{tenant.id}/people/find_by_ref/EM1", tenant.admin)
    assert found.status == 200 and found.body["id"] == emma["id"]

    updated = api.put(f"/api/v1/admin/{tenant.id}/people/{emma['id']}", {"name": "Emma B", "phone": "9"}, tenant.admin)
    assert updated.status == 200
    assert updated.body["name"] == "Emma B" and updated.body["email"] == "emma@example.com"
    assert updated.body["phone"] == "9" and updated.body["description"] == "GP"  # the other kept fields stay

    assert api.delete(f"/api/v1/admin/{tenant.id}/people/{emma['id']}", tenant.admin).body["deleted"] is True
    assert api.get(f"/api/v1/{tenant.id}/people/{emma['id']}", tenant.public).status == 404
    assert api.get(f"/api/v1/{tenant.id}/people", tenant.public).body["total_entries"] == 0


def test_people_and_resources_are_separate_collections(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    room = api.post(f"/api/v1/admin/{tenant.id}/resources", {"name": "Room 2", "api_ref": "R2"}, tenant.admin)
    assert room.status == 201 and room.body["type"] == "resource" and room.body["reference"] == "R2"
    assert api.get(f"/api/v1/{tenant.id}/resources/{emma['id']}", tenant.public).status == 404
    assert api.get(f"/api/v1/{tenant.id}/people/{room.body['id']}", tenant.public).status == 404
    listed = api.get(f"/api/v1/admin/{tenant.id}/resources", tenant.admin).body
    assert [r["id"] for r in listed["_embedded"]["resources"]] == [room.body["id"]]


def test_bad_people_input_is_refused_with_nothing_written(api: Api, tenant: Tenant) -> None:
    people = f"/api/v1/admin/{tenant.id}/people"
    for body, field in (
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X", "availability_constraints": [{"allow_hours": {"start": 25, "end": 3}}]}, None),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "colour": "red"}, "colour"),
        ({}, "name"),
    ):
        reply = api.post(people, body, tenant.admin)
        assert reply.status == 422, body
        if field:
            assert reply.body["error"]["field"] == field
    assert api.get(people, tenant.admin).body["total_entries"] == 0
    assert api.post(people, {"name": "X"}, tenant.public).status == 401


def test_people_are_per_company(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    other = make_tenant(api, "Other")
    assert api.get(f"/api/v1/{other.id}/people/{emma['id']}", other.public).status == 404
    assert api.put(f"/api/v1/admin/{other.id}/people/{emma['id']}", {"name": "Y"}, other.admin).status == 404
    assert api.get(f"/api/v1/admin/{tenant.id}/people", other.admin).status in (401, 403, 404)


def test_a_service_names_who_delivers_it(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    room = api.post(f"/api/v1/admin/{tenant.id}/resources", {"name": "Room"}, tenant.admin).body
    service = _service(api, tenant, person_ids=[emma["id"]], resource_ids=[room["id"]])
    assert service["person_ids"] == [emma["id"]] and service["resource_ids"] == [room["id"]]
    assert "time_data?service_id=" in service["_links"]["times"]["href"]
    assert "day_data?service_id=" in service["_links"]["days"]["href"]
    assert api.get(f"/api/v1/{tenant.id}/people/{emma['id']}", tenant.public).body["service_ids"] == [service["id"]]

    wrong_kind = api.post(
        f"/api/v1/admin/{tenant.id}/services", {"name": "S", "person_ids": [room["id"]]}, tenant.admin
    )
    assert wrong_kind.status == 422 and wrong_kind.body["error"]["field"] == "person_ids.0"
    unknown = api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "S", "person_ids": [999999]}, tenant.admin)
    assert unknown.status == 404 and unknown.body["error"]["field"] == "person_ids.0"


# --- opening hours and availability ------------------------------------------------------------


def test_opening_hours_default_and_replace(api: Api, tenant: Tenant) -> None:
    hours = api.get(f"/api/v1/admin/{tenant.id}/opening_hours", tenant.admin)
    assert hours.status == 200 and len(hours.body["availability_constraints"]) == 5
    saturday = [{"allow_day_and_time": {"day": "Saturday", "start": 10, "end": 12}}]
    put = api.put(f"/api/v1/admin/{tenant.id}/opening_hours", {"availability_constraints": saturday}, tenant.admin)
    assert put.status == 200 and put.body["availability_constraints"] == saturday
    bad = [{"allow_day_and_time": {"day": "Caturday", "start": 10, "end": 12}}]
    refused = api.put(f"/api/v1/admin/{tenant.id}/opening_hours", {"availability_constraints": bad}, tenant.admin)
    assert refused.status == 422
    assert (
        api.get(f"/api/v1/admin/{tenant.id}/opening_hours", tenant.admin).body["availability_constraints"] == saturday
    )


def _times(api: Api, tenant: Tenant, service_id: int, day: date, **query: Any) -> list[dict[str, Any]]:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    reply = api.get(
        f"/api/v1/{tenant.id}/time_data?service_id={service_id}&date={day.isoformat()}{extra}", tenant.public
    )
    assert reply.status == 200, reply.body
    events: list[dict[str, Any]] = reply.body["_embedded"]["events"]
    return events


def _book(tenant: Tenant, person_id: int, day: date, hour: int, minutes: int = 60) -> None:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)
    new = bookings.NewBooking(
        graph="instant",
        event={"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat(), "what": "x"},
        customer={"name": "Pat", "email": "pat@example.com"},
        time=time_claims.TimeAsk((person_id,)),
    )
    bookings.create(tenant.id, new)


def test_time_data_offers_each_persons_free_times(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    early = [{"allow_day_and_time": {"day": "Monday", "start": 8, "end": 11}}]
    john = _person(api, tenant, name="John", availability_constraints=early)
    service = _service(api, tenant, person_ids=[emma["id"], john["id"]])
    monday = _monday()

    events = _times(api, tenant, service["id"], monday)
    assert [(e["name"], e["date"]) for e in events] == [("Emma", monday.isoformat()), ("John", monday.isoformat())]
    emma_times, john_times = events[0]["times"], events[1]["times"]
    assert [t["time"] for t in emma_times] == list(range(540, 961, 60))  # 09:00..16:00
    assert [t["time"] for t in john_times] == [480, 540, 600]  # his own hours, not the company's
    assert emma_times[0]["price"] == 3000 and emma_times[0]["avail"] == 1
    assert emma_times[0]["datetime"].startswith(f"{monday.isoformat()}T09:00:00")
    assert events[0]["event_id"] == emma["id"] and events[0]["person_id"] == emma["id"]

    _book(tenant, emma["id"], monday, 10)  # 10:00-11:00 is taken
    emma_now = _times(api, tenant, service["id"], monday, person_id=emma["id"])
    assert len(emma_now) == 1
    assert 600 not in [t["time"] for t in emma_now[0]["times"]]
    assert 540 in [t["time"] for t in emma_now[0]["times"]] and 660 in [t["time"] for t in emma_now[0]["times"]]


def test_pre_and_post_time_pad_the_free_time(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    service = _service(
        api, tenant, person_ids=[emma["id"]], booking_time_step=30, duration=30, pre_time=15, post_time=15
    )
    monday = _monday()
    _book(tenant, emma["id"], monday, 12)  # 12:00-13:00 taken (no padding of its own)
    times = [t["time"] for t in _times(api, tenant, service["id"], monday)[0]["times"]]
    # a 30-minute slot claims 15 minutes before and after it: 11:00 claims 10:45-11:45 (free),
    # 11:30 claims 11:15-12:15 and 13:00 claims 12:45-13:45 (both overlap 12:00-13:00)
    around = [t for t in times if 10 * 60 <= t <= 14 * 60]
    assert around == [600, 630, 660, 810, 840]


def test_time_data_validates_its_query(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    service = _service(api, tenant, person_ids=[emma["id"]])
    base = f"/api/v1/{tenant.id}/time_data"
    assert api.get(f"{base}?date=2031-01-01", tenant.public).status == 422  # no service_id
    assert api.get(f"{base}?service_id=999999", tenant.public).status == 404
    assert api.get(f"{base}?service_id={service['id']}&duration=45", tenant.public).status == 422
    assert api.get(f"{base}?service_id={service['id']}&person_id=999999", tenant.public).status == 404
    long = f"{base}?service_id={service['id']}&date=2031-01-01&end_date=2031-03-01"
    assert api.get(long, tenant.public).status == 422


def test_day_data_counts_free_starts_per_day(api: Api, tenant: Tenant) -> None:
    emma = _person(api, tenant)
    service = _service(api, tenant, person_ids=[emma["id"]])
    monday = _monday()
    sunday = monday + timedelta(days=6)
    reply = api.get(
        f"/api/v1/{tenant.id}/day_data?service_id={service['id']}&date={monday.isoformat()}&edate={sunday.isoformat()}",
        tenant.public,
    )
    assert reply.status == 200, reply.body
    days = reply.body["_embedded"]["day_data"][0]["days"]
    assert [d["spaces"] for d in days] == [8, 8, 8, 8, 8, 0, 0]
    assert reply.body["days"] == days
    _book(tenant, emma["id"], monday, 9, minutes=8 * 60)  # the whole Monday
    again = api.get(
        f"/api/v1/{tenant.id}/day_data?service_id={service['id']}&date={monday.isoformat()}&edate={sunday.isoformat()}",
        tenant.public,
    ).body["days"]
    assert again[0] == {"date": monday.isoformat(), "spaces": 0}


def test_day_data_refuses_a_date_that_is_no_day(api: Api, tenant: Tenant) -> None:
    service = _service(api, tenant, person_ids=[_person(api, tenant)["id"]])
    for query in ("date=6986-32-78", "date=2031-02-30", "date=2031-03-01&edate=2031-13-01"):
        reply = api.get(f"/api/v1/{tenant.id}/day_data?service_id={service['id']}&{query}", tenant.public)
        assert reply.status == 422, (query, reply.body)
        assert reply.body["error"]["field"] in ("date", "edate")
