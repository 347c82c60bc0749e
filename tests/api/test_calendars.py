"""A booking as an iCalendar file, parsed back: one UID through reschedules, a SEQUENCE that grows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar

from tests.conftest import Api, Tenant

EVENT = {
    "start": "2031-03-01T08:00:00+00:00",
    "end": "2031-03-01T09:00:00+00:00",
    "what": "Mens haircut",
    "where": "Sesame St, Middleburg",
}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}
SOON = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()  # inside the feed's year ahead


def _ical(api: Api, tenant: Tenant, booking_id: str) -> Any:
    reply = api.get(f"/v2/bookings/{booking_id}/ical", tenant.v2)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/calendar")
    assert isinstance(reply.body, str)  # not JSON: the client hands back the text
    calendar = Calendar.from_ical(reply.body)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_a_booking_served_as_ical_parses_and_keeps_its_uid_through_reschedules(api: Api, tenant: Tenant) -> None:
    created = api.post("/v2/bookings", {"graph": "instant", "event": EVENT, "customer": CUSTOMER}, tenant.v2)
    first_id = created.body["data"]["id"]
    calendar, event = _ical(api, tenant, first_id)
    assert str(calendar["METHOD"]) == "REQUEST" and str(event["STATUS"]) == "CONFIRMED"
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Mens haircut", "Sesame St, Middleburg")
    assert event.decoded("DTSTART").isoformat() == "2031-03-01T08:00:00+00:00"
    uid, first_sequence = str(event["UID"]), int(event["SEQUENCE"])

    move = {"start": "2031-04-01T10:00:00+00:00", "end": "2031-04-01T11:00:00+00:00"}
    moved_id = api.post(f"/v2/bookings/{first_id}/reschedule", move, tenant.v2).body["data"]["id"]
    _, moved = _ical(api, tenant, moved_id)
    assert str(moved["UID"]) == uid and int(moved["SEQUENCE"]) > first_sequence
    assert moved.decoded("DTSTART").isoformat() == "2031-04-01T10:00:00+00:00"

    again = api.post(f"/v2/bookings/{moved_id}/reschedule", move | {"start": "2031-04-01T09:00:00+00:00"}, tenant.v2)
    _, twice = _ical(api, tenant, again.body["data"]["id"])
    assert str(twice["UID"]) == uid and int(twice["SEQUENCE"]) > int(moved["SEQUENCE"])

    assert api.put(f"/v2/bookings/{again.body['data']['id']}/cancel", {}, tenant.v2).status == 200
    calendar, cancelled = _ical(api, tenant, again.body["data"]["id"])
    assert str(calendar["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == uid and int(cancelled["SEQUENCE"]) > int(twice["SEQUENCE"])


def test_unknown_and_another_companys_bookings_are_404(api: Api, tenant: Tenant) -> None:
    assert api.get("/v2/bookings/00000000-0000-0000-0000-000000000000/ical", tenant.v2).status == 404


def test_a_resources_secret_feed_lists_its_bookings(api: Api, tenant: Tenant) -> None:
    body = {
        "name": "Doc Brown",
        "timezone": "UTC",
        "availability_constraints": [{"allow_hours": {"start": 0, "end": 24}}],
    }
    doc = api.post("/v2/resources", body, tenant.v2).body["data"]["id"]
    for hour in (8, 10):
        event = {
            "start": f"{SOON}T{hour:02d}:00:00+00:00",
            "end": f"{SOON}T{hour + 1:02d}:00:00+00:00",
            "what": f"Visit {hour}",
        }
        made = api.post(
            "/v2/bookings", {"graph": "instant", "event": event, "customer": CUSTOMER, "resource_id": doc}, tenant.v2
        )
        assert made.status == 201, made.body
    api.post("/v2/bookings", {"graph": "instant", "event": EVENT, "customer": CUSTOMER}, tenant.v2)  # no resource
    url = api.get(f"/v2/resources/{doc}/calendar_feed", tenant.v2).body["data"]["url"]
    path = "/" + url.split("/", 3)[3]
    served = api.get(path, {})
    assert served.status == 200 and served.headers["Content-Type"].startswith("text/calendar")
    feed = Calendar.from_ical(served.body)
    assert str(feed["METHOD"]) == "PUBLISH"
    assert [str(e["SUMMARY"]) for e in feed.walk("VEVENT")] == ["Visit 8", "Visit 10"]
    assert api.get(path[:-3] + "xyz", {}).status == 404  # the URL is the secret
    assert api.get(f"/v2/resources/{doc}/calendar_feed", {}).status == 401


def test_a_purchase_served_as_ical_by_its_long_id(api: Api, tenant: Tenant) -> None:
    """A BookingBug booker's purchase (issue 14, section 4): every booking of it, REQUEST while it
    stands, CANCEL once cancelled; the long id is the only credential beyond the app key."""
    body = {"name": "Pilates", "start_date": "2031-03-03", "time": "09:00", "duration": 45, "spaces": 3}
    chain = api.post(f"/api/v1/admin/{tenant.id}/event_chains", body, tenant.admin).body
    event_id = chain["_embedded"]["events"][0]["id"]
    added = api.post(f"/api/v1/{tenant.id}/basket/add_item", {"event_id": event_id}, tenant.public)
    purchase = api.post(
        f"/api/v1/{tenant.id}/basket/checkout",
        {"client": {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}},
        {**tenant.public, "Auth-Token": added.headers["Auth-Token"]},
    ).body
    path = f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}/ical"
    served = api.call("GET", path, None, tenant.public)
    assert served.status == 200 and served.headers["Content-Type"].startswith("text/calendar")
    assert isinstance(served.body, str)
    calendar = Calendar.from_ical(served.body)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Pilates" and str(event["status"]) == "CONFIRMED"
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=45)
    booking_id = purchase["_embedded"]["bookings"][0]["id"]
    assert str(event["uid"]) == f"{booking_id}@booking-engine"

    api.delete(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}", tenant.public)
    cancelled = Calendar.from_ical(api.call("GET", path, None, tenant.public).body)
    assert str(cancelled["method"]) == "CANCEL"
    (gone,) = cancelled.walk("VEVENT")
    assert str(gone["status"]) == "CANCELLED" and int(str(gone["sequence"])) > int(str(event["sequence"]))
    assert api.call("GET", f"/api/v1/{tenant.id}/purchases/{'0' * 32}/ical", None, tenant.public).status == 404
