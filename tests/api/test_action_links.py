"""Signed customer action links (Timekit's external_action): offered where the graph allows,
performed once, refused (and nothing changed) when used again, tampered, expired or misapplied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.domain import clock
from chalicelib.services.identity import customer_links
from tests.conftest import ROOT, Api, Tenant

EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Massage"}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}
SHOP = "https://shop.example"


def _book(api: Api, tenant: Tenant, graph: str = "instant", **extra: Any) -> dict[str, Any]:
    reply = api.post("/v2/bookings", {"graph": graph, "event": EVENT, "customer": CUSTOMER, **extra}, tenant.v2)
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _state(api: Api, tenant: Tenant, booking_id: str) -> tuple[str, str | None]:
    reply = api.get(f"/v2/bookings/{booking_id}", tenant.v2)
    return reply.body["data"]["state"], reply.headers.get("ETag")


def test_links_are_offered_where_the_graph_and_state_allow(api: Api, tenant: Tenant) -> None:
    confirmed = _book(api, tenant)
    links = confirmed["customer_action_links"]
    assert {"cancel_by_customer", "reschedule_by_customer"} <= set(links)
    assert "/external_action/cancel_by_customer?signature=" in links["cancel_by_customer"]
    tentative = _book(api, tenant, "confirm_decline")
    assert set(tentative["customer_action_links"]) == {"token"}  # the owner decides first
    read = api.get(f"/v2/bookings/{confirmed['id']}?include=customer_action_links", tenant.v2).body["data"]
    assert {"cancel_by_customer", "reschedule_by_customer"} <= set(read["customer_action_links"])
    assert api.get(f"/v2/bookings/{confirmed['id']}", tenant.v2).body["data"].get("customer_action_links") is None


def test_a_link_performs_its_action_once(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    link = _path(booking["customer_action_links"]["cancel_by_customer"])
    done = api.get(link, {})
    assert done.status == 200, done.body
    assert done.body["data"]["state"] == "cancelled_by_customer"
    after = _state(api, tenant, booking["id"])
    again = api.get(link, {})
    assert (again.status, again.error["code"]) == (409, "link_used")
    assert _state(api, tenant, booking["id"]) == after


def test_tampered_expired_and_misapplied_links_change_nothing(api: Api, tenant: Tenant) -> None:
    booking, other = _book(api, tenant), _book(api, tenant)
    before = _state(api, tenant, booking["id"])
    link = booking["customer_action_links"]["cancel_by_customer"]
    signature = parse_qs(urlsplit(link).query)["signature"][0]
    head, payload, tail = signature.split(".")
    forged = f"{head}.{payload}.{tail[:-2]}{'AA' if tail[-2:] != 'AA' else 'BB'}"
    base = f"/v2/bookings/{booking['id']}/external_action"
    tampered = api.get(f"{base}/cancel_by_customer?signature={forged}", {})
    assert (tampered.status, tampered.error["code"]) == (401, "link_invalid")
    assert api.get(f"{base}/cancel_by_customer?signature=not.a.jwt", {}).status == 401
    month_ago = clock.utcnow() - customer_links.LINK_LIFETIME - timedelta(seconds=1)
    old = customer_links.action_signature(tenant.id, booking["id"], "cancel_by_customer", month_ago)
    expired = api.get(f"{base}/cancel_by_customer?signature={old}", {})
    assert (expired.status, expired.error["code"]) == (401, "link_expired")
    elsewhere = api.get(f"/v2/bookings/{other['id']}/external_action/cancel_by_customer?signature={signature}", {})
    assert (elsewhere.status, elsewhere.error["code"]) == (403, "link_mismatch")
    moved = api.get(f"{base}/reschedule_by_customer?signature={signature}", {})
    assert (moved.status, moved.error["code"]) == (403, "link_mismatch")
    assert api.get(f"{base}/cancel_by_customer", {}).status == 422  # no signature
    assert _state(api, tenant, booking["id"]) == before
    assert _state(api, tenant, other["id"])[0] == "confirmed"


def test_the_redirect_goes_only_to_the_companys_origins(api: Api, tenant: Tenant) -> None:
    booking = _book(api, tenant)
    link = _path(booking["customer_action_links"]["reschedule_by_customer"])
    refused = api.get(f"{link}&redirect=https://evil.example/phish", {})
    assert (refused.status, refused.error["field"]) == (422, "redirect")
    assert _state(api, tenant, booking["id"])[0] == "confirmed"
    assert api.put(f"/platform/companies/{tenant.id}", {"allowed_origins": [SHOP]}, ROOT).status == 200
    moved = api.get(f"{link}&redirect={SHOP}/thanks", {})
    assert moved.status == 302 and moved.headers["Location"] == f"{SHOP}/thanks"
    assert _state(api, tenant, booking["id"])[0] == "rescheduled_by_customer"
