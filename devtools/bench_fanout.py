"""Benchmarks of the asynchronous half, on DynamoDB Local.

``sweep_cost``: 1,000 due holds among 100,000 items that are not due yet. The sweeper
reads the sparse expiry index (``xsk <= now``); the control finds the same due items
with a Scan and a filter, in the same run. Items read and seconds for each; the
sweeper's full pass (finding and expiring all 1,000, releasing their seats) too.

``fanout``: 1,000 events to 3 local receivers (3,000 signed deliveries) through the
webhook sender (delivery items put-if-absent, claimed attempts, logged results),
against a plain loop of 3,000 signed POSTs in the same run.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from chalicelib.services.messaging.fanout_wiring import WEBHOOK_BATCH_SIZE
from devtools.bench import Result
from devtools.ddb_local import THREAD_GROUP_NAMES, DynamoDBLocal, cpu_seconds_by_thread_group, free_port

DUE = 1_000
NOT_DUE = 100_000
TARGET_RATIO = 0.5  # issue 15: the sender at half the rate of a plain loop of signed POSTs, in one run
EVENTS = 1_000
RECEIVERS = 3
WARM_UP = 100  # events through both before the measured ones
ROUND = 100  # events per round; the sender and the control alternate


def _environment(server: DynamoDBLocal, table: str) -> Any:
    import boto3
    from botocore.config import Config

    os.environ.update(
        TABLE_NAME=table,
        DYNAMODB_ENDPOINT=server.endpoint,
        AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        AWS_DEFAULT_REGION="us-east-1",
        STAGE="local",
    )
    from chalicelib.settings import reset_settings
    from chalicelib.store import db, schema

    reset_settings()
    db._bound_to = None
    client = boto3.client(
        "dynamodb", endpoint_url=server.endpoint, region_name="us-east-1", config=Config(max_pool_connections=32)
    )
    schema.create_table_if_absent(client, table)
    return client


def _fill_not_due(client: Any, table: str, due_at: float) -> None:
    """100,000 items in the expiry index, due a day after the sweep's "now" (batch writes, 8 threads)."""
    from chalicelib.store import db, keys

    later = db.iso_epoch(due_at + 86_400)

    def batch(start: int) -> None:
        requests = []
        for n in range(start, min(start + 25, NOT_DUE)):
            pk = keys.hold_pk(f"filler-{n}")
            item = {
                "pk": {"S": pk},
                "sk": {"S": keys.HOLD_SK},
                "kind": {"S": "hold"},
                "xpk": {"S": keys.expiry_partition(pk)},
                "xsk": {"S": f"{later}#{pk}"},
            }
            requests.append({"PutRequest": {"Item": item}})
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(batch, range(0, NOT_DUE, 25)))


def _scan_for_due(client: Any, table: str, due_by: str) -> tuple[int, int, float]:
    """The control: a Scan with a filter over the whole table (items read, items found, seconds)."""
    started = time.perf_counter()
    read = found = 0
    for page in client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="xsk <= :due",
        ExpressionAttributeValues={":due": {"S": due_by}},
    ):
        read += page["ScannedCount"]
        found += page["Count"]
    return read, found, time.perf_counter() - started


def _index_for_due(client: Any, table: str, due_by: str) -> tuple[int, int, float]:
    """What the sweeper reads: a Query per expiry partition, ``xsk <= now`` (items read, found, seconds)."""
    from chalicelib.store import keys, schema

    started = time.perf_counter()
    read = found = 0
    for partition in keys.expiry_partitions():
        for page in client.get_paginator("query").paginate(
            TableName=table,
            IndexName=schema.EXPIRY_INDEX,
            KeyConditionExpression="xpk = :p AND xsk <= :due",
            ExpressionAttributeValues={":p": {"S": partition}, ":due": {"S": due_by}},
        ):
            read += page["ScannedCount"]
            found += page["Count"]
    return read, found, time.perf_counter() - started


