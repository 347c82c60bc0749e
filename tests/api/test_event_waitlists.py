"""An event's waitlist on the BookingBug face (issue 14, section 5): spaces_wait, on_waitlist,
join only when full, leave, an offer when a purchase is cancelled or the event grows, and
booking the offer with its one-click link."""

from __future__ import annotations

from typing import Any

import boto3

from chalicelib.domain import clock
from chalicelib.services.identity import customer_links
from chalicelib.services.messaging import fanout
from tests.conftest import Api, Tenant

CLIENT = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}


def _full_event(api: Api, tenant: Tenant, spaces: int = 1) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A chain of one event with ``spaces`` spaces, all bought by one purchase."""
    body = {"name": "Yoga", "start_date": "2031-03-03", "time": "09:00", "duration": 60, "spaces": spaces}
    chain = api.post(f"/api/v1/admin/{tenant.id}/event_chains", body | {"max_num_bookings": 10}, tenant.admin).body
    event = chain["_embedded"]["events"][0]
    item = {"event_id": event["id"], "num_book": spaces}
    added = api.post(f"/api/v1/{tenant.id}/basket/add_item", item, tenant.public)
    assert added.status == 201, added.body
    purchase = api.post(
        f"/api/v1/{tenant.id}/basket/checkout",
        {"client": CLIENT},
        {**tenant.public, "Auth-Token": added.headers["Auth-Token"]},
    )
    assert purchase.status == 201, purchase.body
    return chain, event, purchase.body


def _read(api: Api, tenant: Tenant, event_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/api/v1/{tenant.id}/events/{event_id}", tenant.public).body
    return found


def _join(api: Api, tenant: Tenant, event_id: int, n: int) -> Any:
    client = {"email": f"w{n}@example.com", "first_name": "W", "last_name": str(n)}
    return api.post(f"/api/v1/{tenant.id}/events/{event_id}/waitlist", {"client": client}, tenant.public)


def outbox_events(table: str, kind: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    records = [{"eventName": "INSERT", "dynamodb": {"NewImage": item}} for item in items]
    events = [e for e in (fanout._from_stream(r) for r in records) if e is not None]
    return [e for e in events if e["type"] == kind]


def _offers(table: str) -> list[dict[str, Any]]:
    return outbox_events(table, "waitlist.offered")


def offer_purchase_is_a_bookers(api: Api, tenant: Tenant, table: str, booked: dict[str, Any], name: str) -> str:
    """The booking an accepted offer made belongs to a BookingBug purchase the booker can read by its
    long_id, with its calendar file; the purchase's long_id is returned."""
    made = outbox_events(table, "purchase.completed")
    (purchase,) = [e["data"] for e in made if e["data"]["booking_ids"] == [booked["data"]["id"]]]
    read = api.get(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}", tenant.public)
    assert read.status == 200, read.body
    assert read.body["client_name"] == name  # the queued customer became the client
    ical = api.get(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}/ical", tenant.public)
    assert ical.status == 200 and "BEGIN:VEVENT" in ical.body
    long_id: str = purchase["long_id"]
    return long_id


def book_offer(api: Api, tenant: Tenant, offer: dict[str, Any]) -> Any:
    """Click the offer email's one-click link."""
    reservation_id = offer["data"]["offer"]["reservation_id"]
    signature = customer_links.action_signature(tenant.id, reservation_id, customer_links.BOOK_OFFER, clock.utcnow())
    return api.get(f"/v2/waitlist/offers/{reservation_id}/book?signature={signature}", {})


def test_join_only_when_full_and_spaces_wait_counts(api: Api, tenant: Tenant) -> None:
    body = {"name": "Yoga", "start_date": "2031-03-03", "time": "09:00", "spaces": 2}
    chain = api.post(f"/api/v1/admin/{tenant.id}/event_chains", body, tenant.admin).body
    open_event = chain["_embedded"]["events"][0]
    refused = _join(api, tenant, open_event["id"], 1)
    assert refused.status == 409 and refused.error["code"] == "spaces_left"

    _chain, event, _purchase = _full_event(api, tenant)
    assert _read(api, tenant, event["id"])["spaces_wait"] == 0
    joined = _join(api, tenant, event["id"], 1)
    assert joined.status == 201, joined.body
    assert joined.body["on_waitlist"] is True and joined.body["status"] == "waiting"
    assert joined.body["quantity"] == 1 and joined.body["client"]["email"] == "w1@example.com"
    assert joined.body["spaces_wait"] == 1
    assert _join(api, tenant, event["id"], 2).status == 201
    assert _read(api, tenant, event["id"])["spaces_wait"] == 2

    left = api.delete(f"/api/v1/{tenant.id}/events/{event['id']}/waitlist/{joined.body['id']}", tenant.public)
    assert left.status == 200 and left.body["on_waitlist"] is False and left.body["status"] == "left"
    assert _read(api, tenant, event["id"])["spaces_wait"] == 1
    missing = api.post(f"/api/v1/{tenant.id}/events/999999/waitlist", {"client": CLIENT}, tenant.public)
    assert missing.status == 404
    bad = api.post(f"/api/v1/{tenant.id}/events/{event['id']}/waitlist", {"client": {"email": "no"}}, tenant.public)
    assert bad.status == 422 and bad.error["field"] == "client.email"


