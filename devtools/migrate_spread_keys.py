"""Move items written before the spread keys (issue 15) to the keys the code reads now.

    python -m devtools.migrate_spread_keys --table booking-engine-prod             # dry run: counts
    python -m devtools.migrate_spread_keys --table booking-engine-prod --apply     # move them
    python -m devtools.migrate_spread_keys --table T --endpoint http://127.0.0.1:8000 --apply

What moves (docs/operations.md, "Upgrading a table written before December 2026"):

* capacity shards ``CAP#<capacity>`` / ``SHARD#<nn>`` -> ``CAP#<capacity>#SHARD#<nn>``;
* booker counts ``CO#<c>`` / ``BOOKERCOUNT#...`` -> ``CO#<c>#BOOKERCOUNT#...`` (added to a
  count the new code may already have started there);
* clients ``CO#<c>`` / ``CLIENT#<id>`` -> ``CO#<c>#CLIENT#<id>``, listed on gsi1;
* client email guards ``CO#<c>`` / ``CLIENTEMAIL#<email>`` -> ``CO#<c>#CLIENTEMAIL#<email>``;
* webhook deliveries ``WEBHOOK#<w>`` / ``DELIVERY#<event>`` -> ``WEBHOOK#<w>#<p>``, listed on
  gsi1 ``WEBHOOK#<w>#DELIVERIES#<p>`` (``p``: the event id's partition; those of partition 0
  are where they were).

Each item moves in one transaction: the new item is put only if its key is free (a count
is added to instead), and the old one is deleted only if it is still as it was read. So a
run can stop anywhere and run again (idempotent: what moved is no longer at the old key),
and a concurrent change makes that one move fail and be reported, never lost. The Scan's
position is saved after every page to ``--state`` so a long run resumes where it stopped.
An item whose new key is already taken by something else (a client created for that email
after the upgrade, a slot capacity re-opened) is left where it is and reported: those need
a person. Pause sales while it runs (docs/operations.md). A Scan is fine here: this is a
one-off tool, not an access pattern.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.store import keys

Item = dict[str, Any]
Move = Callable[[str, Item], list[dict[str, Any]]]


@dataclass
class Report:
    found: Counter[str] = field(default_factory=Counter)
    moved: Counter[str] = field(default_factory=Counter)
    taken: list[str] = field(default_factory=list)  # new key already used by another item
    changed: list[str] = field(default_factory=list)  # changed while we moved it: run again
    pages: int = 0
    done: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": dict(self.found),
            "moved": dict(self.moved),
            "taken": self.taken,
            "changed": self.changed,
            "pages": self.pages,
            "done": self.done,
        }


def kind_of(item: Item) -> str | None:
    """Which old shape an item has (None: nothing to move)."""
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if pk.startswith("CAP#") and sk.startswith(keys.SHARD_PREFIX) and not pk.endswith(f"#{sk}"):
        return "capacity shard"
    if pk.startswith(keys.WEBHOOK_PREFIX) and pk.count("#") == 1 and sk.startswith(keys.DELIVERY_PREFIX):
        return "webhook delivery" if keys.delivery_partition(sk.removeprefix(keys.DELIVERY_PREFIX)) else None
    if not (pk.startswith("CO#") and pk.count("#") == 1):
        return None  # only the company's own partition held what moved out of it
    if sk.startswith("BOOKERCOUNT#"):
        return "booker count"
    if sk.startswith(keys.CLIENT_PREFIX):
        return "client"
    if sk.startswith("CLIENTEMAIL#"):
        return "client email guard"
    return None


def new_key(kind: str, item: Item) -> tuple[str, str]:
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if kind == "capacity shard":
        return keys.shard_pk(pk.removeprefix("CAP#"), sk), sk
    if kind == "webhook delivery":
        return keys.delivery_pk(int(pk.removeprefix(keys.WEBHOOK_PREFIX)), sk.removeprefix(keys.DELIVERY_PREFIX)), sk
    return f"{pk}#{sk}", sk  # CO#<c>#<sort key>: what keys.booker_count_pk, client_pk, client_email_pk spell


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _unchanged(item: Item, names: Sequence[str]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that the old item still has the values read (the attributes that matter)."""
    parts = ["attribute_exists(pk)"]
    attribute_names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for n, name in enumerate(name for name in names if name in item):
        attribute_names[f"#o{n}"] = name
        values[f":o{n}"] = item[name]
        parts.append(f"#o{n} = :o{n}")
    return " AND ".join(parts), attribute_names, values


