"""The tenant walk: every company-scoped route, called with a second company's
credentials, answers 404 for the first company's ids and changes nothing."""

from __future__ import annotations

import importlib
import re
import uuid
from typing import Any

import pytest

from chalicelib.api.http.route import OPERATIONS, Operation
from chalicelib.services.identity.auth import Scheme
from chalicelib.services.messaging import webhooks
from tests.conftest import Api, Tenant, make_tenant

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "ServiceCreate": {"name": "Intruder"},
    "ServiceUpdate": {"name": "Intruder"},
    "QuestionGroupIn": {"name": "Intruder"},
    "QuestionGroupUpdate": {"name": "Intruder"},
    "ClientIn": {"email": "victim@example.com", "first_name": "I", "last_name": "N"},
    "ClientDetailsIn": {"fields": [{"name": "email", "required": True}]},
    "ActionIn": {},
    "RescheduleIn": {"start": "2031-05-01T08:00:00+00:00", "end": "2031-05-01T09:00:00+00:00"},
    "WebhookIn": {"url": "http://127.0.0.1:9/hook", "events": ["booking.created"]},
    "WebhookUpdate": {"enabled": False},
    "RotateIn": {},
    "EventGroupIn": {"name": "Intruder"},
    "EventGroupUpdate": {"name": "Intruder"},
    "ChainCreate": {"name": "Intruder", "start_date": "2031-05-01"},
    "ChainUpdate": {"name": "Intruder"},
    "AddItemIn": {"num_book": 1, "date": "2031-01-07", "time": 600},
    "PersonCreate": {"name": "Intruder"},
    "PersonUpdate": {"name": "Intruder"},
    "StaffResourceCreate": {"name": "Intruder"},
    "StaffResourceUpdate": {"name": "Intruder"},
    "OpeningHoursIn": {"availability_constraints": [{"allow_hours": {"start": 1, "end": 2}}]},
    "BulkCreate": {"bookings": [{"graph": "instant"}]},
    "BulkAction": {"bookings": [{"id": "00000000-0000-0000-0000-000000000000", "action": "cancel"}]},
    "CheckoutIn": {"client": {"email": "victim@example.com", "first_name": "I", "last_name": "N"}},
    "ProjectCreate": {"name": "Intruder"},
    "ProjectUpdate": {"name": "Intruder"},
    "ResourceUpdate": {"name": "Intruder"},
    "WaitlistJoinIn": {"customer": {"name": "Intruder", "email": "intruder@example.com"}},
    "EventWaitlistIn": {"client": {"email": "intruder@example.com"}},
    "SlotWaitlistIn": {"client": {"email": "intruder@example.com"}, "date": "2031-01-07", "time": 600},
}
# Required query fields of some routes (a slot's waitlist entry is named by its slot too).
SAMPLE_QUERIES: dict[str, str] = {"SlotQuery": "date=2031-01-07&time=600"}
OBJECT_PARAMS = {
    "entry_id",
    "service_id",
    "group_id",
    "client_id",
    "reference",
    "email",
    "booking_id",
    "event_group_id",
    "event_chain_id",
    "event_id",
    "session_file",
    "slot_file",
    "item_id",
    "long_id",
    "purchase_id",
    "webhook_id",
    "delivery_id",
    "person_id",
    "project_id",
    "resource_id",
}
GLOBAL_PARAMS = {"name"}  # graph names are the same for everyone


def _headers(tenant: Tenant, scheme: Scheme, basket_token: str = "") -> dict[str, str]:
    return {
        Scheme.V1_BASKET: {**tenant.public, "Auth-Token": basket_token},
        Scheme.V1_PUBLIC: tenant.public,
        Scheme.V1_ADMIN: tenant.admin,
        Scheme.V2: tenant.v2,
        Scheme.V2_PUBLIC: tenant.v2,  # the intruder's secret key: more than its public key may do
        Scheme.LEGACY: tenant.legacy,
    }[scheme]