def sweep_cost(_runs: int) -> Result:
    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        table = "bench-sweep"
        client = _environment(server, table)
        from chalicelib.services.identity import companies
        from chalicelib.services.selling import bookings, capacity, holds, sweeper
        from chalicelib.services.selling.bookings import NewBooking
        from chalicelib.store import db

        company = int(
            companies.create_company("Bench", "bench@example.com", "correct horse battery").company.company_id
        )
        event = {"start": "2031-01-10T10:00:00+00:00", "end": "2031-01-10T11:00:00+00:00", "what": "Bench"}
        owner = bookings.create(
            company, NewBooking(graph="group_owner", event=event, settings={"max_seats": DUE, "capacity_shards": 8})
        )
        cap = owner.capacity_id or ""
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _i: holds.place(company, cap, 8, 1, 60, {}, owner.booking_id), range(DUE)))
        now = time.time() + 120  # every hold is due then
        started = time.perf_counter()
        _fill_not_due(client, table, now)
        fill_seconds = time.perf_counter() - started
        due_by = f"{db.iso_epoch(now)}#~"
        scan_read, scan_found, scan_seconds = _scan_for_due(client, table, due_by)
        index_read, index_found, index_seconds = _index_for_due(client, table, due_by)
        started = time.perf_counter()
        report = sweeper.sweep(now=now, budget_seconds=600)
        sweep_seconds = time.perf_counter() - started
        freed = capacity.read(cap, 8)
    finally:
        server.stop()
    ok = report.applied == DUE and freed.held == 0 and index_found == scan_found == DUE
    data = {
        "due": DUE,
        "not_due": NOT_DUE,
        "fill_seconds": round(fill_seconds, 1),
        "scan": {"items_read": scan_read, "found": scan_found, "seconds": round(scan_seconds, 2)},
        "index": {"items_read": index_read, "found": index_found, "seconds": round(index_seconds, 2)},
        "sweep": {"seen": report.seen, "applied": report.applied, "seconds": round(sweep_seconds, 2)},
        "items_read_ratio_scan_to_index": round(scan_read / max(1, index_read), 1),
        "seconds_ratio_scan_to_index": round(scan_seconds / max(1e-9, index_seconds), 1),
    }
    summary = (
        f"find {DUE} due among {NOT_DUE:,}: expiry index read {index_read:,} items in {index_seconds:.2f} s, "
        f"Scan read {scan_read:,} in {scan_seconds:.2f} s (items x{data['items_read_ratio_scan_to_index']}, "
        f"time x{data['seconds_ratio_scan_to_index']}); full sweep applied {report.applied} in {sweep_seconds:.1f} s"
    )
    return Result(summary=summary, data=data, ok=ok)


