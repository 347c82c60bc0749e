"""Service slots through the basket: add_item with service_id, date and time, then checkout (on moto)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Tenant

TEN_YEARS = 10 * 365 * 86_400
SUMMER = "2031-07-01"  # British Summer Time: 09:00 local is 08:00 UTC
CLIENT = {"email": "sam@example.com", "first_name": "Sam", "last_name": "Ray"}


def _service(api: Api, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Massage",
        "durations": [30, 60],
        "prices": [1000, 1800],
        "spaces": 2,
        "booking_time_step": 30,
        "max_bookings": 2,
        "max_advance_period": TEN_YEARS,
        "min_cancel_period": 0,
    }
    created = api.post(f"/api/v1/admin/{tenant.id}/services", body | fields, tenant.admin)
    assert created.status == 201, created.body
    service: dict[str, Any] = created.body
    return service


def _add(api: Api, tenant: Tenant, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {**tenant.public, **({"Auth-Token": token} if token else {})}
    return api.post(f"/api/v1/{tenant.id}/basket/add_item", body, headers)


def _slot(service: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"service_id": service["id"], "date": SUMMER, "time": 9 * 60} | fields


def _basket(tenant: Tenant, token: str) -> dict[str, str]:
    return {**tenant.public, "Auth-Token": token}


def _checkout(api: Api, tenant: Tenant, token: str, **body: Any) -> Any:
    return api.post(f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT} | body, _basket(tenant, token))


def test_a_slot_is_held_checked_out_priced_and_listed_in_v2(api: Api, tenant: Tenant) -> None:
    group = api.post(
        f"/api/v1/admin/{tenant.id}/question_groups",
        {
            "name": "Intake",
            "questions": [
                {
                    "name": "Oil",
                    "detail_type": "select-price",
                    "options": [{"name": "No"}, {"name": "Yes", "price": 250}],
                }
            ],
        },
        tenant.admin,
    ).body
    service = _service(api, tenant, detail_group_id=group["id"], min_cancel_period=2 * 86_400)
    added = _add(api, tenant, _slot(service, duration=60, num_book=2))
    assert added.status == 201, added.body
    token = added.headers["Auth-Token"]
    (item,) = added.body["_embedded"]["items"]
    assert (item["kind"], item["service_id"], item["event_id"], item["num_book"]) == ("slot", service["id"], None, 2)
    assert (item["datetime"], item["slot_time"], item["time"]) == ("2031-07-01T09:00:00+01:00", 540, "09:00")
    assert (item["duration"], item["price"], item["total_price"], item["status"]) == (60, 1800, 3600, "held")
    assert added.body["total_price"] == 3600

    full = _add(api, tenant, _slot(service, duration=60))
    assert full.status == 409
    assert full.body["message"] == "NoSpaceLeftError" and full.body["error"] == "No Space Left"
    assert full.body["data"] == {"service_id": service["id"], "name": "Massage", "spaces_left": 0}
    # the 30-minute slot at the same time is a capacity of its own (a documented limit)
    assert _add(api, tenant, _slot(service, duration=30)).status == 201

    oil = group["questions"][0]["id"]
    done = _checkout(api, tenant, token, answers=[{"id": oil, "answer": "Yes", "price": 0}])
    assert done.status == 201, done.body
    purchase = done.body
    assert purchase["total_price"] == 2 * 1800 + 2 * 250  # server prices: duration's price plus the option's
    (booking,) = purchase["_embedded"]["bookings"]
    assert (booking["booking_type"], booking["service_id"], booking["event_id"]) == ("service", service["id"], None)
    assert (booking["datetime"], booking["end_datetime"]) == ("2031-07-01T08:00:00Z", "2031-07-01T09:00:00Z")
    assert (booking["quantity"], booking["state"], booking["duration"]) == (2, "confirmed", 60)
    assert booking["min_cancellation_time"] == "2031-06-29T08:00:00Z"  # the service's min_cancel_period
    assert [a["answer"] for a in booking["_embedded"]["answers"]] == ["Yes"]

    (engine,) = api.get("/v2/bookings", tenant.v2).body["data"]
    assert (engine["id"], engine["graph"], engine["state"]) == (booking["id"], "instant", "confirmed")
    info = engine["attributes"]["event_info"]
    assert (info["start"], info["end"], info["what"]) == ("2031-07-01T08:00:00Z", "2031-07-01T09:00:00Z", "Massage")
    assert _add(api, tenant, _slot(service, duration=60)).status == 409  # booked, still full


def test_the_default_duration_is_the_first_and_a_booker_cancels_within_min_cancel(api: Api, tenant: Tenant) -> None:
    service = _service(api, tenant, spaces=1)
    added = _add(api, tenant, _slot(service))
    assert added.status == 201, added.body
    (item,) = added.body["_embedded"]["items"]
    assert (item["duration"], item["price"]) == (30, 1000)
    purchase = _checkout(api, tenant, added.headers["Auth-Token"]).body
    assert _add(api, tenant, _slot(service)).status == 409
    cancelled = api.delete(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}", tenant.public)
    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"
    assert _add(api, tenant, _slot(service)).status == 201  # the space came back once

    strict = _service(api, tenant, name="Strict", min_cancel_period=TEN_YEARS)
    held = _add(api, tenant, _slot(strict))
    kept = _checkout(api, tenant, held.headers["Auth-Token"], client=CLIENT | {"email": "kim@example.com"}).body
    refused = api.delete(f"/api/v1/{tenant.id}/purchases/{kept['long_id']}", tenant.public)
    assert refused.status == 409 and refused.body["error"]["code"] == "cancellation_closed"


def _refusal(reply: Any) -> tuple[int, str | None, str | None]:
    error = reply.body.get("error", {}) if isinstance(reply.body, dict) else {}
    return reply.status, error.get("field"), error.get("code")


def test_each_refusal_names_its_field_and_holds_nothing(api: Api, tenant: Tenant) -> None:
    service = _service(api, tenant)
    near = _service(api, tenant, name="Near", max_advance_period=30 * 86_400)
    disabled = _service(api, tenant, name="Off", disabled=True)
    deleted = _service(api, tenant, name="Gone")
    assert api.delete(f"/api/v1/admin/{tenant.id}/services/{deleted['id']}", tenant.admin).status == 200

    assert _refusal(_add(api, tenant, _slot(deleted))) == (404, "service_id", "not_found")
    assert _refusal(_add(api, tenant, {**_slot(service), "service_id": 999_999})) == (404, "service_id", "not_found")
    assert _refusal(_add(api, tenant, _slot(disabled)))[:3:2] == (409, "service_disabled")
    assert _refusal(_add(api, tenant, _slot(service, time=9 * 60 + 15))) == (422, "time", "time_not_on_step")
    assert _refusal(_add(api, tenant, _slot(service, time=1440)))[:2] == (422, "time")
    assert _refusal(_add(api, tenant, _slot(service, duration=45)))[:2] == (422, "duration")
    assert _refusal(_add(api, tenant, _slot(service, date="2020-01-06"))) == (422, "date", "in_the_past")
    # a window refusal is a 409 (the time is valid, not now) that says the window in words
    not_open = _add(api, tenant, _slot(near))
    assert _refusal(not_open) == (409, "date", "booking_not_open")
    assert not_open.body["error"]["message"] == "this service can be booked from 30 days before the start"
    too_soon = _service(api, tenant, name="Soon", min_advance_period=TEN_YEARS)
    assert _refusal(_add(api, tenant, _slot(too_soon))) == (409, "time", "booking_closed")
    assert _refusal(_add(api, tenant, _slot(service, num_book=3))) == (422, "num_book", "max_num_bookings_exceeded")
    assert _refusal(_add(api, tenant, _slot(service, date="2031-02-30")))[:2] == (422, "date")
    # 01:30 on the day the clocks go forward does not exist in London
    assert _refusal(_add(api, tenant, _slot(service, date="2031-03-30", time=90)))[:2] == (422, "time")
    assert _refusal(_add(api, tenant, {"service_id": service["id"], "date": SUMMER}))[:2] == (422, "time")
    assert _refusal(_add(api, tenant, {**_slot(service), "event_id": 1}))[:2] == (422, "service_id")

    # nothing was held: both spaces of the slot are still free
    token = _add(api, tenant, _slot(service, num_book=2)).headers["Auth-Token"]
    assert _refusal(_add(api, tenant, _slot(service), token)) == (422, "num_book", "max_num_bookings_exceeded")
