"""Write and read accounting of a sale (issue 15): which partition keys take the load.

DynamoDB Local has no partition limits, so no timing here can show a hot key; this
counts instead. Two sales run through the API (chalice's LocalGateway, in-process)
against DynamoDB Local:

* a seat sale: a 1,000-seat ``group_owner`` on 10 capacity shards, 1,000 one-seat
  ``group_customer`` bookings;
* a basket on-sale: an event of 1,000 spaces on 20 shards, 1,000 bookers each adding
  one seat to a basket (a hold) and checking out (a new client each), each from its
  own client address (the public routes count requests per key and address).

The shard counts are the documented rule for 4,000 bookings/s (docs/performance.md): a
seat booking writes its shard once in a transaction (2 units), a basket booking twice
(the hold, then the checkout's convert: 4 units), and a partition takes 1,000 units/s,
so 4,000/s needs more than 8 and 16 shards; 10 and 20 leave a fifth spare.

Every item written comes from the table's stream (old and new images), so each write is
charged where DynamoDB charges it: the table's partition key and, for each index, the
index partition key the item leaves or enters. Units as DynamoDB bills them: 1 write unit
per started KB of the larger image, twice inside a transaction (a hook on the botocore
client marks which items were written by TransactWriteItems; a cancelled transaction is
charged 2 units per item); an index write is a plain write of the projected item (ALL:
the whole item), a key change there is a delete and a put. Reads: 1 read unit per
started 4 KB (a missing item the minimum), half for an eventually consistent read, per
partition read.

The asynchronous fan-out is the sale's too: after each sale its outbox events (from the
same stream) are published to the local queues and run through the webhook sender, in
batches as deployed, to ``WEBHOOKS`` subscriptions to ``booking.created`` (local
receivers), and the sender's writes and reads are charged the same way and added to the
sale's. The report
lists the 10 hottest keys with their share of the sale's units and the units/s they
imply at 4,000 bookings/s, against 1,000 write units/s (3,000 read units/s) a partition.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from devtools.bench import Result
from devtools.ddb_local import DynamoDBLocal, free_port

SEATS = 1000
SEAT_SHARDS = 10
BASKET_SHARDS = 20
THREADS = 8
RATE = 4000  # bookings/s the accounting is scaled to
WRITE_LIMIT = 1000  # write units/s one partition takes
READ_LIMIT = 3000  # read units/s one partition takes
INDEX_KEYS = {"gsi1": "gsi1pk", "gsi2": "gsi2pk", "expiry": "xpk"}
HASH_KEYS = {"pk", *INDEX_KEYS.values()}
TRANSACTION_FACTOR = 2
WEBHOOKS = 2  # subscriptions to booking.created the sale's events fan out to


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size, from the wire format: names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    if not value:
        return 1  # an empty value as the stream client parses it
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = len(str(inner).lstrip("-").replace(".", "").lstrip("0")) or 1
        return 1 + math.ceil(digits / 2)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + _value_size(v) for name, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(v).encode()) for v in inner)
    raise ValueError(f"unknown attribute type {kind}")


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


@dataclass
class Ledger:
    """What the botocore hook saw: transactional writes, cancelled transactions, reads."""

    recording: bool = False
    transactional: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused_units: Counter[str] = field(default_factory=Counter)
    read_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["accounting_params"] = params

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.recording:
            return
        params: dict[str, Any] = context.get("accounting_params") or {}
        name = model.name
        with self.lock:
            self.calls[name] += 1
            if name == "TransactWriteItems":
                self._transaction(params, parsed)
            elif name in ("GetItem", "Query", "BatchGetItem", "TransactGetItems"):
                self._read(name, params, parsed)

    def _transaction(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        entries = [next(iter(entry.values())) for entry in params.get("TransactItems", [])]
        failed = "Error" in parsed
        for entry in entries:
            key = entry.get("Key") or {n: entry["Item"][n] for n in ("pk", "sk")}
            if failed:
                self.refused_units[f"table {key['pk']['S']}"] += TRANSACTION_FACTOR
            else:
                self.transactional[(key["pk"]["S"], key["sk"]["S"])] += 1

    def _read(self, name: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        if "Error" in parsed:
            return
        consistent = bool(params.get("ConsistentRead"))
        if name == "GetItem":
            item = parsed.get("Item") or {}
            self.read_units[f"table {params['Key']['pk']['S']}"] += read_units(item_size(item), consistent)
        elif name == "Query":
            where = params.get("IndexName") or "table"
            partition = _query_partition(params)
            size = sum(item_size(item) for item in parsed.get("Items", []))
            self.read_units[f"{where} {partition}"] += read_units(size, consistent)
        elif name == "BatchGetItem":
            # Every key asked for is charged, found or not (a missing item costs the minimum).
            found = {(i["pk"]["S"], i["sk"]["S"]): i for items in parsed.get("Responses", {}).values() for i in items}
            for request in params.get("RequestItems", {}).values():
                consistent = bool(request.get("ConsistentRead"))
                for key in request.get("Keys", []):
                    item = found.get((key["pk"]["S"], key["sk"]["S"]), {})
                    self.read_units[f"table {key['pk']['S']}"] += read_units(item_size(item), consistent)
        else:
            for response in parsed.get("Responses", []):
                item = response.get("Item") or {}
                if item:
                    self.read_units[f"table {item['pk']['S']}"] += read_units(item_size(item), True) * 2


def _query_partition(params: dict[str, Any]) -> str:
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    for placeholder, value in re.findall(r"(#\w+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        if names.get(placeholder) in HASH_KEYS:
            return str(values[value]["S"])
    return "?"


class StreamTail:
    """Reads the table's stream from where it last stopped (DynamoDB Local serves it too)."""

    def __init__(self, streams: Any, arn: str) -> None:
        self.streams = streams
        self.arn = arn
        self.iterators: dict[str, str | None] = {}

    def drain(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self.iterators[shard_id]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records += page["Records"]
                next_iterator = page.get("NextShardIterator")
                if not page["Records"]:
                    self.iterators[shard_id] = next_iterator
                    break
                iterator = next_iterator
                self.iterators[shard_id] = iterator
        return records


def charge_writes(records: list[dict[str, Any]], ledger: Ledger) -> Counter[str]:
    """Write units by partition key (``table <pk>``, ``<index> <key>``) for stream records."""
    units: Counter[str] = Counter()
    for record in records:
        change = record["dynamodb"]
        old = change.get("OldImage") or {}
        new = change.get("NewImage") or {}
        image = new or old
        key = (image["pk"]["S"], image["sk"]["S"])
        size = max(item_size(old), item_size(new))
        factor = 1
        if ledger.transactional[key] > 0:
            ledger.transactional[key] -= 1
            factor = TRANSACTION_FACTOR
        units[f"table {key[0]}"] += write_units(size) * factor
        for index, attribute in INDEX_KEYS.items():
            before = old.get(attribute, {}).get("S")
            after = new.get(attribute, {}).get("S")
            if before and before != after:
                units[f"{index} {before}"] += write_units(item_size(old))  # the entry leaves
            if after:
                units[f"{index} {after}"] += write_units(item_size(new))  # enters or changes
    return units + ledger.refused_units


def _general(key: str) -> str:
    """A key with its ids folded (``CO#<n>#BOOKINGS#3``), to count partitions per kind."""
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+", "<n>", key)


def hottest(units: Mapping[str, float], bookings: int, limit: float, top: int = 10) -> dict[str, Any]:
    total = sum(units.values())
    ranked = sorted(units.items(), key=lambda pair: -pair[1])[:top]
    rows = [
        {
            "key": key,
            "units": round(amount, 1),
            "share": round(amount / total, 4),
            "units_per_booking": round(amount / bookings, 3),
            "units_per_s_at_rate": round(amount / bookings * RATE),
        }
        for key, amount in ranked
    ]
    per_kind: Counter[str] = Counter()
    hottest_of_kind: dict[str, float] = {}
    for key, amount in units.items():
        kind = _general(key)
        per_kind[kind] += 1
        hottest_of_kind[kind] = max(hottest_of_kind.get(kind, 0.0), amount)
    return {
        "total_units": round(total, 1),
        "units_per_booking": round(total / bookings, 2),
        "partitions": len(units),
        "partitions_by_kind": dict(per_kind.most_common(12)),
        "hottest_of_kind_units_per_s": {
            kind: round(amount / bookings * RATE)
            for kind, amount in sorted(hottest_of_kind.items(), key=lambda pair: -pair[1])[:12]
        },
        "hottest": rows,
        "hottest_units_per_s": rows[0]["units_per_s_at_rate"] if rows else 0,
        "limit_units_per_s": limit,
    }


_caller = threading.local()


def _per_thread_source_ip() -> None:
    """LocalGateway gives every request the source address 127.0.0.1; make it the calling
    thread's (``_caller.address``), so the public rate limit counts each booker on its own."""
    from chalice.local import LambdaEventConverter

    def address(_converter: Any) -> str:
        return str(getattr(_caller, "address", "127.0.0.1"))

    # a class attribute read through the instance; a property serves it per thread
    LambdaEventConverter.LOCAL_SOURCE_IP = property(address)  # type: ignore[assignment]


def _threads(count: int, job: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(job, range(count)))


def _request(gateway: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any, Any]:
    raw = b"" if body is None else json.dumps(body).encode()
    reply = gateway.handle_request(method, path, {"content-type": "application/json", **headers}, raw)
    return reply["statusCode"], json.loads(reply["body"] or "null"), reply["headers"]


def seat_sale(gateway: Any, v2: dict[str, str]) -> Callable[[], int]:
    status, owner, _ = _request(
        gateway,
        "POST",
        "/v2/bookings",
        v2,
        {
            "graph": "group_owner",
            "settings": {"max_seats": SEATS, "capacity_shards": SEAT_SHARDS},
            "event": {"start": "2031-06-01T19:00:00Z", "end": "2031-06-01T22:00:00Z", "what": "Seat sale"},
        },
    )
    assert status == 201, owner
    seat = {
        "graph": "group_customer",
        "related": {"owner_booking_id": owner["data"]["id"]},
        "customer": {"name": "F", "email": "f@x.io"},
    }

    def sale() -> int:
        replies = _threads(SEATS, lambda _n: _request(gateway, "POST", "/v2/bookings", v2, seat)[0])
        return sum(1 for status in replies if status == 201)

    return sale


def basket_sale(gateway: Any, company_id: int, admin: dict[str, str], public: dict[str, str]) -> Callable[[], int]:
    chain_body = {"name": "On-sale", "start_date": "2031-07-01", "time": "19:00", "duration": 120}
    chain_body |= {"spaces": SEATS, "shards": BASKET_SHARDS, "price": 2500, "max_num_bookings": 4}
    status, chain, _ = _request(gateway, "POST", f"/api/v1/admin/{company_id}/event_chains", admin, chain_body)
    assert status == 201, chain
    path = f"/api/v1/{company_id}/events?event_chain_id={chain['id']}&start_date=2031-06-01&end_date=2031-07-30"
    status, listed, _ = _request(gateway, "GET", path, public)
    assert status == 200, listed
    event_id = listed["_embedded"]["events"][0]["id"]

    def booker(n: int) -> bool:
        _caller.address = f"10.0.{n // 256}.{n % 256}"  # each booker its own address, as on-sale buyers are
        status, _basket, headers = _request(
            gateway, "POST", f"/api/v1/{company_id}/basket/add_item", public, {"event_id": event_id, "num_book": 1}
        )
        if status != 201:
            return False
        token = {**public, "Auth-Token": headers["Auth-Token"]}
        client = {"email": f"booker{n}@example.com", "first_name": "B", "last_name": str(n)}
        checkout = f"/api/v1/{company_id}/basket/checkout"
        status, _purchase, _ = _request(gateway, "POST", checkout, token, {"client": client})
        return status == 201

    def sale() -> int:
        return sum(1 for done in _threads(SEATS, booker) if done)

    return sale


def fan_out(records: list[dict[str, Any]], transport: Any, queue: Any) -> dict[str, int]:
    """The outbox events among ``records`` through the webhook sender as deployed: published
    (the stream publisher's work), then the webhook queue drained in the deployed batch size."""
    from chalicelib.services.messaging import delivery, fanout
    from chalicelib.services.messaging.fanout_wiring import WEBHOOK_BATCH_SIZE

    events = [message for message in map(fanout._from_stream, records) if message is not None]
    for event in events:
        transport.publish(event)
    failed = 0
    while batch := queue.receive(WEBHOOK_BATCH_SIZE):
        result = delivery.handle_messages([{"messageId": m.message_id, "body": m.body} for m in batch])
        failed += len(result["batchItemFailures"])
        queue.delete_batch(batch)  # as Lambda does after a batch
    return {"events": len(events), "failed_messages": failed}


def accounting(_runs: int) -> Result:
    with ExitStack() as stack:
        return _accounting(stack)


def _accounting(stack: ExitStack) -> Result:
    import tempfile
    from pathlib import Path

    import boto3

    from chalicelib.services.messaging import fanout, webhooks
    from devtools.bench_flash_sale import local_app
    from devtools.local_queues import FanoutState, local_transport
    from tests.receivers import receiver

    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        table = "bench-accounting"
        gateway, client, company = local_app(server, table)
        _per_thread_source_ip()
        from chalicelib.store import db

        ledger = Ledger()
        ledger.attach(db.low_level_client())
        arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams", endpoint_url=server.endpoint, region_name="us-east-1")
        tail = StreamTail(streams, arn)
        public = {"App-Id": company.company.app_id, "App-Key": str(company.keys.app_key)}
        credentials = {"email": "bench@example.com", "password": "correct horse battery"}
        status, login, _ = _request(gateway, "POST", "/api/v1/login", public, credentials)
        assert status == 201, login
        admin = {**public, "Auth-Token": login["auth_token"]}
        v2 = {"authorization": "Basic " + _basic(str(company.keys.api_key))}
        company_id = int(company.company.company_id)
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-accounting-"))
        transport, queues = local_transport(FanoutState(Path(scratch) / "fanout.sqlite3"))
        fanout.use_transport(transport)
        stack.callback(fanout.use_transport, None)
        receivers = [stack.enter_context(receiver()) for _ in range(WEBHOOKS)]
        for r in receivers:
            webhooks.create(company_id, r.url, ["booking.created"], True)

        results: dict[str, Any] = {}
        sales: list[tuple[str, Callable[[], Any]]] = [
            ("seat_sale", lambda: seat_sale(gateway, v2)),
            ("basket_sale", lambda: basket_sale(gateway, company_id, admin, public)),
        ]
        for name, prepare in sales:
            sale = prepare()
            tail.drain()  # the set-up's writes are not the sale's
            ledger.transactional.clear()
            ledger.refused_units.clear()
            ledger.read_units.clear()
            ledger.calls.clear()
            ledger.recording = True
            started = time.perf_counter()
            sold = sale()
            elapsed = time.perf_counter() - started
            time.sleep(1.5)  # the stream trails the writes a little
            records = tail.drain()
            writes = charge_writes(records, ledger)
            ledger.refused_units.clear()  # charged with the sale's writes
            received = sum(len(r.received) for r in receivers)
            fanned = fan_out(records, transport, queues["webhooks"])
            time.sleep(1.5)
            fanout_records = tail.drain()
            ledger.recording = False
            fanout_writes = charge_writes(fanout_records, ledger)
            fanned["deliveries"] = sum(len(r.received) for r in receivers) - received
            results[name] = {
                "bookings": sold,
                "seconds": round(elapsed, 1),
                "stream_records": len(records),
                "calls": dict(ledger.calls),
                "writes": hottest(writes + fanout_writes, sold, WRITE_LIMIT),
                "reads": hottest(ledger.read_units, sold, READ_LIMIT),
                "fanout": fanned | {"writes": hottest(fanout_writes, sold, WRITE_LIMIT)},
            }
    finally:
        server.stop()
    ok = all(
        r["writes"]["hottest_units_per_s"] < WRITE_LIMIT
        and r["reads"]["hottest_units_per_s"] < READ_LIMIT
        and r["fanout"]["failed_messages"] == 0
        for r in results.values()
    )
    lines = []
    for name, r in results.items():
        lines.append(
            f"\n{name}: {r['bookings']} bookings, {r['writes']['units_per_booking']} write units and "
            f"{r['reads']['units_per_booking']} read units a booking; at {RATE}/s the hottest key takes "
            f"{r['writes']['hottest_units_per_s']} WCU/s (limit {WRITE_LIMIT}) and "
            f"{r['reads']['hottest_units_per_s']} RCU/s (limit {READ_LIMIT}); fan-out: {r['fanout']['events']} "
            f"events, {r['fanout']['deliveries']} deliveries to {WEBHOOKS} webhooks, "
            f"{r['fanout']['writes']['units_per_booking']} write units a booking, its hottest key "
            f"{r['fanout']['writes']['hottest_units_per_s']} WCU/s (writes below include it)"
        )
        sections = [("writes", r["writes"]["hottest"]), ("reads", r["reads"]["hottest"])]
        sections.append(("the fan-out's writes", r["fanout"]["writes"]["hottest"][:4]))
        for kind, rows in sections:
            lines.append(f"  {kind}, {len(rows)} hottest keys (units, share, units/s at {RATE} bookings/s):")
            for row in rows:
                lines.append(
                    f"    {row['key'][:70]:70} {row['units']:>8} {row['share']:>7.2%} {row['units_per_s_at_rate']:>7}"
                )
    return Result(summary="".join(line + "\n" for line in lines), data=results | {"rate": RATE}, ok=ok)


def _basic(api_key: str) -> str:
    import base64

    return base64.b64encode(f":{api_key}".encode()).decode()
