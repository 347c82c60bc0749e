"""Flash sale: a 1,000-seat group, 4,000 one-seat requests from 16 threads.

The whole path: an API Gateway proxy event (chalice's LocalGateway builds it) into
the Chalice app in-process, against DynamoDB Local. The baseline, in the same run
and against the same server, is a raw boto3 ``transact_write_items`` loop doing
the same writes (conditional counter update, booking, log item, outbox item)
with no framework, no validation and no reads. Then the same with 8 shards.
"""

from __future__ import annotations

import base64
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devtools.bench import Result
from devtools.ddb_local import DynamoDBLocal, free_port

SEATS = 1000
REQUESTS = 4000
THREADS = 16
TARGET_RATIO = 0.9  # issue 15, section 3 (was 0.6)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _hammer(job: Callable[[int], tuple[bool, float]]) -> tuple[list[tuple[bool, float]], float]:
    gate = threading.Barrier(THREADS)

    def worker(offset: int) -> list[tuple[bool, float]]:
        gate.wait()
        return [job(i) for i in range(offset, REQUESTS, THREADS)]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = [r for chunk in pool.map(worker, range(THREADS)) for r in chunk]
    return results, time.perf_counter() - started


def _summary(results: list[tuple[bool, float]], elapsed: float) -> dict[str, Any]:
    latencies = [latency * 1000 for _ok, latency in results]
    sold = sum(1 for ok, _latency in results if ok)
    return {
        "seats_sold": sold,
        "requests": len(results),
        "seconds": round(elapsed, 2),
        "bookings_per_s": round(sold / elapsed, 1),
        "requests_per_s": round(len(results) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
    }


def _through_the_app(gateway: Any, headers: dict[str, str], shards: int) -> dict[str, Any]:
    owner = gateway.handle_request(
        "POST",
        "/v2/bookings",
        headers,
        json.dumps(
            {
                "graph": "group_owner",
                "settings": {"max_seats": SEATS, "capacity_shards": shards},
                "event": {"start": "2031-06-01T19:00:00Z", "end": "2031-06-01T22:00:00Z", "what": "Flash sale"},
            }
        ).encode(),
    )
    owner_id = json.loads(owner["body"])["data"]["id"]
    seat = json.dumps(
        {
            "graph": "group_customer",
            "related": {"owner_booking_id": owner_id},
            "customer": {"name": "F", "email": "f@x.io"},
        }
    ).encode()
    refusals: dict[str, int] = {}
    lock = threading.Lock()

    def book(_i: int) -> tuple[bool, float]:
        started = time.perf_counter()
        reply = gateway.handle_request("POST", "/v2/bookings", headers, seat)
        latency = time.perf_counter() - started
        if reply["statusCode"] != 201:
            code = json.loads(reply["body"])["error"]["code"]
            with lock:
                refusals[code] = refusals.get(code, 0) + 1
        return reply["statusCode"] == 201, latency

    results, elapsed = _hammer(book)
    group = gateway.handle_request("GET", f"/v2/bookings/groups/{owner_id}", headers, b"")
    current = json.loads(group["body"])["data"]["attributes"]["group_booking"]["current_seats"]
    summary = _summary(results, elapsed)
    return summary | {"current_seats": current, "oversold": max(0, current - SEATS), "refusals": refusals}


def _raw_loop(client: Any, table: str) -> dict[str, Any]:
    capacity_key = {"pk": {"S": f"CAP#raw-{uuid.uuid4()}"}, "sk": {"S": "SHARD#00"}}
    client.put_item(
        TableName=table,
        Item={**capacity_key, "capacity": {"N": str(SEATS)}, "available": {"N": str(SEATS)}, "booked": {"N": "0"}},
    )

    def book(_i: int) -> tuple[bool, float]:
        started = time.perf_counter()
        booking_pk = f"BK#{uuid.uuid4()}"
        items = [
            {
                "Update": {
                    "TableName": table,
                    "Key": capacity_key,
                    "UpdateExpression": "SET available = available - :n, booked = booked + :n",
                    "ConditionExpression": "available >= :n",
                    "ExpressionAttributeValues": {":n": {"N": "1"}},
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": booking_pk}, "sk": {"S": "BOOKING"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": table, "Item": {"pk": {"S": booking_pk}, "sk": {"S": "LOG#1"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"OUTBOX#{uuid.uuid4()}"}, "sk": {"S": "EVENT"}}}},
        ]
        for attempt in range(8):
            try:
                client.transact_write_items(TransactItems=items)
                return True, time.perf_counter() - started
            except client.exceptions.TransactionCanceledException as error:
                codes = {r.get("Code") for r in error.response.get("CancellationReasons", [])}
                if "ConditionalCheckFailed" in codes:
                    return False, time.perf_counter() - started
                time.sleep(0.005 * 2**attempt)
        return False, time.perf_counter() - started

    results, elapsed = _hammer(book)
    return _summary(results, elapsed)


def local_app(server: DynamoDBLocal, table: str) -> tuple[Any, Any, Any]:
    """The Chalice app in-process on ``server``: (LocalGateway, boto3 client, a new company)."""
    from chalice.config import Config as ChaliceConfig
    from chalice.local import CustomLocalChalice, LocalChalice, LocalGateway

    from app import app
    from chalicelib.services.identity import companies
    from devtools.bench_fanout import _environment

    client = _environment(server, table)  # settings pointed at it, the table created
    company = companies.create_company("Bench", "bench@example.com", "correct horse battery")
    # As `chalice local` does: a thread-local current_request, so several threads can share the app.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    gateway = LocalGateway(app, ChaliceConfig(chalice_stage="local"))
    return gateway, client, company


def flash_sale(_runs: int) -> Result:
    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        gateway, client, company = local_app(server, "bench-flash-sale")
        table = "bench-flash-sale"
        token = base64.b64encode(f":{company.keys.api_key}".encode()).decode()
        headers = {"authorization": f"Basic {token}", "content-type": "application/json", "host": "127.0.0.1"}

        raw = _raw_loop(client, table)
        one = _through_the_app(gateway, headers, shards=1)
        eight = _through_the_app(gateway, headers, shards=8)
    finally:
        server.stop()
    ratio = one["bookings_per_s"] / raw["bookings_per_s"]
    shard_ratio = eight["bookings_per_s"] / one["bookings_per_s"]
    ok = ratio >= TARGET_RATIO and one["oversold"] == 0 and eight["oversold"] == 0
    summary = (
        f"1 shard: {one['bookings_per_s']} bookings/s, p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms, "
        f"sold {one['seats_sold']}, oversold {one['oversold']}; raw boto3 loop {raw['bookings_per_s']} bookings/s; "
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO}); 8 shards: {eight['bookings_per_s']} bookings/s, "
        f"oversold {eight['oversold']}, shards/no-shards {shard_ratio:.2f}"
    )
    return Result(
        summary=summary,
        data={
            "one_shard": one,
            "eight_shards": eight,
            "raw_boto3": raw,
            "ratio_to_raw": round(ratio, 3),
            "shards_ratio": round(shard_ratio, 3),
            "target_ratio": TARGET_RATIO,
            "seats": SEATS,
            "requests": REQUESTS,
            "threads": THREADS,
        },
        ok=ok,
    )