def fanout(_runs: int) -> Result:
    from tests.receivers import receiver

    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        _environment(server, "bench-fanout")
        from chalicelib.domain import webhooks as rules
        from chalicelib.services.identity import companies
        from chalicelib.services.messaging import delivery, fanout, webhooks
        from chalicelib.store import db
        from devtools.local_queues import FanoutState, local_transport

        scratch = tempfile.TemporaryDirectory(prefix="bench-fanout-")
        transport, queues = local_transport(FanoutState(Path(scratch.name) / "fanout.sqlite3"))
        fanout.use_transport(transport)
        company = int(
            companies.create_company("Bench", "bench@example.com", "correct horse battery").company.company_id
        )
        with receiver() as a, receiver() as b, receiver() as c:
            hooks = [webhooks.create(company, r.url, ["booking.created"], True) for r in (a, b, c)]
            events = [
                {
                    "id": str(uuid.uuid4()),
                    "type": "booking.created",
                    "company_id": company,
                    "subject_id": str(uuid.uuid4()),
                    "occurred_at": "2031-01-01T00:00:00Z",
                    "data": {"id": str(n), "state": "confirmed", "graph": "instant"},
                }
                for n in range(WARM_UP + EVENTS)
            ]
            warm_up, events = events[:WARM_UP], events[WARM_UP:]

            def received() -> int:
                return len(a.received) + len(b.received) + len(c.received)

            calls: Counter[str] = Counter()  # DynamoDB calls the sender makes, by operation
            waited = [0.0]  # seconds the sender spent in DynamoDB calls (summed over its threads)
            started_call = threading.local()
            lock = threading.Lock()

            def count(model: Any, **_kwargs: Any) -> None:
                with lock:
                    calls[model.name] += 1
                started_call.at = time.perf_counter()

            def timed(**_kwargs: Any) -> None:
                with lock:
                    waited[0] += time.perf_counter() - started_call.at

            db.low_level_client().meta.events.register("before-call.dynamodb", count)
            db.low_level_client().meta.events.register("after-call.dynamodb", timed)

            def send(chunk: list[dict[str, Any]]) -> tuple[float, int]:
                """The sender on these events' queue messages, in batches as deployed (app.py's event source)."""
                for event in chunk:
                    transport.publish(event)
                started, failed = time.perf_counter(), 0
                while batch := queues["webhooks"].receive(WEBHOOK_BATCH_SIZE):
                    result = delivery.handle_messages([{"messageId": m.message_id, "body": m.body} for m in batch])
                    failed += len(result["batchItemFailures"])
                    queues["webhooks"].delete_batch(batch)  # as Lambda does after a batch (DeleteMessageBatch)
                return time.perf_counter() - started, failed

            def plain_loop(chunk: list[dict[str, Any]]) -> float:
                """The control: the same POSTs, signed, one after another, no bookkeeping."""
                started = time.perf_counter()
                for event in chunk:
                    body = json.dumps({"id": event["id"], "type": event["type"], "data": event["data"]}).encode()
                    for hook in hooks:
                        stamp = int(time.time())
                        request = urllib.request.Request(
                            hook.url,
                            data=body,
                            method="POST",
                            headers={
                                "Content-Type": "application/json",
                                "webhook-id": str(event["id"]),
                                "webhook-timestamp": str(stamp),
                                "webhook-signature": rules.sign(hook.secret, str(event["id"]), stamp, body),
                            },
                        )
                        with urllib.request.urlopen(request, timeout=10) as response:
                            response.read()
                return time.perf_counter() - started

            # Warm-up, not counted: DynamoDB Local's JIT makes its first few hundred calls slow.
            send(warm_up)
            plain_loop(warm_up)
            calls.clear()
            waited[0] = 0.0
            # Interleaved rounds, so that a change in the shared machine's load falls on both alike.
            ours = plain = 0.0
            failed = delivered = 0
            # DynamoDB Local's CPU during the sender's rounds, by what its threads do (not timed).
            jvm = dict.fromkeys(THREAD_GROUP_NAMES, 0.0)
            assert server.pid is not None
            for start in range(0, EVENTS, ROUND):
                before = received()
                jvm_before = cpu_seconds_by_thread_group(server.pid)
                seconds, round_failed = send(events[start : start + ROUND])
                jvm_after = cpu_seconds_by_thread_group(server.pid)
                jvm = {group: jvm[group] + jvm_after[group] - jvm_before[group] for group in jvm}
                ours, failed, delivered = ours + seconds, failed + round_failed, delivered + received() - before
                plain += plain_loop(events[start : start + ROUND])
        fanout.use_transport(None)
        scratch.cleanup()
    finally:
        server.stop()
    total = EVENTS * RECEIVERS
    ours_rate, plain_rate = delivered / ours, total / plain
    data = {
        "events": EVENTS,
        "receivers": RECEIVERS,
        "delivered": delivered,
        "failed_messages": failed,
        "sender_seconds": round(ours, 2),
        "sender_deliveries_per_s": round(ours_rate, 1),
        "plain_loop_seconds": round(plain, 2),
        "plain_deliveries_per_s": round(plain_rate, 1),
        "ratio": round(ours_rate / plain_rate, 2),
        "dynamodb_calls": dict(calls),
        "dynamodb_calls_per_delivery": round(sum(calls.values()) / max(1, delivered), 3),
        "dynamodb_call_seconds": round(waited[0], 2),  # summed over threads: overlapping calls count twice
        # DynamoDB Local's own CPU (its JVM's threads) a delivery during the sender's rounds, ms:
        # sqlite is its one SQLite thread (serial), http its request threads, jit its compilers.
        "dynamodb_local_cpu_ms_per_delivery": {g: round(s * 1000 / max(1, delivered), 2) for g, s in jvm.items()},
    }
    summary = (
        f"{EVENTS} events x {RECEIVERS} receivers: sender {ours_rate:.0f} deliveries/s ({ours:.1f} s, "
        f"{delivered} delivered), plain signed-POST loop {plain_rate:.0f}/s; ratio {data['ratio']:.2f}; "
        f"{data['dynamodb_calls_per_delivery']} DynamoDB calls a delivery {dict(calls)} taking "
        f"{waited[0]:.1f} s of the sender's {ours:.1f} s; DynamoDB Local CPU ms a delivery "
        f"{data['dynamodb_local_cpu_ms_per_delivery']}; target ratio {TARGET_RATIO}"
    )
    data["target_ratio"] = TARGET_RATIO
    complete = delivered == total and failed == 0
    return Result(summary=summary, data=data, ok=complete and ours_rate / plain_rate >= TARGET_RATIO)
