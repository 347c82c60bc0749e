"""Time as a capacity: availability reads and booking throughput on resources.

Everything goes through the Chalice app in-process (chalice's LocalGateway builds the
API Gateway event) against DynamoDB Local, as ``flash_sale`` does.

``availability``: resources with Monday-Friday 09:00-17:00 hours, about 60% of their
working hours booked in one-hour bookings; ``POST /v2/availability`` for 1 resource x 31
days, 10 resources x 31 days (round robin) and 50 resources x 7 days. Per request:
p50/p99 ms and the DynamoDB calls it made (counted on PynamoDB's connection). The
baseline, in the same run and against the same server, is the bare boto3 Query of the
same claim-day items (one per resource, one after another), with no framework.

``time_booking``: ``POST /v2/bookings`` with ``resource_id`` from 16 threads, hours chosen
at random so that many requests overlap: on one resource, and across 50. Every booking
that succeeded is checked against the others of its resource: double bookings are
counted (they must be 0).
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from devtools.bench import Result
from devtools.ddb_local import DynamoDBLocal, free_port

THREADS = 16
LONDON = ZoneInfo("Europe/London")
HOURS = [
    {"allow_day_and_time": {"day": day, "start": 9, "end": 17}}
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
]
BUSY_SHARE = 0.6  # of working hours booked
TARGET_RATIO = 2.0  # availability p50 within 2x of the bare Query's p50
CASES = (
    ("1 resource x 31 days", 1, 31, "roundrobin_random"),
    ("10 resources x 31 days", 10, 31, "roundrobin_random"),
    ("50 resources x 7 days", 50, 7, "roundrobin_random"),
)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _Calls:
    """DynamoDB operations made through PynamoDB, by name (the app's reads per request)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def installed(self) -> Any:
        """A patch (a context manager) that counts every call while it is active."""
        from unittest import mock

        from pynamodb.connection.base import Connection

        original = Connection._make_api_call
        calls = self

        def counted(self: Any, operation_name: str, operation_kwargs: Any) -> Any:
            with calls.lock:
                calls.counts[operation_name] += 1
            return original(self, operation_name, operation_kwargs)

        return mock.patch.object(Connection, "_make_api_call", counted)

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.counts)


@contextmanager
def _stack() -> Iterator[tuple[Any, Any, dict[str, str], str, int]]:
    """DynamoDB Local, the table, a company, and the app behind a thread-safe LocalGateway."""
    import boto3
    from botocore.config import Config

    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        table = "bench-time"
        os.environ.update(
            TABLE_NAME=table,
            DYNAMODB_ENDPOINT=server.endpoint,
            AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            AWS_DEFAULT_REGION="us-east-1",
            STAGE="local",
        )
        from chalice.config import Config as ChaliceConfig
        from chalice.local import CustomLocalChalice, LocalChalice, LocalGateway

        from app import app
        from chalicelib.settings import reset_settings

        reset_settings()  # this server, not an earlier benchmark's (the models rebind on the next call)
        from chalicelib.services.identity import companies
        from chalicelib.store import schema

        client = boto3.client(
            "dynamodb",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            config=Config(max_pool_connections=THREADS * 2),
        )
        schema.create_table_if_absent(client, table)
        company = companies.create_company("Bench", "bench@example.com", "correct horse battery")
        if app.__class__ is not CustomLocalChalice:
            CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
            app.__class__ = CustomLocalChalice
        gateway = LocalGateway(app, ChaliceConfig(chalice_stage="local"))
        token = base64.b64encode(f":{company.keys.api_key}".encode()).decode()
        headers = {"authorization": f"Basic {token}", "content-type": "application/json", "host": "127.0.0.1"}
        yield gateway, client, headers, table, int(company.company.company_id)
    finally:
        server.stop()


