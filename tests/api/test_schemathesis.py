"""Property-based run of every documented operation against the app, in-process.

The app runs behind a WSGI adapter over chalice's LocalGateway, on this thread
(moto's decorator mode is not thread-safe), against moto's DynamoDB. Each
operation starts from a copy of one table (built once) holding a real company, its administrator's
session and one service, question group and client; path parameters are mostly
swapped for their ids, so most generated calls reach the real code rather than
stopping at a 401 or 404. After each operation's run that changed the table, every
company-wide GET must still answer without a 5xx: a generated write must not poison
later reads.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import schemathesis
from chalice import Chalice
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from app import app
from chalicelib.api.http.openapi import build_openapi
from chalicelib.api.http.route import OPERATIONS
from chalicelib.settings import reset_settings
from chalicelib.settings_model import LOCAL_ROOT_KEY
from chalicelib.store import db
from chalicelib.store.schema import create_table_if_absent
from tests import moto_store
from tests.conftest import forget_what_the_process_remembers
from tests.cost_split import split_by_cost
from tests.wsgi_adapter import ChaliceWSGI

WSGI_APP = ChaliceWSGI(app)
DOCUMENT = build_openapi(OPERATIONS)
schema: BaseSchema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = WSGI_APP
# The coverage phase is not bounded by max_examples: its negative half alone is
# ~2,000 cases (~1 min). Keep its boundary values of valid input; the fuzzing
# phase (max_examples) still sends invalid input.
schema.config.phases.coverage.generation.modes = [GenerationMode.POSITIVE]
# `make test` runs this file as two processes side by side (SCHEMATHESIS_PART=0/2 and 1/2),
# each with half the operations by their measured cost (schemathesis_costs.json; one operation
# alone costs an eighth of the run, so a split by count or by hash leaves one half far longer).
COSTS_FILE = Path(__file__).with_name("schemathesis_costs.json")
METHODS = {"get", "put", "post", "patch", "delete"}
PART = os.environ.get("SCHEMATHESIS_PART", "")


if PART:
    _index, _parts = (int(number) for number in PART.split("/"))
    _labels = [f"{verb.upper()} {path}" for path, item in DOCUMENT["paths"].items() for verb in item if verb in METHODS]
    _mine = split_by_cost(_labels, json.loads(COSTS_FILE.read_text()), _parts)[_index]
    schema = schema.include(lambda context: context.operation.label in _mine)
    schema.app = WSGI_APP

COUNTERS = ("LIMIT#", "RATE#")  # sign-in and request counters: every request may move them
PRUNE_AT = 500  # items in the table
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
PASSWORD = "correct horse battery"
EMAIL = "admin@example.com"
TABLE = "booking-engine-test"
EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Haircut"}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}


@pytest.fixture(scope="module")
def moto_app() -> Iterator[Chalice]:
    """What the planned ``moto_app`` fixture of tests/conftest.py does, at module scope.

    Module scope binds the models once: a rebind builds a botocore client per
    model class (~2 s). Each operation still gets its own copy of the built table (``world``).
    """
    from moto import mock_aws

    with mock_aws(), pytest.MonkeyPatch.context() as env:
        env.setenv("TABLE_NAME", TABLE)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("PASSWORD_HASH_N", "1024")
        env.delenv("DYNAMODB_ENDPOINT", raising=False)
        reset_settings()
        db._bound_to = None
        create_table_if_absent(boto3.client("dynamodb"), TABLE)
        yield app
    reset_settings()
    db._bound_to = None


@pytest.fixture(autouse=True)
def measured(request: pytest.FixtureRequest) -> Iterator[None]:
    """``make schemathesis-costs``: each operation's seconds, set-up and read-back included,
    for the split above (SCHEMATHESIS_COSTS_OUT names the file; otherwise nothing is kept)."""
    started = time.perf_counter()
    yield
    out = os.environ.get("SCHEMATHESIS_COSTS_OUT")
    if out:
        costs = json.loads(Path(out).read_text()) if Path(out).exists() else {}
        costs[request.node.operation_label] = round(time.perf_counter() - started, 1)
        Path(out).write_text(json.dumps(costs, indent=1, sort_keys=True) + "\n")


@dataclass
class World:
    """What the fixture created: credentials per security scheme and real path values."""

    credentials: dict[str, dict[str, str]]
    path_values: dict[str, Any]
    keys: set[tuple[str, str]]  # the items the fixture wrote (a pruned table keeps them)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _post(client: Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), (path, response.status_code, response.get_data(as_text=True))
    reply: dict[str, Any] = response.get_json()
    return reply


@pytest.fixture(scope="module")
def built(moto_app: Chalice) -> tuple[World, Any]:
    """The world, built once through the API, and a copy of moto's table as it left it."""
    client = Client(WSGI_APP)
    root = {"Authorization": f"Bearer {LOCAL_ROOT_KEY}"}
    company = _post(
        client, "/platform/companies", {"name": "Acme", "admin_email": EMAIL, "admin_password": PASSWORD}, root
    )
    cid = company["id"]
    public = {"App-Id": company["app_id"], "App-Key": company["app_key"]}
    token = _post(client, "/api/v1/login", {"email": EMAIL, "password": PASSWORD}, public)["auth_token"]
    admin = {**public, "Auth-Token": token}
    service = _post(client, f"/api/v1/admin/{cid}/services", {"name": "Cut", "reference": "cut-1"}, admin)
    group = _post(
        client,
        f"/api/v1/admin/{cid}/question_groups",
        {"name": "Intake", "questions": [{"name": "Allergies?", "detail_type": "text_field"}]},
        admin,
    )
    person = _post(
        client,
        f"/api/v1/admin/{cid}/client",
        {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "reference": "ann-1"},
        admin,
    )
    v2 = {"Authorization": _basic("", company["api_key"])}
    booking = _post(client, "/v2/bookings", {"graph": "confirm_decline", "event": EVENT, "customer": CUSTOMER}, v2)
    group_booking = _post(client, "/v2/bookings", {"graph": "group_owner", "settings": {"max_seats": 3}, **EVENT}, v2)
    resource = _post(client, "/v2/resources", {"name": "Doc", "timezone": "Europe/London"}, v2)
    event_group = _post(client, f"/api/v1/admin/{cid}/event_groups", {"name": "Fitness"}, admin)
    chain = _post(
        client,
        f"/api/v1/admin/{cid}/event_chains",
        {"name": "Yoga", "start_date": "2031-03-03", "time": "09:00", "event_group_id": event_group["id"]},
        admin,
    )
    event_id = chain["_embedded"]["events"][0]["id"]
    basket_token, item_id, purchase = _basket_and_purchase(client, cid, public, admin)
    # Header values for each security scheme named in components.securitySchemes.
    credentials = {
        "PlatformRootKey": root,
        "AppId": {"App-Id": company["app_id"]},
        "AppKey": {"App-Key": company["app_key"]},
        "ApiKey": {"App-Key": company["api_key"]},
        "AuthToken": {"Auth-Token": token},
        "BasketToken": {"Auth-Token": basket_token},
        "TimekitBasic": v2,
        "LegacyBasic": {"Authorization": _basic(EMAIL, PASSWORD)},
    }
    path_values = {
        "company_id": cid,
        "service_id": service["id"],
        "group_id": group["id"],
        "client_id": person["id"],
        "email": "ann@example.com",
        "reference": "cut-1",
        "client_reference": "ann-1",
        "booking_id": booking["data"]["id"],
        "group_booking_id": group_booking["data"]["id"],
        "action": "confirm",
        "name": "confirm_decline",
        "event_group_id": event_group["id"],
        "event_chain_id": chain["id"],
        "event_id": event_id,
        "session_file": f"{chain['id']}.xml",
        "slot_file": f"{event_id}.xml",
        "item_id": item_id,
        "long_id": purchase["long_id"],
        "purchase_id": purchase["id"],
        "resource_id": resource["data"]["id"],
    }
    return World(credentials, path_values, _keys()), moto_store.saved(TABLE)


