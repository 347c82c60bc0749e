"""Shared fixtures.

Two back ends: moto (fast, in-process, single-threaded: it loses conditional
updates under threads) for API tests, and AWS's DynamoDB Local for everything
that writes conditionally or concurrently. DynamoDB Local is started by the
session and stopped after it; if it cannot start, those tests fail, never skip.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.domain import clock
from chalicelib.settings import reset_settings
from chalicelib.settings_model import LOCAL_ROOT_KEY
from chalicelib.store import db, schema, warm
from tests import moto_transactions

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["PASSWORD_HASH_N"] = "1024"  # scrypt's cost is not under test; keep tests fast
# DynamoDB Local on a loaded 2-core machine can stall past the production read timeout (4 s);
# the outage tests set their own limits, everything else waits longer rather than flake.
os.environ.setdefault("AWS_READ_TIMEOUT_SECONDS", "10")
os.environ.setdefault("AWS_MAX_ATTEMPTS", "2")
# The public rate limit is tested on its own (tests/api/test_public_key.py); elsewhere a test's
# burst of requests with one key must not meet it.
os.environ["PUBLIC_REQUESTS_PER_MINUTE"] = "100000"
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.pop("BOOKING_ROOT_KEY", None)
moto_transactions.install()  # moto copied a table per item of every transaction

ROOT = {"Authorization": f"Bearer {LOCAL_ROOT_KEY}"}
_table_numbers = itertools.count(1)


def forget_what_the_process_remembers() -> None:
    """The reads this process remembers belong to the table before: forget them."""
    from chalicelib.services.identity import limits
    from chalicelib.services.identity.auth import forget_cached_keys
    from chalicelib.services.selling import capacity

    forget_cached_keys()
    warm.forget_all()  # catalogue reads and group owners
    capacity.forget_full_shards()  # the shards this process saw full
    limits.forget_clean()  # the sign-in counters it found clean


def _use_table(monkeypatch: pytest.MonkeyPatch, name: str, endpoint: str | None) -> None:
    forget_what_the_process_remembers()
    monkeypatch.setenv("TABLE_NAME", name)
    if endpoint is None:
        monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    else:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
    reset_settings()  # the models are bound again only if the target changed (db.ensure_bound):
    # a botocore client costs ~0.2 s to build, and moto's stubber serves a client of an earlier test


@pytest.fixture
def travel() -> Iterator[Callable[[float], None]]:
    """Move the one clock (chalicelib.domain.clock) the given seconds ahead of the system time;
    it is the system time again after the test."""

    def to(seconds: float) -> None:
        clock.set_clock(lambda: time.time() + seconds)

    yield to
    clock.set_clock(None)


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto import mock_aws

    with mock_aws():
        name = "booking-engine-test"
        _use_table(monkeypatch, name, None)
        schema.create_table_if_absent(db.low_level_client(), name)
        yield name
    reset_settings()


@pytest.fixture(scope="session")
def ddb_endpoint() -> Iterator[str]:
    from devtools.ddb_local import DynamoDBLocal, free_port

    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture
def ddb_table(monkeypatch: pytest.MonkeyPatch, ddb_endpoint: str) -> Iterator[str]:
    """A fresh table on DynamoDB Local for one test."""
    name = f"it-{os.getpid()}-{next(_table_numbers)}"
    _use_table(monkeypatch, name, ddb_endpoint)
    client = boto3.client("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    schema.create_table_if_absent(client, name)
    yield name
    client.delete_table(TableName=name)
    reset_settings()
    db._bound_to = None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.body["error"]
        return error


class Api:
    """A JSON client over chalice's in-process test client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: str | None = None
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else "")
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=payload)
        try:
            parsed = json.loads(response.body) if response.body else None
        except ValueError:
            parsed = response.body.decode()
        return Reply(response.status_code, dict(response.headers), parsed)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.call("GET", path, headers=headers)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return self.call("POST", path, body, headers)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return self.call("PUT", path, body, headers)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.call("DELETE", path, headers=headers)


@dataclass
class Tenant:
    """A company as its integrators see it: ids, keys and ready-made headers."""

    id: int
    app_id: str
    app_key: str
    api_key: str
    admin_email: str
    admin_password: str
    auth_token: str

    @property
    def public(self) -> dict[str, str]:
        return {"App-Id": self.app_id, "App-Key": self.app_key}

    @property
    def admin(self) -> dict[str, str]:
        return {**self.public, "Auth-Token": self.auth_token}

    @property
    def v2(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f":{self.api_key}".encode()).decode()}

    @property
    def widget(self) -> dict[str, str]:
        """The public key as Timekit's booking widget sends it: Basic with an empty user."""
        return {"Authorization": "Basic " + base64.b64encode(f":{self.app_key}".encode()).decode()}

    @property
    def legacy(self) -> dict[str, str]:
        pair = f"{self.admin_email}:{self.admin_password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def make_tenant(api: Api, name: str = "Acme", email: str | None = None) -> Tenant:
    email = email or f"admin-{name.lower().replace(' ', '-')}@example.com"
    password = "correct horse battery"
    created = api.post("/platform/companies", {"name": name, "admin_email": email, "admin_password": password}, ROOT)
    assert created.status == 201, created.body
    body = created.body
    public = {"App-Id": body["app_id"], "App-Key": body["app_key"]}
    login = api.post("/api/v1/login", {"email": email, "password": password}, public)
    assert login.status == 201, login.body
    return Tenant(
        id=body["id"],
        app_id=body["app_id"],
        app_key=body["app_key"],
        api_key=body["api_key"],
        admin_email=email,
        admin_password=password,
        auth_token=login.body["auth_token"],
    )


@pytest.fixture
def api(moto_table: str) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


@pytest.fixture
def tenant(api: Api) -> Tenant:
    return make_tenant(api)


@pytest.fixture
def local_api(ddb_table: str) -> Iterator[Api]:
    """The app in-process against DynamoDB Local (for concurrent and conditional paths)."""
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)
