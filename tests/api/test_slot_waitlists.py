"""A service slot's waitlist on the BookingBug face (issue 14, section 5): join only when the
slot is full (a slot never added to a basket has no capacity yet: every space is free), leave,
an offer when a purchase of the slot is cancelled, and booking the offer with its one-click link."""

from __future__ import annotations

from typing import Any

from tests.api.test_event_waitlists import _offers, book_offer, offer_purchase_is_a_bookers
from tests.conftest import Api, Tenant

TEN_YEARS = 10 * 365 * 86_400
SLOT = {"date": "2031-07-01", "time": 9 * 60}
CLIENT = {"email": "sam@example.com", "first_name": "Sam", "last_name": "Ray"}


def _service(api: Api, tenant: Tenant) -> dict[str, Any]:
    body = {"name": "Massage", "durations": [60], "spaces": 1, "max_advance_period": TEN_YEARS, "min_cancel_period": 0}
    created = api.post(f"/api/v1/admin/{tenant.id}/services", body, tenant.admin)
    assert created.status == 201, created.body
    service: dict[str, Any] = created.body
    return service


def _buy(api: Api, tenant: Tenant, service: dict[str, Any]) -> dict[str, Any]:
    added = api.post(f"/api/v1/{tenant.id}/basket/add_item", {"service_id": service["id"], **SLOT}, tenant.public)
    assert added.status == 201, added.body
    token = {**tenant.public, "Auth-Token": added.headers["Auth-Token"]}
    purchase = api.post(f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, token)
    assert purchase.status == 201, purchase.body
    bought: dict[str, Any] = purchase.body
    return bought


def _join(api: Api, tenant: Tenant, service: dict[str, Any], n: int, **slot: Any) -> Any:
    client = {"email": f"w{n}@example.com", "first_name": "W", "last_name": str(n)}
    body = {"client": client, **SLOT, **slot}
    return api.post(f"/api/v1/{tenant.id}/services/{service['id']}/waitlist", body, tenant.public)


def _where(**slot: Any) -> str:
    where = {**SLOT, **slot}
    return f"date={where['date']}&time={where['time']}"


def test_join_only_when_the_slot_is_full_and_leave(api: Api, tenant: Tenant) -> None:
    service = _service(api, tenant)
    never_added = _join(api, tenant, service, 1)
    assert never_added.status == 409 and never_added.error["code"] == "spaces_left"
    _buy(api, tenant, service)
    other_time = _join(api, tenant, service, 1, time=10 * 60)
    assert other_time.status == 409 and other_time.error["code"] == "spaces_left"

    joined = _join(api, tenant, service, 1)
    assert joined.status == 201, joined.body
    assert joined.body["on_waitlist"] is True and joined.body["status"] == "waiting"
    assert joined.body["service_id"] == service["id"] and joined.body["duration"] == 60
    assert joined.body["datetime"] == "2031-07-01T08:00:00+00:00"  # 09:00 British Summer Time
    assert joined.body["spaces_wait"] == 1
    again = _join(api, tenant, service, 1)
    assert again.status == 409 and again.error["code"] == "already_waiting"
    assert _join(api, tenant, service, 2).body["spaces_wait"] == 2

    path = f"/api/v1/{tenant.id}/services/{service['id']}/waitlist/{joined.body['id']}"
    wrong_slot = api.delete(f"{path}?{_where(time=10 * 60)}", tenant.public)
    assert wrong_slot.status == 404
    left = api.delete(f"{path}?{_where()}", tenant.public)
    assert left.status == 200, left.body
    assert left.body["on_waitlist"] is False and left.body["status"] == "left" and left.body["spaces_wait"] == 1


def test_bad_joins_are_4xx_and_write_nothing(api: Api, tenant: Tenant) -> None:
    service = _service(api, tenant)
    _buy(api, tenant, service)
    missing = api.post(f"/api/v1/{tenant.id}/services/999999/waitlist", {"client": CLIENT, **SLOT}, tenant.public)
    assert missing.status == 404
    off_step = _join(api, tenant, service, 1, time=9 * 60 + 7)
    assert off_step.status == 422 and off_step.error["field"] == "time"
    bad_duration = _join(api, tenant, service, 1, duration=45)
    assert bad_duration.status == 422 and bad_duration.error["field"] == "duration"
    no_date = api.post(
        f"/api/v1/{tenant.id}/services/{service['id']}/waitlist", {"client": CLIENT, "time": 540}, tenant.public
    )
    assert no_date.status == 422 and no_date.error["field"] == "date"
    assert _join(api, tenant, service, 1).body["spaces_wait"] == 1  # none of the above queued anyone


def test_a_cancelled_slot_purchase_offers_its_space_and_the_link_books_it(
    api: Api, tenant: Tenant, moto_table: str
) -> None:
    service = _service(api, tenant)
    purchase = _buy(api, tenant, service)
    first = _join(api, tenant, service, 1).body
    second = _join(api, tenant, service, 2).body
    cancelled = api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase['id']}", tenant.admin)
    assert cancelled.status == 200, cancelled.body
    # the space never became free: it is held for the first in line
    outsider = api.post(f"/api/v1/{tenant.id}/basket/add_item", {"service_id": service["id"], **SLOT}, tenant.public)
    assert outsider.status == 409, outsider.body
    (offer,) = _offers(moto_table)
    assert offer["subject_id"] == first["id"]
    assert offer["data"]["event_info"]["what"] == "Massage"
    booked = book_offer(api, tenant, offer)
    assert booked.status == 201, booked.body
    assert booked.body["data"]["customers"][0]["email"] == "w1@example.com"
    long_id = offer_purchase_is_a_bookers(api, tenant, moto_table, booked.body, "W 1")
    twice = book_offer(api, tenant, offer)
    assert twice.status == 409
    path = f"/api/v1/{tenant.id}/services/{service['id']}/waitlist/{second['id']}?{_where()}"
    still = api.delete(path, tenant.public)
    assert still.status == 200 and still.body["status"] == "left" and still.body["spaces_wait"] == 0

    # the booker cancels the offer's purchase: the space is free again (nobody waits now)
    cancelled = api.delete(f"/api/v1/{tenant.id}/purchases/{long_id}", tenant.public)
    assert cancelled.status == 200, cancelled.body
    again = api.post(f"/api/v1/{tenant.id}/basket/add_item", {"service_id": service["id"], **SLOT}, tenant.public)
    assert again.status == 201, again.body