def _fill(path: str, values: dict[str, Any], query_model: type[Any] | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"the tenant walk needs a sample value for {{{name}}} in {path}"
        return str(values[name])

    filled = re.sub(r"\{(\w+)\}", value, path)
    query = SAMPLE_QUERIES.get(query_model.__name__) if query_model is not None else None
    return f"{filled}?{query}" if query else filled


@pytest.fixture
def two_companies(api: Api) -> tuple[Tenant, Tenant, dict[str, Any]]:
    victim = make_tenant(api, "Victim")
    intruder = make_tenant(api, "Intruder")
    service = api.post(f"/api/v1/admin/{victim.id}/services", {"name": "Mine", "reference": "REF-A"}, victim.admin)
    group = api.post(f"/api/v1/admin/{victim.id}/question_groups", {"name": "Mine"}, victim.admin)
    client = api.post(
        f"/api/v1/admin/{victim.id}/client",
        {"email": "victim@example.com", "first_name": "V", "last_name": "C", "reference": "REF-A"},
        victim.admin,
    )
    owner = api.post(
        "/v2/bookings",
        {
            "graph": "group_owner",
            "settings": {"max_seats": 5},
            "start": "2031-09-30T08:00:00Z",
            "end": "2031-09-30T09:00:00Z",
            "what": "Class",
        },
        victim.v2,
    )
    # A real entry on the group's waitlist: full, joined, then a seat freed (the entry is offered it).
    full = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "related": {"owner_booking_id": owner.body["data"]["id"], "seats": 5},
            "customer": {"name": "V", "email": "victim@example.com"},
        },
        victim.v2,
    )
    entry = api.post(
        f"/v2/bookings/groups/{owner.body['data']['id']}/waitlist", SAMPLE_BODIES["WaitlistJoinIn"], victim.v2
    )
    assert entry.status == 201, entry.body
    api.put(f"/v2/bookings/{full.body['data']['id']}/cancel_by_customer", {}, victim.v2)
    hook = api.post("/v2/webhooks", SAMPLE_BODIES["WebhookIn"], victim.v2)
    webhook = webhooks.get(victim.id, hook.body["data"]["id"])
    event = {"id": str(uuid.uuid4()), "type": "booking.created", "occurred_at": "2031-01-01T00:00:00Z"}
    webhooks.new_delivery(webhook, event, "{}")
    webhooks.record_attempt(
        webhooks.get_delivery(victim.id, int(webhook.webhook_id), event["id"]),
        {"attempt": 1, "at": "2031-01-01T00:00:00Z", "status_code": 500, "outcome": "dead_lettered"},
        "failed",
        None,
    )
    resource = api.post("/v2/resources", {"name": "Mine", "timezone": "Europe/London"}, victim.v2)
    event_group = api.post(f"/api/v1/admin/{victim.id}/event_groups", {"name": "Mine"}, victim.admin)
    chain = api.post(
        f"/api/v1/admin/{victim.id}/event_chains",
        {"name": "Mine", "start_date": "2031-05-01", "time": "09:00", "event_group_id": event_group.body["id"]},
        victim.admin,
    )
    person = api.post(f"/api/v1/admin/{victim.id}/people", {"name": "Mine", "reference": "REF-A"}, victim.admin)
    project = api.post("/v2/projects", {"name": "Mine", "slug": "victims-page"}, victim.v2)
    ids = {
        "person_id": person.body["id"],
        "project_id": project.body["data"]["id"],
        "webhook_id": hook.body["data"]["id"],
        "delivery_id": event["id"],
        **_baskets(api, victim, intruder),
        "resource_id": resource.body["data"]["id"],
        "event_group_id": event_group.body["id"],
        "event_chain_id": chain.body["id"],
        "event_id": chain.body["_embedded"]["events"][0]["id"],
        "session_file": f"{chain.body['id']}.xml",
        "slot_file": f"{chain.body['_embedded']['events'][0]['id']}.xml",
        "booking_id": owner.body["data"]["id"],
        "entry_id": entry.body["data"]["id"],
        "action": "cancel",
        "service_id": service.body["id"],
        "group_id": group.body["id"],
        "client_id": client.body["id"],
        "reference": "REF-A",
        "email": "victim@example.com",
    }
    return victim, intruder, ids


