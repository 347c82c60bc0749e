"""Schemathesis with every check over real HTTP: ``chalice local`` (the server ``make run``
runs) on 127.0.0.1 against DynamoDB Local, started by the fixtures.

The in-process run (test_schemathesis.py) is faster and resets the table per operation;
this one goes through the real HTTP stack (chalice's local gateway, headers, status
lines, encodings) and runs schemathesis's full list of checks. Nothing may answer 5xx, and
nothing that breaks the schema may be accepted. Runtime is bounded by ``max_examples``
with the fuzzing phase only (the in-process run covers the coverage phase's boundary values).
"""

from __future__ import annotations

import base64
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import CheckFunction, load_all_checks
from schemathesis.generation import GenerationMode

from app import app
from chalicelib.api.http.openapi import build_openapi
from chalicelib.api.http.route import OPERATIONS
from chalicelib.settings_model import LOCAL_ROOT_KEY
from chalicelib.store.schema import create_table_if_absent
from devtools.ddb_local import free_port
from devtools.local_stack import ChaliceLocal

assert app is not None and OPERATIONS, "importing the app registers every route"
schema = schemathesis.openapi.from_dict(build_openapi(OPERATIONS))
# Bounded for time: no coverage phase (its boundary values run in-process, in
# test_schemathesis.py); the fuzzing phase sends valid and invalid input, a few per operation.
schema.config.phases.coverage.enabled = False
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# Every check schemathesis has ("--checks all") except positive_data_acceptance: the schema
# cannot say that a booking's end follows its start, or that a question group exists, so
# well-typed input is rightly refused with 422 by rules beyond it.
load_all_checks()
ALL_CHECKS: list[CheckFunction] = [
    check
    for check in REGISTRY.get_all()
    if not isinstance(check, type) and check.__name__ != "positive_data_acceptance"
]
TABLE = "booking-engine-http"
PASSWORD = "correct horse battery"
EMAIL = "admin@example.com"
EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Haircut"}


@dataclass
class Server:
    url: str
    credentials: dict[str, dict[str, str]]
    path_values: dict[str, Any]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    reply = requests.post(url, json=body, headers=headers, timeout=30)
    assert reply.status_code in (200, 201), (url, reply.status_code, reply.text[:300])
    created: dict[str, Any] = reply.json()
    return created


@pytest.fixture(scope="module")
def server(ddb_endpoint: str) -> Iterator[Server]:
    create_table_if_absent(boto3.client("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1"), TABLE)
    env = {
        **os.environ,
        "STAGE": "local",
        "TABLE_NAME": TABLE,
        "DYNAMODB_ENDPOINT": ddb_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "BOOKING_ROOT_KEY": LOCAL_ROOT_KEY,
        "PASSWORD_HASH_N": "1024",
        # schemathesis sends wrong credentials on purpose (ignored_auth), all from 127.0.0.1.
        "SIGNIN_FAILURES_PER_ADDRESS": "1000000",
        "SIGNIN_FAILURES_PER_ACCOUNT": "1000000",
        "PUBLIC_REQUESTS_PER_MINUTE": "100000",
    }
    port = free_port()
    chalice = ChaliceLocal(port, env)
    assert chalice.start(), "chalice local did not start"
    try:
        yield _world(f"http://127.0.0.1:{port}")
    finally:
        chalice.stop()