@pytest.fixture
def world(built: tuple[World, Any]) -> Iterator[World]:
    """Each operation starts from the built world: the table as it was then (a table that grew
    over the whole run would make each call slower, moto copying it on every transaction), and
    nothing the process remembers from the operation before."""
    world, table = built
    moto_store.restore(TABLE, table)
    forget_what_the_process_remembers()
    before = moto_store.table_items(TABLE, ignoring=COUNTERS)
    yield world
    if moto_store.table_items(TABLE, ignoring=COUNTERS) != before:  # what wrote nothing cannot break a read
        _read_back(Client(WSGI_APP), world)


def _basket_and_purchase(
    client: Client, cid: int, public: dict[str, str], admin: dict[str, str]
) -> tuple[str, str, dict[str, Any]]:
    """An open basket with one item (its token and item id) and a purchase made by another."""
    chain = _post(
        client,
        f"/api/v1/admin/{cid}/event_chains",
        {"name": "Pilates", "start_date": "2031-03-04", "time": "09:00", "spaces": 5, "max_num_bookings": 5},
        admin,
    )
    event = {"event_id": chain["_embedded"]["events"][0]["id"]}
    tokens = []
    for _ in range(2):
        added = client.post(f"/api/v1/{cid}/basket/add_item", json=event, headers=public)
        assert added.status_code == 201, added.get_data(as_text=True)
        tokens.append((added.headers["Auth-Token"], added.get_json()["_embedded"]["items"][0]["id"]))
    buyer = {"client": {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}}
    purchase = _post(client, f"/api/v1/{cid}/basket/checkout", buyer, {**public, "Auth-Token": tokens[1][0]})
    return tokens[0][0], tokens[0][1], purchase