def _baskets(api: Api, victim: Tenant, intruder: Tenant) -> dict[str, Any]:
    """The victim's purchase and open basket item, and the intruder's own basket token."""
    found: dict[int, Any] = {}
    for tenant in (victim, intruder):
        chain = api.post(
            f"/api/v1/admin/{tenant.id}/event_chains",
            {"name": "Basket", "start_date": "2031-05-02", "time": "09:00", "spaces": 3, "max_num_bookings": 3},
            tenant.admin,
        ).body
        added = api.post(
            f"/api/v1/{tenant.id}/basket/add_item", {"event_id": chain["_embedded"]["events"][0]["id"]}, tenant.public
        )
        assert added.status == 201, added.body
        found[tenant.id] = (chain, added)
    chain, bought = found[victim.id]
    purchase = api.post(
        f"/api/v1/{victim.id}/basket/checkout",
        {"client": {"email": "victim@example.com", "first_name": "V", "last_name": "C"}},
        {**victim.public, "Auth-Token": bought.headers["Auth-Token"]},
    )
    assert purchase.status == 201, purchase.body
    held = api.post(
        f"/api/v1/{victim.id}/basket/add_item", {"event_id": chain["_embedded"]["events"][0]["id"]}, victim.public
    )
    return {
        "item_id": held.body["_embedded"]["items"][0]["id"],
        "long_id": purchase.body["long_id"],
        "purchase_id": purchase.body["id"],
        "intruder_basket": found[intruder.id][1].headers["Auth-Token"],
    }


def _params(op: Operation) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", op.path))


def _company_scoped() -> list[Operation]:
    importlib.import_module("app")  # importing the app registers every route

    return [
        op
        for op in OPERATIONS
        if op.scheme not in (Scheme.NONE, Scheme.PLATFORM) and _params(op) and not _params(op) & GLOBAL_PARAMS
    ]


def test_the_walk_covers_routes() -> None:
    assert len(_company_scoped()) >= 25


def test_second_company_sees_404_on_every_route(api: Api, two_companies: tuple[Tenant, Tenant, dict[str, Any]]) -> None:
    victim, intruder, ids = two_companies
    before = api.get(f"/api/v1/admin/{victim.id}/services/{ids['service_id']}", victim.admin).body
    for op in _company_scoped():
        body = SAMPLE_BODIES.get(op.request.__name__) if op.request else None
        headers = _headers(intruder, op.scheme, ids["intruder_basket"])
        # 1. the victim's company in the path
        path = _fill(op.path, {**ids, "company_id": victim.id}, op.query)
        reply = api.call(op.method, path, body, headers)
        assert reply.status == 404, f"{op.method} {path}: {reply.status} {reply.body}"
        # 2. the intruder's own company in the path, the victim's object ids
        if OBJECT_PARAMS & _params(op):
            path = _fill(op.path, {**ids, "company_id": intruder.id}, op.query)
            reply = api.call(op.method, path, body, headers)
            assert reply.status == 404, f"{op.method} {path}: {reply.status} {reply.body}"
    after = api.get(f"/api/v1/admin/{victim.id}/services/{ids['service_id']}", victim.admin).body
    assert after == before
    chain = api.get(f"/api/v1/admin/{victim.id}/event_chains/{ids['event_chain_id']}", victim.admin).body
    assert chain["name"] == "Mine" and len(chain["_embedded"]["events"]) == 1
    # the intruder's only chain is its own, made for its basket token (_baskets)
    assert api.get(f"/api/v1/admin/{intruder.id}/event_chains", intruder.admin).body["total_entries"] == 1
    purchase = api.get(f"/api/v1/admin/{victim.id}/purchases/{ids['purchase_id']}", victim.admin).body
    assert purchase["status"] == "completed"
    client = api.get(f"/api/v1/admin/{victim.id}/client/{ids['client_id']}", victim.admin).body
    assert client["first_name"] == "V"
    assert api.get(f"/api/v1/admin/{intruder.id}/client", intruder.admin).body["total_entries"] == 0
    assert api.get(f"/v2/bookings/{ids['booking_id']}", victim.v2).body["data"]["state"] == "tentative"
    hook = api.get(f"/v2/webhooks/{ids['webhook_id']}", victim.v2).body["data"]
    assert hook["enabled"] is True and hook.get("secret") is None
    deliveries = api.get(f"/v2/webhooks/{ids['webhook_id']}/deliveries", victim.v2).body["data"]
    assert [d["status"] for d in deliveries] == ["failed"]
    assert api.get("/v2/webhooks", intruder.v2).body["data"] == []
    assert api.get(f"/v2/projects/{ids['project_id']}", victim.v2).body["data"]["name"] == "Mine"
    assert api.get("/v2/projects", intruder.v2).body["meta"]["total_entries"] == 0
    resource = api.get(f"/v2/resources/{ids['resource_id']}", victim.v2).body["data"]
    assert resource["name"] == "Mine"
    assert api.get("/v2/resources", intruder.v2).body["meta"]["total_entries"] == 0