def _world(url: str) -> Server:
    root = {"Authorization": f"Bearer {LOCAL_ROOT_KEY}"}
    company = _post(
        f"{url}/platform/companies", {"name": "Acme", "admin_email": EMAIL, "admin_password": PASSWORD}, root
    )
    cid = company["id"]
    public = {"App-Id": company["app_id"], "App-Key": company["app_key"]}
    token = _post(f"{url}/api/v1/login", {"email": EMAIL, "password": PASSWORD}, public)["auth_token"]
    admin = {**public, "Auth-Token": token}
    v2 = {"Authorization": _basic("", company["api_key"])}
    service = _post(f"{url}/api/v1/admin/{cid}/services", {"name": "Cut", "reference": "cut-1"}, admin)
    group = _post(f"{url}/api/v1/admin/{cid}/question_groups", {"name": "Intake"}, admin)
    person = _post(
        f"{url}/api/v1/admin/{cid}/client",
        {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "reference": "ann-1"},
        admin,
    )
    chain = _post(
        f"{url}/api/v1/admin/{cid}/event_chains",
        {"name": "Yoga", "start_date": "2031-03-03", "time": "09:00", "spaces": 50, "max_num_bookings": 5},
        admin,
    )
    event_id = chain["_embedded"]["events"][0]["id"]
    added = requests.post(
        f"{url}/api/v1/{cid}/basket/add_item", json={"event_id": event_id}, headers=public, timeout=30
    )
    assert added.status_code == 201, added.text
    booking = _post(
        f"{url}/v2/bookings",
        {"graph": "confirm_decline", "event": EVENT, "customer": {"name": "Marty", "email": "m@example.com"}},
        v2,
    )
    group_booking = _post(f"{url}/v2/bookings", {"graph": "group_owner", "settings": {"max_seats": 3}, **EVENT}, v2)
    resource = _post(f"{url}/v2/resources", {"name": "Chair", "timezone": "Europe/London"}, v2)
    webhook = _post(f"{url}/v2/webhooks", {"url": "https://example.com/hook", "events": ["booking.created"]}, v2)
    credentials = {
        "PlatformRootKey": root,
        "AppId": {"App-Id": company["app_id"]},
        "AppKey": {"App-Key": company["app_key"]},
        "ApiKey": {"App-Key": company["api_key"]},
        "AuthToken": {"Auth-Token": token},
        "BasketToken": {"Auth-Token": added.headers["Auth-Token"]},
        "TimekitBasic": v2,
        "LegacyBasic": {"Authorization": _basic(EMAIL, PASSWORD)},
    }
    values = {
        "company_id": cid,
        "service_id": service["id"],
        "group_id": group["id"],
        "client_id": person["id"],
        "email": "ann@example.com",
        "reference": "cut-1",
        "booking_id": booking["data"]["id"],
        "group_booking_id": group_booking["data"]["id"],
        "action": "confirm",
        "name": "confirm_decline",
        "event_chain_id": chain["id"],
        "event_id": event_id,
        "session_file": f"{chain['id']}.xml",
        "slot_file": f"{event_id}.xml",
        "item_id": added.json()["_embedded"]["items"][0]["id"],
        "resource_id": resource["data"]["id"],
        "webhook_id": webhook["data"]["id"],
    }
    return Server(url, credentials, values)


def _headers_for(operation: dict[str, Any], server: Server) -> dict[str, str]:
    requirements = operation.get("security") or [{}]
    headers: dict[str, str] = {}
    for name in requirements[0]:
        headers.update(server.credentials[name])
    return headers


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_over_http(case: schemathesis.Case[Any], server: Server) -> None:
    # Real ids and credentials make calls reach the code, but only where schemathesis did not
    # break that part on purpose: a negative path or header must reach the app as generated.
    components = case.meta.components if case.meta is not None else {}

    def generated_negative(location: str) -> bool:
        info = next((info for where, info in components.items() if str(where.value) == location), None)
        return info is not None and info.mode.is_negative

    if not generated_negative("path"):
        for name in list(case.path_parameters):
            real = server.path_values.get(name)
            if name == "booking_id" and "/groups/" in case.path:
                real = server.path_values["group_booking_id"]
            # Mostly a real id; now and then the generated one.
            if real is not None and zlib.crc32(repr(case.path_parameters[name]).encode()) % 4:
                case.path_parameters[name] = real
    headers = {} if generated_negative("header") else _headers_for(case.operation.definition.raw, server)
    case.call_and_validate(base_url=server.url, headers=headers, checks=ALL_CHECKS)
