"""When DynamoDB is gone or frozen, a request ends in bounded time with 503 ``unavailable`` and
``Retry-After``, never 500, on every route, and writes nothing.

"Gone" is a closed port on 127.0.0.1; "frozen" is a tiny server that accepts connections
and never answers. Each test makes its company on DynamoDB Local first, then points the
app at the outage, then back, to see what was stored.
"""

from __future__ import annotations

import importlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.api.http.route import OPERATIONS, Operation
from chalicelib.services.identity.auth import Scheme, forget_cached_keys
from chalicelib.settings import get_settings, reset_settings
from chalicelib.store import keys, pages
from chalicelib.store.aws import is_unavailable, worst_case_seconds
from chalicelib.store.models import Booking
from devtools.ddb_local import free_port
from tests.api.test_tenancy import SAMPLE_BODIES
from tests.conftest import ROOT, Api, Reply, Tenant, make_tenant
from tests.receivers import receiver

pytestmark = pytest.mark.integration

BOOKING = {
    "graph": "instant",
    "event": {"start": "2031-03-01T10:00:00+00:00", "end": "2031-03-01T11:00:00+00:00", "what": "Massage"},
    "customer": {"name": "Marty McFly", "email": "marty@example.com"},
}


@dataclass
class Frozen:
    port: int
    accepted: list[socket.socket] = field(default_factory=list)  # held open, never read, never answered


@contextmanager
def frozen_server() -> Iterator[Frozen]:
    """A server on 127.0.0.1 that accepts every connection and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    frozen = Frozen(listener.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            frozen.accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield frozen
    finally:
        stop.set()
        thread.join(5)
        for connection in frozen.accepted:
            connection.close()
        listener.close()


Outage = Callable[..., None]


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch, ddb_endpoint: str) -> Iterator[Outage]:
    """``outage("http://127.0.0.1:N", connect=..., read=..., attempts=...)`` points the app there;
    ``outage(None)`` back at DynamoDB Local. Keys cached by earlier requests stay cached."""

    def point(endpoint: str | None, **limits: float) -> None:
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint or ddb_endpoint)
        for name, variable in (
            ("connect", "AWS_CONNECT_TIMEOUT_SECONDS"),
            ("read", "AWS_READ_TIMEOUT_SECONDS"),
            ("attempts", "AWS_MAX_ATTEMPTS"),
        ):
            if name in limits:
                monkeypatch.setenv(variable, str(limits[name]))
            else:
                monkeypatch.delenv(variable, raising=False)
        reset_settings()

    yield point
    point(None)


@pytest.fixture
def company(local_api: Api) -> Tenant:
    return make_tenant(local_api, "Outage")


def _budget() -> float:
    settings = get_settings()
    return worst_case_seconds(
        settings.aws_connect_timeout_seconds, settings.aws_read_timeout_seconds, settings.aws_max_attempts
    )


def _assert_unavailable(reply: Reply) -> None:
    assert reply.status == 503, reply.body
    assert reply.error["code"] == "unavailable"
    assert reply.headers["Retry-After"] == str(get_settings().unavailable_retry_after_seconds)


def _bookings(api: Api, tenant: Tenant) -> int:
    reply = api.get("/v2/bookings", tenant.v2)
    assert reply.status == 200, reply.body
    return int(reply.body["meta"]["total_entries"])


def test_a_closed_port_answers_503_with_retry_after_at_once_and_nothing_is_written(
    local_api: Api, company: Tenant, outage: Outage
) -> None:
    closed = free_port()  # nothing listens there
    outage(f"http://127.0.0.1:{closed}")
    forget_cached_keys()  # authentication itself meets the outage
    started = time.monotonic()
    reply = local_api.post("/v2/bookings", BOOKING, company.v2)
    elapsed = time.monotonic() - started
    _assert_unavailable(reply)
    assert elapsed < _budget()
    keyed = {**company.v2, "Idempotency-Key": "outage-1"}
    _assert_unavailable(local_api.post("/v2/bookings", BOOKING, keyed))
    outage(None)
    assert _bookings(local_api, company) == 0
    retried = local_api.post("/v2/bookings", BOOKING, keyed)  # the advice: retry with the same key
    assert retried.status == 201 and "Idempotent-Replayed" not in retried.headers  # the 503 was not kept
    assert _bookings(local_api, company) == 1


def test_a_database_that_accepts_and_never_answers_is_given_up_within_the_configured_total(
    local_api: Api, company: Tenant, outage: Outage
) -> None:
    local_api.get("/v2/bookings", company.v2)  # the key is cached: the booking's own write meets the outage
    with frozen_server() as frozen:
        outage(f"http://127.0.0.1:{frozen.port}", connect=1, read=1, attempts=2)
        budget = _budget()
        for path, body in (("/v2/bookings", BOOKING), ("/health", None)):
            started = time.monotonic()
            reply = local_api.call("POST" if body else "GET", path, body, company.v2)
            elapsed = time.monotonic() - started
            _assert_unavailable(reply)
            assert elapsed < budget, f"{path} took {elapsed:.1f} s, more than {budget:.1f} s"
        opened = len(frozen.accepted)
    assert opened == 4  # two requests, two attempts each: bounded retries
    outage(None)
    assert _bookings(local_api, company) == 0


def test_a_spread_listing_meets_a_frozen_database_within_one_calls_total(
    local_api: Api, company: Tenant, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking listing reads its 16 partitions side by side; 2 threads make 8 rounds of
    them, yet the first error is raised (as the error the route answers 503 for) after one
    round: reads not started are dropped, those under way not waited for. Called below the
    route, whose own reads before the listing would meet the outage first."""
    monkeypatch.setattr(pages, "PARTITION_THREADS", 2)
    partitions = keys.company_booking_partitions(company.id)
    assert len(partitions) > 2 * pages.PARTITION_THREADS
    with frozen_server() as frozen:
        outage(f"http://127.0.0.1:{frozen.port}", connect=1, read=1, attempts=2)
        budget = _budget()
        started = time.monotonic()
        with pytest.raises(Exception) as raised:
            pages.query_page(Booking, partitions, "", 1, 20, index=Booking.listing, newest_first=True)
        elapsed = time.monotonic() - started
        opened = len(frozen.accepted)
    assert is_unavailable(raised.value), raised.value
    assert elapsed < budget, f"the listing took {elapsed:.1f} s, more than {budget:.1f} s"
    assert opened > 2  # more than one COUNT's two attempts: the COUNTs were read side by side
    outage(None)
    assert _bookings(local_api, company) == 0


THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
).encode()


def test_throttling_answers_503_after_the_configured_attempts_and_nothing_is_written(
    local_api: Api, company: Tenant, outage: Outage
) -> None:
    local_api.get("/v2/bookings", company.v2)  # the key is cached: only the booking's own calls are throttled
    with receiver([400] * 10, reply=THROTTLED, content_type="application/x-amz-json-1.0") as throttled:
        outage(f"http://127.0.0.1:{throttled.port}", attempts=2)
        started = time.monotonic()
        reply = local_api.post("/v2/bookings", BOOKING, company.v2)
        elapsed = time.monotonic() - started
    _assert_unavailable(reply)
    assert elapsed < _budget()
    asked = [hit.headers["x-amz-target"] for hit in throttled.received]
    # The first call the booking makes (a read of what it books against, or its write), tried
    # twice and given up: nothing after it runs.
    assert len(asked) == 2 and len(set(asked)) == 1, asked
    outage(None)
    assert _bookings(local_api, company) == 0


def _sample(op: Operation, tenant: Tenant) -> tuple[str, Any, dict[str, str]]:
    path = re.sub(r"\{(\w+)\}", lambda m: str(tenant.id) if m.group(1) == "company_id" else "1", op.path)
    body = SAMPLE_BODIES.get(op.request.__name__, {}) if op.request else None
    headers = {
        Scheme.NONE: {},
        Scheme.PLATFORM: ROOT,
        Scheme.V1_BASKET: {**tenant.public, "Auth-Token": "expired-basket"},
        Scheme.V1_PUBLIC: tenant.public,
        Scheme.V1_ADMIN: tenant.admin,
        Scheme.V2: tenant.v2,
        Scheme.V2_PUBLIC: tenant.widget,
        Scheme.LEGACY: tenant.legacy,
    }[op.scheme]
    return path, body, headers


def test_every_route_answers_503_not_500_when_the_database_is_gone(
    local_api: Api, company: Tenant, outage: Outage
) -> None:
    importlib.import_module("app")  # every route registered
    outage(f"http://127.0.0.1:{free_port()}", attempts=1)
    unavailable = []
    for op in OPERATIONS:
        path, body, headers = _sample(op, company)
        reply = local_api.call(op.method, path, body, headers)
        assert reply.status < 500 or reply.status == 503, f"{op.method} {path}: {reply.status} {reply.body}"
        if reply.status == 503:
            assert reply.headers["Retry-After"] == str(get_settings().unavailable_retry_after_seconds), path
            assert "unavailable" in str(reply.body), f"{op.method} {path}: {reply.body}"
            unavailable.append(path)
    # all but /openapi.json and the few refused before any read (a missing field, an unreadable basket token)
    assert len(unavailable) >= 0.85 * len(OPERATIONS)
