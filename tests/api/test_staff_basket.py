"""add_item for a service slot with a person, a resource or "anyone": the basket hold claims
the time in its transaction; checkout hands it to the booking; removal and cancel free it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import clock
from chalicelib.services.catalogue import catalogue, staff
from chalicelib.services.identity import companies
from tests.conftest import Api, Tenant

MONDAY = "2031-07-07"  # British Summer Time
CLIENT = {"email": "sam@example.com", "first_name": "Sam", "last_name": "Ray"}
TEN_YEARS = 10 * 365 * 86_400


def _setup(api: Api, tenant: Tenant, **service: Any) -> tuple[dict[str, Any], list[int]]:
    people = [
        api.post(f"/api/v1/admin/{tenant.id}/people", {"name": name}, tenant.admin).body["id"]
        for name in ("Emma", "John")
    ]
    body = {"name": "Consultation", "duration": 60, "price": 3000, "max_advance_period": TEN_YEARS}
    created = api.post(f"/api/v1/admin/{tenant.id}/services", {**body, "person_ids": people, **service}, tenant.admin)
    assert created.status == 201, created.body
    return created.body, people


def _add(api: Api, tenant: Tenant, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {**tenant.public, **({"Auth-Token": token} if token else {})}
    return api.post(f"/api/v1/{tenant.id}/basket/add_item", body, headers)


def _slot(service: dict[str, Any], minutes: int = 10 * 60, **fields: Any) -> dict[str, Any]:
    return {"service_id": service["id"], "date": MONDAY, "time": minutes, **fields}


def _free(api: Api, tenant: Tenant, service: dict[str, Any], person: int) -> list[int]:
    reply = api.get(
        f"/api/v1/{tenant.id}/time_data?service_id={service['id']}&date={MONDAY}&person_id={person}", tenant.public
    )
    assert reply.status == 200, reply.body
    return [t["time"] for t in reply.body["_embedded"]["events"][0]["times"]]


def test_a_named_person_is_held_and_the_time_disappears(api: Api, tenant: Tenant) -> None:
    service, (emma, john) = _setup(api, tenant)
    added = _add(api, tenant, _slot(service, person_id=emma))
    assert added.status == 201, added.body
    (item,) = added.body["_embedded"]["items"]
    assert item["person_id"] == emma and item["person_name"] == "Emma"
    assert 600 not in _free(api, tenant, service, emma)
    assert 600 in _free(api, tenant, service, john)

    twice = _add(api, tenant, _slot(service, person_id=emma))
    assert twice.status == 409 and twice.body["error"]["code"] == "time_taken"
    # an overlapping half hour later is refused too (a different slot, the same time)
    late = api.put(f"/api/v1/admin/{tenant.id}/services/{service['id']}", {"booking_time_step": 30}, tenant.admin)
    assert late.status == 200
    assert _add(api, tenant, _slot(service, 630, person_id=emma)).status == 409


def test_anyone_takes_a_free_person_until_none_is_left(api: Api, tenant: Tenant) -> None:
    service, (emma, john) = _setup(api, tenant)
    first = _add(api, tenant, _slot(service))
    second = _add(api, tenant, _slot(service))
    assert first.status == second.status == 201
    taken = {first.body["_embedded"]["items"][0]["person_id"], second.body["_embedded"]["items"][0]["person_id"]}
    assert taken == {emma, john}
    third = _add(api, tenant, _slot(service))
    assert third.status == 409 and third.body["error"]["code"] == "time_taken"
    # the SDK's way: time_data's event_id names the person
    other_time = _add(api, tenant, _slot(service, 11 * 60, event_id=john))
    assert other_time.status == 201 and other_time.body["_embedded"]["items"][0]["person_id"] == john


def test_removing_the_item_frees_the_time_at_once(api: Api, tenant: Tenant) -> None:
    service, (emma, _john) = _setup(api, tenant)
    added = _add(api, tenant, _slot(service, person_id=emma))
    token, item = added.headers["Auth-Token"], added.body["_embedded"]["items"][0]
    removed = api.delete(f"/api/v1/{tenant.id}/basket/items/{item['id']}", {**tenant.public, "Auth-Token": token})
    assert removed.status == 200
    assert 600 in _free(api, tenant, service, emma)
    assert _add(api, tenant, _slot(service, person_id=emma)).status == 201


def test_a_lapsed_hold_frees_its_time_without_a_write(api: Api, tenant: Tenant) -> None:
    service, (emma, _john) = _setup(api, tenant)
    assert _add(api, tenant, _slot(service, person_id=emma)).status == 201
    company = companies.get_company(tenant.id)
    stored = catalogue.get_service(tenant.id, service["id"], include_deleted=False)
    days = staff.local_days(company, MONDAY, MONDAY, 1, "date")

    def free_at(later: timedelta) -> list[int]:
        found = staff.free_times(company, stored, 60, days, [emma], now=clock.utcnow() + later)
        return [s.astimezone(ZoneInfo(company.timezone)).hour for s in found[0].starts]

    assert 10 not in free_at(timedelta())
    assert 10 in free_at(timedelta(seconds=int(company.hold_time) + 60))  # the hold and its claim lapsed


def test_checkout_gives_the_time_to_the_booking_and_cancel_frees_it(api: Api, tenant: Tenant) -> None:
    service, (emma, _john) = _setup(api, tenant, pre_time=15, post_time=15)
    added = _add(api, tenant, _slot(service, person_id=emma))
    token = added.headers["Auth-Token"]
    purchase = api.post(
        f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, {**tenant.public, "Auth-Token": token}
    )
    assert purchase.status == 201, purchase.body
    booking_id = purchase.body["_embedded"]["bookings"][0]["id"] if "_embedded" in purchase.body else None
    later = timedelta(seconds=3 * 3600)  # long after the hold would have lapsed: the booking holds it
    company = companies.get_company(tenant.id)
    stored = catalogue.get_service(tenant.id, service["id"], include_deleted=False)
    days = staff.local_days(company, MONDAY, MONDAY, 1, "date")
    starts = staff.free_times(company, stored, 60, days, [emma], now=clock.utcnow() + later)[0].starts
    hours = [s.astimezone(ZoneInfo(company.timezone)).hour for s in starts]
    assert 10 not in hours and 9 not in hours and 11 not in hours  # padded by 15 minutes either side
    listed = api.get(f"/v2/bookings?search=resource.id:{emma}", tenant.v2).body["data"]
    assert len(listed) == 1 and (booking_id is None or listed[0]["id"] == booking_id)

    cancelled = api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase.body['id']}", tenant.admin)
    assert cancelled.status == 200, cancelled.body
    assert 600 in _free(api, tenant, service, emma)
    assert _add(api, tenant, _slot(service, person_id=emma)).status == 201


def test_person_and_resource_ids_are_checked(api: Api, tenant: Tenant) -> None:
    service, _people = _setup(api, tenant)
    assert _add(api, tenant, _slot(service, person_id=999_999)).status == 404
    plain = api.post(
        f"/api/v1/admin/{tenant.id}/services", {"name": "Plain", "max_advance_period": TEN_YEARS}, tenant.admin
    ).body
    refused = _add(api, tenant, _slot(plain, person_id=_people[0]))
    assert refused.status == 404 and refused.body["error"]["field"] == "person_id"
    assert _add(api, tenant, _slot(service, num_book=2)).status == 422