# Where the public key is meant to work: BookingBug's public routes and baskets, and the /v2
# routes a booking page needs (each with its own limits: tests/api/test_public_key.py).
PUBLIC_KEY_SCHEMES = (Scheme.NONE, Scheme.PLATFORM, Scheme.V1_PUBLIC, Scheme.V1_BASKET, Scheme.V2_PUBLIC)


def test_the_public_key_is_refused_on_every_other_route(
    api: Api, two_companies: tuple[Tenant, Tenant, dict[str, Any]]
) -> None:
    """The third identity: the victim's own public key, on the victim's own objects."""
    victim, _intruder, ids = two_companies
    headers = {
        Scheme.V1_ADMIN: victim.public,  # the public key without an administrator's Auth-Token
        Scheme.V2: victim.widget,
        Scheme.LEGACY: victim.widget,
    }
    walked = 0
    for op in OPERATIONS:
        if op.scheme in PUBLIC_KEY_SCHEMES:
            continue
        body = SAMPLE_BODIES.get(op.request.__name__) if op.request else None
        path = _fill(op.path, {**ids, "company_id": victim.id, "name": "instant"})
        reply = api.call(op.method, path, body, headers[op.scheme])
        assert reply.status == 401, f"{op.method} {path}: {reply.status} {reply.body}"
        walked += 1
    assert walked >= 40
    assert api.get(f"/v2/projects/{ids['project_id']}", victim.v2).body["data"]["name"] == "Mine"
    assert api.get(f"/v2/bookings/{ids['booking_id']}", victim.v2).body["data"]["state"] == "tentative"


def test_listings_and_reservations_stay_in_their_company(
    api: Api, two_companies: tuple[Tenant, Tenant, dict[str, Any]]
) -> None:
    victim, intruder, ids = two_companies
    assert api.get("/v2/bookings", intruder.v2).body["meta"]["total_entries"] == 0
    assert api.get("/v2/bookings/groups", intruder.v2).body["data"] == []
    seat = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "customer": {"name": "I", "email": "i@example.com"},
            "related": {"owner_booking_id": ids["booking_id"]},
        },
        intruder.v2,
    )
    assert seat.status == 404
    hold = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": ids["booking_id"]}}, intruder.v2)
    assert hold.status == 404
    slot = {"service_id": ids["service_id"], "date": "2031-01-07", "time": 600}
    theirs = api.post(f"/api/v1/{intruder.id}/basket/add_item", slot, intruder.public)
    assert theirs.status == 404 and theirs.body["error"]["field"] == "service_id"
    asked = api.post("/v2/availability", {"resources": [ids["resource_id"]]}, intruder.v2)
    assert asked.status == 404 and asked.body["error"]["field"] == "resources.0"
    claim = api.post(
        "/v2/bookings",
        {
            "graph": "instant",
            "event": {"start": "2031-05-01T08:00:00Z", "end": "2031-05-01T09:00:00Z", "what": "X"},
            "resource_id": ids["resource_id"],
        },
        intruder.v2,
    )
    assert claim.status == 404 and claim.body["error"]["field"] == "resource_id"
    mine = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": ids["booking_id"]}}, victim.v2)
    stolen = api.put("/v2/bookings/reserve/extend", {"reservation_id": mine.body["data"]["id"]}, intruder.v2)
    assert stolen.status == 404