def _read_back(client: Client, world: World) -> None:
    """Every GET that needs no id but the company's still answers below 500."""
    broken = []
    for path, item in DOCUMENT["paths"].items():
        if "get" not in item or set(re.findall(r"{(\w+)}", path)) - {"company_id"}:
            continue
        url = path.replace("{company_id}", str(world.path_values["company_id"]))
        response = client.get(url, headers=_headers_for(item["get"], world))
        if response.status_code >= 500:
            broken.append(f"GET {url} -> {response.status_code} {response.get_data(as_text=True)[:200]}")
    assert not broken, "the data this operation wrote breaks later reads:\n" + "\n".join(broken)


def _keys() -> set[tuple[str, str]]:
    return {(item["pk"]["S"], item["sk"]["S"]) for item in moto_store.table_items(TABLE)}


def _keep_small(client: Client, world: World) -> None:
    """Past ``PRUNE_AT`` items, read the table back (as after the whole run) and delete what the
    generated cases added: moto copies the whole table on every transaction, so one operation
    whose cases each write hundreds of items (an event chain's sessions) would otherwise slow
    down with everything written before it."""
    ddb = db.low_level_client()
    if ddb.describe_table(TableName=TABLE)["Table"]["ItemCount"] <= PRUNE_AT:
        return
    _read_back(client, world)
    added = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in _keys() - world.keys]
    for start in range(0, len(added), 25):
        requests = [{"DeleteRequest": {"Key": key}} for key in added[start : start + 25]]
        ddb.batch_write_item(RequestItems={TABLE: requests})


def _real_value(world: World, path: str, name: str) -> Any:
    if name == "reference" and "/client/" in path:
        return world.path_values["client_reference"]
    if name == "booking_id" and "/groups/" in path:
        return world.path_values["group_booking_id"]
    return world.path_values.get(name)


def _one_in(n: int, value: Any) -> bool:
    """True for about one value in ``n``, decided by the generated value itself (so it replays and shrinks)."""
    return zlib.crc32(repr(value).encode()) % n == 0


def _headers_for(operation: dict[str, Any], world: World) -> dict[str, str]:
    """Headers satisfying the operation's first declared security requirement."""
    requirements = operation.get("security") or [{}]
    headers: dict[str, str] = {}
    for name in requirements[0]:
        headers.update(world.credentials[name])
    return headers


@schema.parametrize()
# 12 generated cases an operation (25 until December 2026), besides the coverage phase's
# boundary values: the whole of `make test` stays within its 15 minutes on two cores.
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case[Any], world: World) -> None:
    for name, value in list(case.path_parameters.items()):
        real = _real_value(world, case.path, name)
        if real is not None and not _one_in(8, value):
            case.path_parameters[name] = real
    if isinstance(case.body, dict) and "email" in case.body and _one_in(3, case.body["email"]):
        # Now and then an email that exists: the login's own, or the client's (an upsert that updates).
        case.body["email"] = EMAIL if case.path.endswith("/login") else "ann@example.com"
    case.call_and_validate(headers=_headers_for(case.operation.definition.raw, world), checks=CHECKS)
    _keep_small(Client(WSGI_APP), world)