def _call(gateway: Any, headers: dict[str, str], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    reply = gateway.handle_request(method, path, headers, json.dumps(body).encode() if body is not None else b"")
    return int(reply["statusCode"]), json.loads(reply["body"]) if reply["body"] else None


def _resources(gateway: Any, headers: dict[str, str], count: int) -> list[str]:
    ids = []
    for n in range(count):
        status, body = _call(
            gateway,
            headers,
            "POST",
            "/v2/resources",
            {"name": f"Resource {n}", "timezone": "Europe/London", "availability_constraints": HOURS},
        )
        assert status == 201, body
        ids.append(str(body["data"]["id"]))
    return ids


def _first_monday() -> date:
    today = datetime.now(LONDON).date()
    return today + timedelta(days=7 - today.weekday())


def _workdays(first: date, days: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(days) if (first + timedelta(days=n)).weekday() < 5]


def _book(gateway: Any, headers: dict[str, str], resource_id: str, start: datetime, minutes: int = 60) -> Any:
    end = start + timedelta(minutes=minutes)
    body = {
        "graph": "instant",
        "resource_id": resource_id,
        "event": {"start": start.isoformat(), "end": end.isoformat(), "what": "Appointment"},
        "customer": {"name": "Bench", "email": "bench@example.com"},
    }
    return _call(gateway, headers, "POST", "/v2/bookings", body)


def _fill(gateway: Any, headers: dict[str, str], ids: list[str], first: date, days: int, rng: random.Random) -> int:
    """About BUSY_SHARE of each working day booked, in one-hour bookings on the hour."""
    jobs: list[tuple[str, datetime]] = []
    for resource_id in ids:
        for day in _workdays(first, days):
            for hour in rng.sample(range(9, 17), round(8 * BUSY_SHARE)):
                jobs.append((resource_id, datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)))
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda job: _book(gateway, headers, *job)[0], jobs))
    assert all(status == 201 for status in statuses), Counter(statuses)
    return len(jobs)


def _bare_query(client: Any, table: str, ids: list[str], first: date, last: date) -> float:
    """Seconds for the bare Query of each resource's claim days in the window."""
    started = time.perf_counter()
    for resource_id in ids:
        pages = client.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": {"S": f"RES#{resource_id}"},
                ":a": {"S": f"DAY#{first.isoformat()}"},
                ":b": {"S": f"DAY#{last.isoformat()}"},
            },
        )
        for _page in pages:
            pass
    return time.perf_counter() - started


def availability(runs: int) -> Result:
    rng = random.Random(11)
    calls = _Calls()
    rows: dict[str, Any] = {}
    repeats = max(21, runs * 3)
    with _stack() as (gateway, client, headers, table, _company_id), calls.installed():
        ids = _resources(gateway, headers, 50)
        first = _first_monday()
        booked = _fill(gateway, headers, ids[:10], first, 31, rng)
        booked += _fill(gateway, headers, ids[10:], first, 7, rng)
        for name, count, days, mode in CASES:
            start = datetime(first.year, first.month, first.day, tzinfo=LONDON)
            body = {
                "mode": mode,
                "resources": ids[:count],
                "length": "1 hour",
                "from": start.isoformat(),
                "to": (start + timedelta(days=days)).isoformat(),
                "output_timezone": "Europe/London",
            }
            app_ms: list[float] = []
            reads: list[Counter[str]] = []
            slots = 0
            for _ in range(repeats):
                before = calls.snapshot()
                began = time.perf_counter()
                status, reply = _call(gateway, headers, "POST", "/v2/availability", body)
                app_ms.append((time.perf_counter() - began) * 1000)
                reads.append(calls.snapshot() - before)
                assert status == 200, reply
                slots = len(reply["data"])
            utc_first = start.astimezone(UTC).date() - timedelta(days=1)
            utc_last = (start + timedelta(days=days)).astimezone(UTC).date() + timedelta(days=1)
            base_ms = [_bare_query(client, table, ids[:count], utc_first, utc_last) * 1000 for _ in range(repeats)]
            per_request = reads[-1]
            rows[name] = {
                "p50_ms": round(statistics.median(app_ms), 1),
                "p99_ms": round(_percentile(app_ms, 0.99), 1),
                "dynamodb_calls_per_request": dict(per_request),
                "queries_per_request": per_request.get("Query", 0),
                "scans": sum(r.get("Scan", 0) for r in reads),
                "slots": slots,
                "bare_query_p50_ms": round(statistics.median(base_ms), 1),
                "bare_query_p99_ms": round(_percentile(base_ms, 0.99), 1),
                "ratio_p50": round(statistics.median(app_ms) / statistics.median(base_ms), 2),
            }
    ok = all(row["ratio_p50"] <= TARGET_RATIO and row["scans"] == 0 for row in rows.values())
    summary = "; ".join(
        f"{name}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, {row['queries_per_request']} Query "
        f"(+{sum(row['dynamodb_calls_per_request'].values()) - row['queries_per_request']} other calls), "
        f"bare Query p50 {row['bare_query_p50_ms']} ms, ratio {row['ratio_p50']}"
        for name, row in rows.items()
    )
    data = {"bookings_made": booked, "busy_share": BUSY_SHARE, "repeats": repeats, "target_ratio": TARGET_RATIO}
    return Result(summary=summary + f" (target <= {TARGET_RATIO})", data=data | {"cases": rows}, ok=ok)