def test_a_cancelled_purchase_offers_its_space_and_the_link_books_it(api: Api, tenant: Tenant, moto_table: str) -> None:
    _chain, event, purchase = _full_event(api, tenant)
    first = _join(api, tenant, event["id"], 1).body
    second = _join(api, tenant, event["id"], 2).body
    cancelled = api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase['id']}", tenant.admin)
    assert cancelled.status == 200, cancelled.body
    seen = _read(api, tenant, event["id"])
    # the space never became free: it is held for the first in line
    assert (seen["spaces_left"], seen["spaces_reserved"], seen["spaces_wait"]) == (0, 1, 1)
    (offer,) = _offers(moto_table)
    assert offer["subject_id"] == first["id"] and offer["data"]["event_id"] == event["id"]
    assert offer["data"]["event_info"]["what"] == "Yoga"
    booked = book_offer(api, tenant, offer)
    assert booked.status == 201, booked.body
    assert booked.body["data"]["customers"][0]["email"] == "w1@example.com"
    seen = _read(api, tenant, event["id"])
    assert (seen["spaces_booked"], seen["spaces_reserved"], seen["spaces_wait"]) == (1, 0, 1)
    assert second["status"] == "waiting"


def test_growing_an_event_offers_the_new_spaces_in_order(api: Api, tenant: Tenant) -> None:
    chain, event, _purchase = _full_event(api, tenant)
    ids = [_join(api, tenant, event["id"], n).body["id"] for n in range(3)]
    grown = api.put(f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}", {"spaces": 3}, tenant.admin)
    assert grown.status == 200, grown.body
    seen = _read(api, tenant, event["id"])
    assert (seen["num_spaces"], seen["spaces_left"], seen["spaces_reserved"], seen["spaces_wait"]) == (3, 0, 2, 1)
    still = api.delete(f"/api/v1/{tenant.id}/events/{event['id']}/waitlist/{ids[2]}", tenant.public)
    assert still.status == 200 and still.body["status"] == "left"
    offered = api.delete(f"/api/v1/{tenant.id}/events/{event['id']}/waitlist/{ids[0]}", tenant.public)
    assert offered.status == 200
    # the first's offer ended and, with nobody left waiting, its space is simply free
    seen = _read(api, tenant, event["id"])
    assert (seen["spaces_left"], seen["spaces_reserved"], seen["spaces_wait"]) == (1, 1, 0)


def test_an_accepted_offer_is_a_purchase_whose_cancel_offers_the_next(
    api: Api, tenant: Tenant, moto_table: str
) -> None:
    _chain, event, purchase = _full_event(api, tenant)
    _join(api, tenant, event["id"], 1)
    second = _join(api, tenant, event["id"], 2).body
    assert api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase['id']}", tenant.admin).status == 200
    (offer,) = _offers(moto_table)
    booked = book_offer(api, tenant, offer)
    assert booked.status == 201, booked.body
    long_id = offer_purchase_is_a_bookers(api, tenant, moto_table, booked.body, "W 1")

    cancelled = api.delete(f"/api/v1/{tenant.id}/purchases/{long_id}", tenant.public)
    assert cancelled.status == 200, cancelled.body
    # the space goes to the next in line, not back on sale
    seen = _read(api, tenant, event["id"])
    assert (seen["spaces_booked"], seen["spaces_reserved"], seen["spaces_wait"]) == (0, 1, 0)
    latest = _offers(moto_table)
    assert len(latest) == 2 and {o["subject_id"] for o in latest} >= {second["id"]}


def test_an_offer_on_an_event_with_required_questions_is_refused_by_the_link_and_stands(
    api: Api, tenant: Tenant, moto_table: str
) -> None:
    questions = {"name": "Intake", "questions": [{"name": "Injuries?", "detail_type": "text_field", "required": True}]}
    group = api.post(f"/api/v1/admin/{tenant.id}/question_groups", questions, tenant.admin).body
    chain, event, purchase = _full_event(api, tenant)
    asks = api.put(
        f"/api/v1/admin/{tenant.id}/event_chains/{chain['id']}", {"detail_group_id": group["id"]}, tenant.admin
    )
    assert asks.status == 200, asks.body
    _join(api, tenant, event["id"], 1)
    assert api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase['id']}", tenant.admin).status == 200
    (offer,) = _offers(moto_table)
    refused = book_offer(api, tenant, offer)
    assert refused.status == 422 and refused.error["field"].startswith("reservation_id"), refused.body
    assert len(outbox_events(moto_table, "purchase.completed")) == 1  # the first buyer's only
    seen = _read(api, tenant, event["id"])
    assert (seen["spaces_booked"], seen["spaces_reserved"]) == (0, 1)  # still held for the queued customer
