"""What an item write costs DynamoDB Local's JVM, by shape and by call (issue 15, section 2).

Not a benchmark of the app: raw boto3 calls against the real table definition
(``schema.create_table_if_absent``), the JVM's CPU time (utime + stime from
``/proc/<pid>/stat``) sampled around each case, divided by the items written. Each case
runs ``--rounds`` times after a warm-up (the JIT), and every figure is printed::

    .venv/bin/python -m devtools.measure_ddb_items [--items 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from devtools.ddb_local import DynamoDBLocal, cpu_seconds_by_thread_group, free_port

Raw = dict[str, Any]


def _event(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "booking.created",
        "company_id": 1001,
        "subject_id": str(uuid.uuid4()),
        "occurred_at": "2031-01-01T00:00:00Z",
        "data": {"id": str(n), "state": "confirmed", "graph": "instant"},
    }


def delivery_item(n: int, *, gsi1: bool = True) -> Raw:
    """The item ``webhooks._delivery_item`` writes (attempt 1 claimed), as PynamoDB serialises it."""
    from chalicelib.services.messaging import delivery
    from chalicelib.store import keys

    event = _event(n)
    partition = keys.delivery_partition(event["id"])
    body = delivery.signed_body(event)
    item: Raw = {
        "pk": {"S": keys.webhook_pk(17, partition)},
        "sk": {"S": keys.delivery_sk(event["id"])},
        "kind": {"S": "delivery"},
        "webhook_id": {"N": "17"},
        "company_id": {"N": "1001"},
        "event_id": {"S": event["id"]},
        "event_type": {"S": "booking.created"},
        "body": {"S": body},
        "status": {"S": "pending"},
        "attempts": {"N": "1"},
        "claimed_at": {"N": str(int(time.time()))},
        "log": {"L": []},
        "created_at": {"S": "2031-01-01T00:00:00.000000Z"},
        "updated_at": {"S": "2031-01-01T00:00:00.000000Z"},
        "ttl": {"N": str(int(time.time()) + 30 * 86_400)},
    }
    if gsi1:
        item["gsi1pk"] = {"S": keys.webhook_deliveries(17, partition)}
        item["gsi1sk"] = {"S": f"{event['occurred_at']}#{event['id']}"}
    return item


def minimal_item(n: int) -> Raw:
    return {"pk": {"S": f"MIN#{uuid.uuid4()}"}, "sk": {"S": "X"}}


ENTRY: Raw = {
    "M": {
        "attempt": {"N": "1"},
        "at": {"S": "2031-01-01T00:00:00.000000Z"},
        "status_code": {"N": "200"},
        "latency_ms": {"N": "3"},
        "error": {"NULL": True},
        "outcome": {"S": "delivered"},
    }
}


def with_result(item: Raw) -> Raw:
    """The whole item again with its first result (what ``record_first_results`` puts)."""
    return {**item, "log": {"L": [ENTRY]}, "status": {"S": "delivered"}, "updated_at": {"S": "2031-01-01T00:00:01Z"}}


ABSENT = {"ConditionExpression": "attribute_not_exists(pk)"}


class Bench:
    def __init__(self, server: DynamoDBLocal, client: Any, table: str, items: int) -> None:
        assert server.pid is not None
        self.pid, self.client, self.table, self.items = server.pid, client, table, items

    def measure(self, write: Callable[[list[Raw]], None], make: Callable[[int], Raw], size: int) -> dict[str, float]:
        """JVM CPU ms an item, by thread group and in all: ``write`` called on chunks of ``size``
        of ``self.items`` made items."""
        items = [make(n) for n in range(self.items)]
        before = cpu_seconds_by_thread_group(self.pid)
        for start in range(0, len(items), size):
            write(items[start : start + size])
        after = cpu_seconds_by_thread_group(self.pid)
        spent = {group: (after[group] - before[group]) * 1000 / len(items) for group in after}
        return {"all": sum(spent.values()), **spent}

    def seeded(self, make: Callable[[int], Raw]) -> Callable[[int], Raw]:
        """Items written first (not measured), for cases that overwrite or update an existing item."""
        made = [make(n) for n in range(self.items)]
        for start in range(0, len(made), 25):
            self.batch([{k: v for k, v in item.items()} for item in made[start : start + 25]])
        return lambda n: made[n]

    # --- the calls ---------------------------------------------------------------------------

    def transact(self, items: list[Raw], condition: bool = True) -> None:
        extra = ABSENT if condition else {}
        self.client.transact_write_items(
            TransactItems=[{"Put": {"TableName": self.table, "Item": item, **extra}} for item in items]
        )

    def batch(self, items: list[Raw]) -> None:
        pending: Raw = {self.table: [{"PutRequest": {"Item": item}} for item in items]}
        while pending:
            pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    def put(self, items: list[Raw], condition: bool = False) -> None:
        extra = ABSENT if condition else {}
        for item in items:
            self.client.put_item(TableName=self.table, Item=item, **extra)

    def update_result(self, items: list[Raw]) -> None:
        for item in items:
            self.client.update_item(TableName=self.table, **_result_update(item))

    def transact_updates(self, items: list[Raw]) -> None:
        self.client.transact_write_items(
            TransactItems=[{"Update": {"TableName": self.table, **_result_update(item)}} for item in items]
        )


def _result_update(item: Raw) -> Raw:
    return {
        "Key": {"pk": item["pk"], "sk": item["sk"]},
        "UpdateExpression": "SET #log = list_append(#log, :entry), #status = :status, updated_at = :now "
        "REMOVE next_attempt_at",
        "ExpressionAttributeNames": {"#log": "log", "#status": "status"},
        "ExpressionAttributeValues": {
            ":entry": {"L": [ENTRY]},
            ":status": {"S": "delivered"},
            ":now": {"S": "2031-01-01T00:00:01Z"},
        },
    }


def cases(b: Bench) -> dict[str, Callable[[], dict[str, float]]]:
    no_gsi = lambda n: delivery_item(n, gsi1=False)  # noqa: E731
    return {
        "minimal, transaction of 100, if absent": lambda: b.measure(b.transact, minimal_item, 100),
        "minimal, batch of 25": lambda: b.measure(b.batch, minimal_item, 25),
        "minimal, PutItem": lambda: b.measure(b.put, minimal_item, 1),
        "delivery, transaction of 100, if absent": lambda: b.measure(b.transact, delivery_item, 100),
        "delivery, transaction of 100, no condition": lambda: b.measure(
            lambda items: b.transact(items, condition=False), delivery_item, 100
        ),
        "delivery no gsi1, transaction of 100, if absent": lambda: b.measure(b.transact, no_gsi, 100),
        "delivery, batch of 25": lambda: b.measure(b.batch, delivery_item, 25),
        "delivery no gsi1, batch of 25": lambda: b.measure(b.batch, no_gsi, 25),
        "delivery, PutItem": lambda: b.measure(b.put, delivery_item, 1),
        "delivery, PutItem if absent": lambda: b.measure(lambda items: b.put(items, condition=True), delivery_item, 1),
        "result: whole item over existing, batch of 25": lambda: b.measure(
            lambda items: b.batch([with_result(i) for i in items]), b.seeded(delivery_item), 25
        ),
        "result: whole item over existing (no gsi1), batch of 25": lambda: b.measure(
            lambda items: b.batch([with_result(i) for i in items]), b.seeded(no_gsi), 25
        ),
        "result: UpdateItem on existing": lambda: b.measure(b.update_result, b.seeded(delivery_item), 1),
        "result: UpdateItem on existing (no gsi1)": lambda: b.measure(b.update_result, b.seeded(no_gsi), 1),
        "result: transaction of 100 Updates": lambda: b.measure(b.transact_updates, b.seeded(delivery_item), 100),
        "result: whole item over existing, PutItem": lambda: b.measure(
            lambda items: b.put([with_result(i) for i in items]), b.seeded(delivery_item), 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this")
    parser.add_argument("--stream", choices=("on", "off"), default="on", help="off: a diagnostic table, not ours")
    args = parser.parse_args()
    from chalicelib.store import schema

    with DynamoDBLocal(free_port(), None) as server:
        client = server.client()
        table = "measure"
        if args.stream == "on":
            schema.create_table_if_absent(client, table)
        else:
            definition = schema.table_definition(table)
            definition.pop("StreamSpecification")
            client.create_table(**definition)
        b = Bench(server, client, table, args.items)
        chosen = {name: run for name, run in cases(b).items() if args.only in name}
        for run in chosen.values():  # warm-up: the JIT
            run()
        figures: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
        for _round in range(args.rounds):
            for name, run in chosen.items():
                figures[name].append({group: round(ms, 3) for group, ms in run().items()})
        width = max(len(name) for name in figures)
        print(f"{'ms of JVM CPU an item, per round: all (sqlite/http/jit/other)':<{width}}")
        for name, rounds in figures.items():
            shown = [
                f"{r['all']:5.2f} ({r['sqlite']:.2f}/{r['http']:.2f}/{r['jit']:.2f}/{r['other']:.2f})" for r in rounds
            ]
            print(f"{name:<{width}}  " + "  ".join(shown))
        print(json.dumps({"items": args.items, "stream": args.stream, "ms_per_item": figures}))


if __name__ == "__main__":
    main()
