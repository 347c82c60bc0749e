"""Hostile input against every face: each case is refused with a 4xx in the face's error
shape, and nothing is written (the whole table is compared before and after).

The categories are those of the black-box assessment (issue 13): malformed JSON, NaN and
Infinity, size, depth, huge numbers, zero and negative seats, unicode and NUL,
injection-looking strings, path traversal, long and non-canonical ids, content types, XML
attacks, and types the OpenAPI document does not allow. One world (companies, a service,
a question group, an event chain, bookings, a webhook) serves every case: a case that
wrote anything would fail its own snapshot comparison.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib.api.http.route import OPERATIONS, Operation
from chalicelib.settings import reset_settings
from chalicelib.store import db
from chalicelib.store.schema import create_table_if_absent
from tests.conftest import ROOT, Api, Tenant, make_tenant
from tests.moto_store import table_items

TABLE = "booking-engine-hostile"
EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Haircut"}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}
LONG_DIGITS = "9" * 1100
LONG_TEXT = "b" * 2100
# Items that a refused request may still write on purpose: counters of failed sign-ins and of
# public requests (the limits count every attempt, refused or not).
UNSNAPSHOTTED = ("LIMIT#", "RATE#")

SLOT_QUERIES = {
    ("DELETE", "/api/v1/{company_id}/services/{service_id}/waitlist/{entry_id}"): "date=2031-07-01&time=540"
}


@dataclass
class World:
    api: Api
    tenant: Tenant
    other: Tenant
    other_group_id: int
    values: dict[str, str]

    def headers(self, operation: Operation) -> dict[str, str]:
        scheme = operation.scheme.value
        if scheme == "platform":
            return dict(ROOT)
        if scheme in ("v2", "v2_public"):
            return self.tenant.v2
        if scheme == "legacy":
            return self.tenant.legacy
        if scheme == "v1_basket":
            return {**self.tenant.public, "Auth-Token": self.values["basket_token"]}
        if scheme == "v1_admin":
            # The secret key is admin: no session token whose sliding expiry could write.
            return {"App-Id": self.tenant.app_id, "App-Key": self.tenant.api_key}
        return self.tenant.public

    def path(self, operation: Operation, **overrides: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            return overrides.get(name, self.values[name])

        path = re.sub(r"{(\w+)}", value, operation.path)
        # A slot's waitlist entry is named by its slot too, in the query (as add_item names a slot).
        query = SLOT_QUERIES.get((operation.method, operation.path))
        return f"{path}?{query}" if query else path


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from moto import mock_aws

    with mock_aws(), pytest.MonkeyPatch.context() as env:
        env.setenv("TABLE_NAME", TABLE)
        env.delenv("DYNAMODB_ENDPOINT", raising=False)
        # ~1,400 cases from one address: the rate limits have their own tests.
        env.setenv("PUBLIC_REQUESTS_PER_MINUTE", "100000")
        env.setenv("SIGNIN_FAILURES_PER_ADDRESS", "1000000")
        reset_settings()
        db._bound_to = None
        create_table_if_absent(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        with Client(app, stage_name="local") as client:
            api = Api(client)
            tenant, other = make_tenant(api, "Acme"), make_tenant(api, "Other")
            yield World(api, tenant, other, _other_group(api, other), _objects(api, tenant))
    reset_settings()
    db._bound_to = None


def _created(reply: Any) -> dict[str, Any]:
    assert reply.status in (200, 201), reply.body
    body: dict[str, Any] = reply.body
    return body


def _other_group(api: Api, other: Tenant) -> int:
    group = _created(
        api.post(f"/api/v1/admin/{other.id}/question_groups", {"name": "Theirs", "questions": []}, other.admin)
    )
    return int(group["id"])


def _objects(api: Api, t: Tenant) -> dict[str, str]:
    cid = t.id
    service = _created(api.post(f"/api/v1/admin/{cid}/services", {"name": "Cut", "reference": "cut-1"}, t.admin))
    group = _created(api.post(f"/api/v1/admin/{cid}/question_groups", {"name": "Intake", "questions": []}, t.admin))
    person = _created(
        api.post(
            f"/api/v1/admin/{cid}/client",
            {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "reference": "ann-1"},
            t.admin,
        )
    )
    event_group = _created(api.post(f"/api/v1/admin/{cid}/event_groups", {"name": "Fitness"}, t.admin))
    chain = _created(
        api.post(
            f"/api/v1/admin/{cid}/event_chains",
            {"name": "Yoga", "start_date": "2031-03-03", "time": "09:00", "spaces": 5, "max_num_bookings": 5},
            t.admin,
        )
    )
    event_id = chain["_embedded"]["events"][0]["id"]
    added = api.post(f"/api/v1/{cid}/basket/add_item", {"event_id": event_id}, t.public)
    assert added.status == 201, added.body
    booking = _created(
        api.post("/v2/bookings", {"graph": "confirm_decline", "event": EVENT, "customer": CUSTOMER}, t.v2)
    )
    webhook = _created(
        api.post("/v2/webhooks", {"url": "https://example.com/hook", "events": ["booking.created"]}, t.v2)
    )
    resource = _created(api.post("/v2/resources", {"name": "Chair 1", "timezone": "Europe/London"}, t.v2))
    project = _created(
        api.post(
            "/v2/projects",
            {
                "name": "Clinic",
                "slug": "clinic",
                "resources": [str(resource["data"]["id"])],
                "booking": {"graph": "instant"},
            },
            t.v2,
        )
    )
    person = _created(api.post(f"/api/v1/admin/{cid}/people", {"name": "Emma"}, t.admin))
    feed = _created(api.get(f"/v2/resources/{resource['data']['id']}/calendar_feed", t.v2))
    return {
        "token": feed["data"]["url"].rsplit("/", 1)[1],
        "person_id": str(person["id"]),
        "project_id": str(project["data"]["id"]),
        "slug": "clinic",
        "resource_id": str(resource["data"]["id"]),
        "company_id": str(cid),
        "service_id": str(service["id"]),
        "group_id": str(group["id"]),
        "client_id": str(person["id"]),
        "email": "ann@example.com",
        "reference": "cut-1",
        "event_group_id": str(event_group["id"]),
        "event_chain_id": str(chain["id"]),
        "event_id": str(event_id),
        "session_file": f"{chain['id']}.xml",
        "slot_file": f"{event_id}.xml",
        "basket_token": added.headers["Auth-Token"],
        "item_id": str(added.body["_embedded"]["items"][0]["id"]),
        "long_id": "0" * 32,
        "purchase_id": "0" * 32,
        "booking_id": booking["data"]["id"],
        "action": "confirm",
        "name": "confirm_decline",
        "webhook_id": str(webhook["data"]["id"]),
        "delivery_id": "0" * 32,
        "entry_id": "0" * 32,
        "reservation_id": "00000000-0000-4000-8000-000000000000",
    }


def _snapshot() -> list[dict[str, Any]]:
    return table_items(TABLE, ignoring=UNSNAPSHOTTED)


def _refused(world: World, method: str, path: str, headers: dict[str, str], raw: str | bytes) -> tuple[int, Any]:
    """Send, demand a 4xx in the error shape and an unchanged table; the status and error."""
    before = _snapshot()
    response = getattr(world.api.client.http, method.lower())(path, headers=headers, body=raw)
    status, text = response.status_code, response.body.decode(errors="replace")
    assert 400 <= status < 500, (method, path, status, text[:300])
    if text.startswith("<?xml"):
        root = ET.fromstring(text)
        assert root.tag == "error" and root.findtext("code"), text[:300]
        error: dict[str, Any] = {"code": root.findtext("code"), "field": root.findtext("field")}
    else:
        body = json.loads(text)
        assert set(body) >= {"error"} and {"code", "message"} <= set(body["error"]), text[:300]
        error = body["error"]
    assert _snapshot() == before, f"{method} {path} wrote something while answering {status}"
    return status, error


assert app is not None and OPERATIONS, "importing the app registers every route"
JSON_BODY_OPERATIONS = [op for op in OPERATIONS if op.request_ref is not None]
XML_BODY_OPERATIONS = [op for op in OPERATIONS if op.consumes != "application/json"]
# The booking page (/book/{slug}) is the same static HTML for any slug (the widget reads the
# project itself): it names nothing, so it is not an id route.
ID_OPERATIONS = [op for op in OPERATIONS if re.search(r"{\w+}", op.path) and op.produces != "text/html"]


def _name(op: Operation) -> str:
    return f"{op.method} {op.path}"


def _deep(levels: int) -> str:
    return '{"name": "x", "extra": ' + "[" * levels + "]" * levels + "}"


# Bodies no JSON route may accept, whatever its model: (name, raw body, content type, status).
HOSTILE_JSON = [
    ("truncated", '{"name": ', "application/json", 400),
    ("not json", "name=x", "application/json", 400),
    ("nan", '{"name": "x", "price": NaN}', "application/json", 400),
    ("infinity", '{"name": "x", "price": -Infinity}', "application/json", 400),
    ("depth 40", _deep(40), "application/json", 400),
    ("depth 5000", _deep(5000), "application/json", 400),
    ("depth 5000 objects", '{"a":' * 5000 + "1" + "}" * 5000, "application/json", 400),
    ("lone surrogate key", '{"\\udfff": 1}', "application/json", 422),
    ("lone surrogate value", '{"name": "\\ud800"}', "application/json", 422),
    ("invalid utf-8", b'{"name": "\xff\xfe"}', "application/json", 400),
    ("array", "[1, 2]", "application/json", 422),
    ("string", '"x"', "application/json", 422),
    ("null", "null", "application/json", 422),
    ("over one item", json.dumps({"name": "x", "extra": {"k": "v" * 900_000}}), "application/json", 413),
    ("over the body cap", json.dumps({"name": "x" * (1024 * 1024 + 10)}), "application/json", 413),
    ("text/plain", '{"name": "x"}', "text/plain", 415),
    ("multipart", '{"name": "x"}', "multipart/form-data; boundary=x", 415),
    ("xml", "<name>x</name>", "application/xml", 415),
    ("form, not json", "name=x&price=1", "application/x-www-form-urlencoded", 415),
]


@pytest.mark.parametrize("operation", JSON_BODY_OPERATIONS, ids=_name)
@pytest.mark.parametrize(("case", "raw", "media_type", "status"), HOSTILE_JSON, ids=[c[0] for c in HOSTILE_JSON])
def test_json_routes_refuse_hostile_bodies(
    world: World, operation: Operation, case: str, raw: str | bytes, media_type: str, status: int
) -> None:
    headers = {**world.headers(operation), "Content-Type": media_type}
    got, _error = _refused(world, operation.method, world.path(operation), headers, raw)
    assert got == status, case


XML_ATTACKS = [
    (
        "billion laughs",
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><session>&b;</session>',
    ),
    (
        "xxe",
        '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><session><name>&x;</name></session>',
    ),
    ("external dtd", '<?xml version="1.0"?><!DOCTYPE session SYSTEM "http://127.0.0.1:9/x.dtd"><session/>'),
    ("malformed", "<session><name>x</session>"),
    ("not xml", '{"name": "x"}'),
    ("empty", ""),
    ("unknown field", "<session><name>x</name><admin>true</admin></session>"),
    ("nested field", "<session><name><b>x</b></name></session>"),
    ("deep", "<session>" + "<a>" * 3000 + "</a>" * 3000 + "</session>"),
    ("bad price", "<session><name>x</name><start_date>2031-01-01</start_date><price>NaN</price></session>"),
    ("huge price", "<session><name>x</name><start_date>2031-01-01</start_date><price>1e400</price></session>"),
    ("zero spaces", "<session><name>x</name><start_date>2031-01-01</start_date><spaces>0</spaces></session>"),
    ("negative spaces", "<session><name>x</name><start_date>2031-01-01</start_date><spaces>-3</spaces></session>"),
    ("nul", "<session><name>x\x00</name></session>"),
    ("date as number", "<session><name>x</name><start_date>0</start_date></session>"),
]


@pytest.mark.parametrize("operation", XML_BODY_OPERATIONS, ids=_name)
@pytest.mark.parametrize(("case", "raw"), XML_ATTACKS, ids=[c[0] for c in XML_ATTACKS])
def test_xml_routes_refuse_hostile_documents(world: World, operation: Operation, case: str, raw: str) -> None:
    headers = {**world.headers(operation), "Content-Type": "application/xml"}
    _refused(world, operation.method, world.path(operation), headers, raw)


def test_xml_routes_refuse_json(world: World) -> None:
    for operation in XML_BODY_OPERATIONS:
        headers = {**world.headers(operation), "Content-Type": "application/json"}
        status, _ = _refused(world, operation.method, world.path(operation), headers, '{"name": "x"}')
        assert status == 415


HOSTILE_IDS = [
    ("leading zeros", lambda real: "000" + real),
    ("plus sign", lambda real: "+" + real),
    ("negative", lambda real: "-" + real),
    ("zero", lambda _real: "0"),
    ("fraction", lambda real: real + ".0"),
    ("exponent", lambda _real: "1e3"),
    ("1,100 digits", lambda _real: LONG_DIGITS),
    ("2,100 characters", lambda _real: LONG_TEXT),
    ("traversal", lambda _real: "..%2F..%2Fetc%2Fpasswd"),
    ("injection", lambda _real: "1%27%20OR%20%271%27%3D%271"),
    ("nul", lambda real: real + "%00"),
]


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=_name)
@pytest.mark.parametrize(("case", "spoil"), HOSTILE_IDS, ids=[c[0] for c in HOSTILE_IDS])
def test_ids_that_cannot_exist_are_404(world: World, operation: Operation, case: str, spoil: Any) -> None:
    names = re.findall(r"{(\w+)}", operation.path)
    # Spoil the last id (the object's own); the company's is spoiled by its own routes. An
    # unknown v2 action is not a missing object: it is 409 with the possible actions; a feed's
    # token is a secret, not an id (a wrong one is 404 too, tested with the feed).
    name = next(n for n in reversed(names) if n not in ("action", "token"))
    path = world.path(operation, **{name: spoil(world.values[name])})
    headers = world.headers(operation)
    if operation.request_ref is not None:
        headers = {**headers, "Content-Type": "application/json"}
    raw = "" if operation.consumes == "application/json" else "<session/>"
    status, error = _refused(world, operation.method, path, headers, raw if operation.request_ref is None else "{}")
    assert status == 404, (case, path, error)


def _op(method: str, path: str) -> Operation:
    return next(op for op in OPERATIONS if op.method == method and op.path == path)


def _body_case(world: World, method: str, path: str, body: Any, **overrides: str) -> tuple[int, Any]:
    operation = _op(method, path)
    headers = {**world.headers(operation), "Content-Type": "application/json"}
    return _refused(world, method, world.path(operation, **overrides), headers, json.dumps(body))


SERVICE = "/api/v1/admin/{company_id}/services"
ONE_SERVICE = "/api/v1/admin/{company_id}/services/{service_id}"
CHAINS = "/api/v1/admin/{company_id}/event_chains"


TYPED_BODIES = [
    # Types the OpenAPI document does not allow are not coerced (schemathesis found each).
    ("POST", "/v2/bookings/{booking_id}/reschedule", {"start": 0, "end": EVENT["end"]}, "start"),
    ("POST", "/v2/bookings/{booking_id}/reschedule", {"start": "0", "end": EVENT["end"]}, "start"),
    ("POST", "/v2/bookings/{booking_id}/reschedule", {"start": 1.5e9, "end": EVENT["end"]}, "start"),
    ("POST", "/platform/companies/{company_id}/keys", {"grace_seconds": False}, "grace_seconds"),
    ("POST", "/platform/companies/{company_id}/keys", {"grace_seconds": "60"}, "grace_seconds"),
    ("POST", "/v2/webhooks", {"url": "https://example.com/x", "events": ["booking.created"], "enabled": 0}, "enabled"),
    ("PUT", "/v2/webhooks/{webhook_id}", {"enabled": "false"}, "enabled"),
    ("POST", SERVICE, {"name": "x", "price": True}, "price"),
    ("POST", SERVICE, {"name": "x", "duration": 60.0}, "duration"),
    ("POST", SERVICE, {"name": "x", "duration": "0060"}, "duration"),
    ("POST", SERVICE, {"name": "x", "spaces": "+1"}, "spaces"),
    ("POST", SERVICE, {"name": "x", "disabled": 0}, "disabled"),
    ("POST", SERVICE, {"name": 5}, "name"),
    ("PUT", ONE_SERVICE, {"price": True}, "price"),
    ("POST", CHAINS, {"name": "x", "start_date": 0}, "start_date"),
    ("POST", CHAINS, {"name": "x", "start_date": "0"}, "start_date"),
    ("POST", CHAINS, {"name": "x", "start_date": "2031-01-01", "spaces": True}, "spaces"),
    ("POST", "/api/v1/{company_id}/client", {"email": "a@example.com", "date_of_birth": 0}, "date_of_birth"),
    ("POST", "/api/v1/login", {"email": "a@example.com", "password": "x", "id": True}, "id"),
    ("POST", "/api/v1/login", {"email": "a@example.com", "password": "x", "id": LONG_DIGITS}, "id"),
    # Huge numbers: past DynamoDB's 38 digits, or past what any field means.
    ("POST", SERVICE, {"name": "x", "price": 10**40}, "price"),
    ("POST", SERVICE, {"name": "x", "extra": {"n": 10**40}}, "extra"),
    ("POST", SERVICE, {"name": "x", "extra": {"n": 1e300}}, "extra"),
    ("POST", SERVICE, {"name": "x", "detail_group_id": int(LONG_DIGITS)}, "detail_group_id"),
    ("POST", SERVICE, {"name": "x", "order": 10**30}, "order"),
    # Zero and negative seats.
    ("POST", "/api/v1/{company_id}/basket/add_item", {"event_id": 1, "num_book": 0}, "num_book"),
    ("POST", "/api/v1/{company_id}/basket/add_item", {"event_id": 1, "num_book": -1}, "num_book"),
    ("POST", "/v2/bookings", {"graph": "group_owner", "settings": {"max_seats": 0}, **EVENT}, "settings.max_seats"),
    ("POST", "/v2/bookings", {"graph": "group_owner", "settings": {"max_seats": -5}, **EVENT}, "settings.max_seats"),
    ("POST", "/v2/bookings/reserve", {"related": {"owner_booking_id": "0" * 36, "seats": 0}}, "related.seats"),
    ("POST", SERVICE, {"name": "x", "spaces": 0}, "spaces"),
    ("POST", CHAINS, {"name": "x", "start_date": "2031-01-01", "spaces": -1}, "spaces"),
    # Unicode and NUL: control characters in names, surrogates, empty and odd map keys.
    ("POST", SERVICE, {"name": "x\u0000y"}, "name"),
    ("POST", SERVICE, {"name": "\u200b\u0007"}, "name"),
    ("POST", SERVICE, {"name": "x", "extra": {"": 1}}, "extra"),
    ("POST", SERVICE, {"name": "x", "extra": {"k" * 300: 1}}, "extra"),
    (
        "POST",
        "/platform/companies",
        {"name": "x", "admin_email": "a@example.com", "admin_password": "p" * 12, "timezone": "../../etc/localtime"},
        "timezone",
    ),
    # Injection-looking strings where the type says otherwise.
    ("POST", "/api/v1/login", {"email": "a@b.c' OR '1'='1", "password": "x' OR '1'='1"}, None),
    ("POST", "/api/v1/{company_id}/client", {"email": "x@example.com' OR 1=1 --"}, "email"),
    ("POST", "/v2/bookings", {"graph": "instant; DROP TABLE", "event": EVENT, "customer": CUSTOMER}, "graph"),
    ("POST", SERVICE, {"name": "x", "booking_type_public": "{{7*7}}"}, "booking_type_public"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), TYPED_BODIES, ids=lambda v: str(v)[:40])
def test_bodies_of_the_wrong_type_or_range_are_refused(
    world: World, method: str, path: str, body: Any, field: str | None
) -> None:
    status, error = _body_case(world, method, path, body)
    if field is not None:
        assert status == 422 and error.get("field") == field, (status, error)


def test_numbers_as_text_stay_accepted_where_the_seeds_send_them(world: World) -> None:
    t = world.tenant
    created = world.api.post(
        f"/api/v1/admin/{t.id}/services", {"name": "Seed 004", "duration": "60", "spaces": "1"}, t.admin
    )
    assert created.status == 201, created.body
    assert created.body["durations"] == [60] and created.body["spaces"] == 1
    deleted = world.api.delete(f"/api/v1/admin/{t.id}/services/{created.body['id']}", t.admin)
    assert deleted.status in (200, 204)


def test_a_question_group_of_another_company_is_refused_like_event_chains_refuse_it(world: World) -> None:
    theirs = world.other_group_id
    for method, path, body in (
        ("POST", SERVICE, {"name": "x", "detail_group_id": theirs}),
        ("PUT", ONE_SERVICE, {"detail_group_id": theirs}),
        ("POST", CHAINS, {"name": "x", "start_date": "2031-01-01", "detail_group_id": theirs}),
        ("PUT", "/api/v1/admin/{company_id}/event_chains/{event_chain_id}", {"detail_group_id": theirs}),
    ):
        status, error = _body_case(world, method, path, body)
        assert (status, error["code"], error["field"]) == (422, "validation_error", "detail_group_id"), (path, error)


QUERIES = [
    ("/api/v1/{company_id}/events", "start_date=0", "start_date"),
    ("/api/v1/{company_id}/events", "start_date=2031-02-30", "start_date"),
    ("/api/v1/{company_id}/events", f"event_group_id={LONG_DIGITS}", "event_group_id"),
    ("/api/v1/{company_id}/questions", f"detail_group_id={LONG_DIGITS}", "detail_group_id"),
    ("/v2/bookings", "start=0.5", "start"),
    ("/v2/bookings", "start=1700000000", "start"),
    ("/v2/bookings", f"search={LONG_TEXT}", "search"),
    ("/api/v1/{company_id}/services", "page=0", "page"),
    ("/api/v1/{company_id}/services", "per_page=-1", "per_page"),
    ("/api/v1/{company_id}/services", f"page={LONG_DIGITS}", "page"),
    ("/v2/webhooks/{webhook_id}/deliveries", "limit=1e3", "limit"),
]


@pytest.mark.parametrize(("path", "query", "field"), QUERIES, ids=[f"{p} {q[:30]}" for p, q, _ in QUERIES])
def test_query_parameters_are_bounded_and_typed(world: World, path: str, query: str, field: str) -> None:
    operation = _op("GET", path)
    status, error = _refused(world, "GET", f"{world.path(operation)}?{query}", world.headers(operation), "")
    assert status == 422 and error["field"] == field, error


def test_json_depth_is_refused_before_parsing(world: World) -> None:
    operation = _op("POST", "/api/v1/login")
    headers = {**world.headers(operation), "Content-Type": "application/json"}
    status, error = _refused(world, "POST", "/api/v1/login", headers, "[" * 100_000)
    assert (status, error["code"]) == (400, "malformed_json")
