"""Flash sale: a 1,000-seat group, 4,000 one-seat requests from 16 threads.

The whole path: an API Gateway proxy event (chalice's LocalGateway builds it) into
the Chalice app in-process, against DynamoDB Local. The baseline, in the same run
and against the same server, is a raw boto3 ``transact_write_items`` loop doing
the same writes (conditional counter update, booking, log item, outbox item)
with no framework, no validation and no reads. Then the same with 8 shards.

Three of 4,000 requests are refused once the seats are gone, and refusals cost less than
bookings, so two more figures say what a booking costs: each side's pace until its last
seat sold (``sold_out_s``), and one booking at a time without contention, the app's
request against the raw transaction in alternating blocks (``per_seat``, medians).
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
PER_SEAT = 200  # one at a time, app and raw alternating in blocks
PER_SEAT_BLOCK = 10
PER_SEAT_WARM_UP = 10


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


Outcome = tuple[bool, float, float]  # sold, latency, seconds from the start to its answer


def _hammer(job: Callable[[int], tuple[bool, float]]) -> tuple[list[Outcome], float]:
    gate = threading.Barrier(THREADS)
    started = time.perf_counter()

    def worker(offset: int) -> list[Outcome]:
        gate.wait()
        done: list[Outcome] = []
        for i in range(offset, REQUESTS, THREADS):
            ok, latency = job(i)
            done.append((ok, latency, time.perf_counter() - started))  # outside the request's own timing
        return done

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = [r for chunk in pool.map(worker, range(THREADS)) for r in chunk]
    return results, time.perf_counter() - started


def _summary(results: list[Outcome], elapsed: float) -> dict[str, Any]:
    latencies = [latency * 1000 for _ok, latency, _at in results]
    sold = sum(1 for ok, _latency, _at in results if ok)
    sold_out = max((at for ok, _latency, at in results if ok), default=elapsed)
    return {
        "seats_sold": sold,
        "requests": len(results),
        "seconds": round(elapsed, 2),
        "bookings_per_s": round(sold / elapsed, 1),
        "requests_per_s": round(len(results) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        # The sale's pace while seats were left: the refusals after the last seat do not count.
        "sold_out_s": round(sold_out, 2),
        "bookings_per_s_until_sold_out": round(sold / sold_out, 1),
    }


def _group(gateway: Any, headers: dict[str, str], seats: int, shards: int) -> tuple[str, bytes]:
    """A new group_owner through the app: its id, and the body of a one-seat booking of it."""
    owner = gateway.handle_request(
        "POST",
        "/v2/bookings",
        headers,
        json.dumps(
            {
                "graph": "group_owner",
                "settings": {"max_seats": seats, "capacity_shards": shards},
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
    return owner_id, seat


def _through_the_app(gateway: Any, headers: dict[str, str], shards: int) -> dict[str, Any]:
    owner_id, seat = _group(gateway, headers, SEATS, shards)
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


def _raw_capacity(client: Any, table: str, seats: int) -> dict[str, Any]:
    capacity_key = {"pk": {"S": f"CAP#raw-{uuid.uuid4()}"}, "sk": {"S": "SHARD#00"}}
    client.put_item(
        TableName=table,
        Item={**capacity_key, "capacity": {"N": str(seats)}, "available": {"N": str(seats)}, "booked": {"N": "0"}},
    )
    return capacity_key


def _raw_items(table: str, capacity_key: dict[str, Any]) -> list[dict[str, Any]]:
    """The raw loop's transaction: the same writes as a seat booking, bare keys, no reads."""
    booking_pk = f"BK#{uuid.uuid4()}"
    return [
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


def _raw_loop(client: Any, table: str) -> dict[str, Any]:
    capacity_key = _raw_capacity(client, table, SEATS)

    def book(_i: int) -> tuple[bool, float]:
        started = time.perf_counter()
        items = _raw_items(table, capacity_key)
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


def _per_seat(gateway: Any, headers: dict[str, str], client: Any, table: str) -> dict[str, Any]:
    """One booking sold at a time, no contention: the app's request against the raw transaction,
    alternating blocks of PER_SEAT_BLOCK so that load from outside falls on both alike."""
    _owner_id, seat = _group(gateway, headers, PER_SEAT * 2, 1)
    capacity_key = _raw_capacity(client, table, PER_SEAT * 2)
    app_ms: list[float] = []
    raw_ms: list[float] = []
    for _ in range(PER_SEAT_WARM_UP):
        gateway.handle_request("POST", "/v2/bookings", headers, seat)
        client.transact_write_items(TransactItems=_raw_items(table, capacity_key))
    calls: dict[str, int] = {}

    def count(event_name: str, **_kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        calls[operation] = calls.get(operation, 0) + 1

    events = _app_dynamodb_events()
    for _block in range(PER_SEAT // PER_SEAT_BLOCK):
        events.register("before-call.dynamodb.*", count)
        for _ in range(PER_SEAT_BLOCK):
            started = time.perf_counter()
            reply = gateway.handle_request("POST", "/v2/bookings", headers, seat)
            app_ms.append((time.perf_counter() - started) * 1000)
            if reply["statusCode"] != 201:
                raise RuntimeError(f"a seat booking was refused: {reply['body']}")
        events.unregister("before-call.dynamodb.*", count)
        for _ in range(PER_SEAT_BLOCK):
            started = time.perf_counter()
            client.transact_write_items(TransactItems=_raw_items(table, capacity_key))
            raw_ms.append((time.perf_counter() - started) * 1000)
    app, raw = statistics.median(app_ms), statistics.median(raw_ms)
    return {
        "bookings": PER_SEAT,
        "app_median_ms": round(app, 1),
        "raw_median_ms": round(raw, 1),
        "ratio": round(raw / app, 3),
        # The app's DynamoDB calls a booking (botocore's before-call events); the raw loop makes 1.
        "app_calls_per_booking": {name: round(n / PER_SEAT, 2) for name, n in sorted(calls.items())},
    }


def _app_dynamodb_events() -> Any:
    """The event hooks of the botocore client the app's table is bound to (PynamoDB's)."""
    from chalicelib.store import db
    from chalicelib.store.models import Item

    db.ensure_bound()
    return Item._get_connection().connection.client.meta.events


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
        per_seat = _per_seat(gateway, headers, client, table)
    finally:
        server.stop()
    ratio = one["bookings_per_s"] / raw["bookings_per_s"]
    selling_ratio = one["bookings_per_s_until_sold_out"] / raw["bookings_per_s_until_sold_out"]
    shard_ratio = eight["bookings_per_s"] / one["bookings_per_s"]
    ok = ratio >= TARGET_RATIO and one["oversold"] == 0 and eight["oversold"] == 0
    summary = (
        f"1 shard: {one['bookings_per_s']} bookings/s, p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms, "
        f"sold {one['seats_sold']}, oversold {one['oversold']}; raw boto3 loop {raw['bookings_per_s']} bookings/s; "
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO}); until sold out: app {one['sold_out_s']} s, "
        f"raw {raw['sold_out_s']} s, ratio {selling_ratio:.2f}; one at a time: app {per_seat['app_median_ms']} ms, "
        f"raw {per_seat['raw_median_ms']} ms a booking, ratio {per_seat['ratio']:.2f}, "
        f"the app's calls a booking {per_seat['app_calls_per_booking']}; "
        f"8 shards: {eight['bookings_per_s']} bookings/s, oversold {eight['oversold']}, "
        f"shards/no-shards {shard_ratio:.2f}"
    )
    return Result(
        summary=summary,
        data={
            "one_shard": one,
            "eight_shards": eight,
            "raw_boto3": raw,
            "ratio_to_raw": round(ratio, 3),
            "ratio_to_raw_until_sold_out": round(selling_ratio, 3),
            "per_seat": per_seat,
            "shards_ratio": round(shard_ratio, 3),
            "target_ratio": TARGET_RATIO,
            "seats": SEATS,
            "requests": REQUESTS,
            "threads": THREADS,
        },
        ok=ok,
    )