WATCHED = {
    "capacity shard": ("available", "booked", "held", "capacity", "open"),
    "booker count": ("spaces",),
    "client": ("version",),
    "client email guard": ("target_id",),
    "webhook delivery": ("status", "attempts", "claimed_at", "updated_at"),  # the sender may be at it
}


def transaction(table: str, kind: str, item: Item) -> list[dict[str, Any]]:
    """The items of the one transaction that moves ``item``."""
    pk, sk = new_key(kind, item)
    condition, names, values = _unchanged(item, WATCHED[kind])
    delete: dict[str, Any] = {"TableName": table, "Key": _key(item["pk"]["S"], item["sk"]["S"])}
    delete["ConditionExpression"] = condition
    if names:
        delete["ExpressionAttributeNames"] = names
        delete["ExpressionAttributeValues"] = values
    if kind == "booker count":
        # The new code may have counted this booker since the upgrade: add, do not overwrite.
        add: dict[str, Any] = {
            "TableName": table,
            "Key": _key(pk, sk),
            "UpdateExpression": "ADD #spaces :n SET #company = :c, #kind = :k",
            "ExpressionAttributeNames": {"#spaces": "spaces", "#company": "company_id", "#kind": "kind"},
            "ExpressionAttributeValues": {
                ":n": item.get("spaces", {"N": "0"}),
                ":c": item.get("company_id", {"N": pk.split("#")[1]}),
                ":k": item.get("kind", {"S": "booker_count"}),
            },
        }
        return [{"Update": add}, {"Delete": delete}]
    moved = {**item, **_key(pk, sk)}
    if kind == "client":
        company_id = int(item["pk"]["S"].removeprefix("CO#"))
        client_id = int(item["client_id"]["N"])
        partition = keys.spread(str(client_id), keys.CLIENT_LISTING_PARTITIONS)
        moved["gsi1pk"] = {"S": keys.company_clients(company_id, partition)}
        moved["gsi1sk"] = {"S": keys.client_sk(client_id)}
    if kind == "webhook delivery":
        webhook_id = int(item["pk"]["S"].removeprefix(keys.WEBHOOK_PREFIX))
        event_id = sk.removeprefix(keys.DELIVERY_PREFIX)
        moved["gsi1pk"] = {"S": keys.webhook_deliveries(webhook_id, keys.delivery_partition(event_id))}
    put = {"TableName": table, "Item": moved, "ConditionExpression": "attribute_not_exists(pk)"}
    return [{"Put": put}, {"Delete": delete}]


def migrate(
    client: Any,
    table: str,
    *,
    apply: bool,
    state: Path | None = None,
    page_size: int = 500,
    max_pages: int | None = None,
    say: Callable[[str], None] = print,
) -> Report:
    """Scan ``table`` and move every old-shape item (with ``apply``; else only count them)."""
    report = Report()
    start = json.loads(state.read_text()) if state is not None and state.exists() else None
    while max_pages is None or report.pages < max_pages:
        scan: dict[str, Any] = {"TableName": table, "Limit": page_size, "ConsistentRead": True}
        if start:
            scan["ExclusiveStartKey"] = start
        page = client.scan(**scan)
        report.pages += 1
        for item in page.get("Items", []):
            kind = kind_of(item)
            if kind is None:
                continue
            report.found[kind] += 1
            if apply:
                _move(client, table, kind, item, report, say)
        start = page.get("LastEvaluatedKey")
        if state is not None and apply:
            state.write_text(json.dumps(start))  # where a rerun resumes (null: finished)
        if not start:
            report.done = True
            break
    return report


def _move(client: Any, table: str, kind: str, item: Item, report: Report, say: Callable[[str], None]) -> None:
    old = f"{item['pk']['S']} / {item['sk']['S']}"
    try:
        client.transact_write_items(TransactItems=transaction(table, kind, item))
    except client.exceptions.TransactionCanceledException as error:
        reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            report.taken.append(old)
            say(f"left in place, its new key is taken: {kind} {old}")
        else:
            report.changed.append(old)
            say(f"changed while moving, run again: {kind} {old} ({reasons})")
        return
    report.moved[kind] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--endpoint", help="DynamoDB endpoint (DynamoDB Local); default: AWS")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--apply", action="store_true", help="move the items (default: a dry run that counts)")
    parser.add_argument("--state", type=Path, help="file keeping the Scan's position, to resume an applied run")
    args = parser.parse_args(argv)
    import boto3

    client = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name=args.region)
    report = migrate(client, args.table, apply=args.apply, state=args.state)
    print(json.dumps(report.as_dict() | {"applied": args.apply}, indent=2))
    return 0 if not (report.taken or report.changed) else 1


if __name__ == "__main__":
    sys.exit(main())