def _race(gateway: Any, headers: dict[str, str], ids: list[str], requests: int, rng: random.Random) -> dict[str, Any]:
    first = _first_monday() + timedelta(days=28)
    starts = [
        datetime(day.year, day.month, day.day, 9, tzinfo=LONDON) + timedelta(minutes=30 * n)
        for day in _workdays(first, 5)
        for n in range(15)
    ]
    jobs = [(rng.choice(ids), rng.choice(starts)) for _ in range(requests)]
    won: list[tuple[str, datetime]] = []
    refusals: Counter[str] = Counter()
    lock = threading.Lock()
    gate = threading.Barrier(THREADS)

    def worker(offset: int) -> list[float]:
        gate.wait()
        latencies = []
        for resource_id, start in jobs[offset::THREADS]:
            began = time.perf_counter()
            status, body = _book(gateway, headers, resource_id, start)
            latencies.append((time.perf_counter() - began) * 1000)
            with lock:
                if status == 201:
                    won.append((str(body["data"]["resource"]["id"]), start))
                else:
                    refusals[body["error"]["code"]] += 1
        return latencies

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        latencies = [ms for chunk in pool.map(worker, range(THREADS)) for ms in chunk]
    elapsed = time.perf_counter() - began
    return {
        "requests": requests,
        "booked": len(won),
        "refusals": dict(refusals),
        "double_bookings": _double_bookings(won),
        "seconds": round(elapsed, 2),
        "bookings_per_s": round(len(won) / elapsed, 1),
        "requests_per_s": round(requests / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
    }


def _double_bookings(won: list[tuple[str, datetime]]) -> int:
    """Pairs of successful one-hour bookings of one resource that overlap."""
    by_resource: dict[str, list[datetime]] = {}
    for resource_id, start in won:
        by_resource.setdefault(resource_id, []).append(start)
    overlapping = 0
    for starts in by_resource.values():
        ordered = sorted(starts)
        overlapping += sum(1 for a, b in pairwise(ordered) if b < a + timedelta(hours=1))
    return overlapping


def time_booking(_runs: int) -> Result:
    rng = random.Random(7)
    with _stack() as (gateway, _client, headers, _table, _company_id):
        ids = _resources(gateway, headers, 50)
        one = _race(gateway, headers, ids[:1], 400, rng)
        fifty = _race(gateway, headers, ids, 2000, rng)
    ok = one["double_bookings"] == 0 and fifty["double_bookings"] == 0
    summary = (
        f"1 resource: {one['booked']} of {one['requests']} booked, {one['bookings_per_s']} bookings/s "
        f"({one['requests_per_s']} requests/s), p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms, "
        f"double bookings {one['double_bookings']}; 50 resources: {fifty['booked']} of {fifty['requests']} booked, "
        f"{fifty['bookings_per_s']} bookings/s ({fifty['requests_per_s']} requests/s), p50 {fifty['p50_ms']} ms, "
        f"p99 {fifty['p99_ms']} ms, double bookings {fifty['double_bookings']}"
    )
    return Result(summary=summary, data={"one_resource": one, "fifty_resources": fifty}, ok=ok)
