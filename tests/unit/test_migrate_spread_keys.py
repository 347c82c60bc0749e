"""devtools/migrate_spread_keys.py on moto: items written before the spread keys are read again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.services.catalogue import catalogue
from chalicelib.services.identity import companies
from chalicelib.services.messaging import webhooks
from chalicelib.services.selling import capacity
from chalicelib.store import keys
from chalicelib.store.models import BookerCount, WebhookDelivery
from devtools.migrate_spread_keys import main, migrate

MOVED_EVENT = "0c1d2e3f-0000-4000-8000-000000000001"  # its delivery's partition: 61
STAYING_EVENT = "0c1d2e3f-0000-4000-8000-000000000072"  # partition 0: the key it had


def _old_delivery(company_id: int, webhook_id: int, event_id: str, occurred_at: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"WEBHOOK#{webhook_id}"},
        "sk": {"S": f"DELIVERY#{event_id}"},
        "kind": {"S": "delivery"},
        "webhook_id": {"N": str(webhook_id)},
        "company_id": {"N": str(company_id)},
        "event_id": {"S": event_id},
        "event_type": {"S": "booking.created"},
        "body": {"S": "{}"},
        "status": {"S": "delivered"},
        "attempts": {"N": "1"},
        "log": {"L": []},
        "created_at": {"S": occurred_at},
        "updated_at": {"S": occurred_at},
        "gsi1pk": {"S": f"WEBHOOK#{webhook_id}#DELIVERIES"},
        "gsi1sk": {"S": f"{occurred_at}#{event_id}"},
    }


def _old_items(company_id: int, webhook_id: int) -> list[dict[str, Any]]:
    """What a table written before issue 15 held under the old keys."""
    co = f"CO#{company_id}"
    shard = {"kind": {"S": "capacity"}, "company_id": {"N": str(company_id)}, "open": {"BOOL": True}}
    return [
        {"pk": {"S": "CAP#EVENT-7"}, "sk": {"S": "SHARD#00"}, **shard}
        | {"capacity": {"N": "5"}, "booked": {"N": "2"}, "held": {"N": "1"}, "available": {"N": "2"}},
        {"pk": {"S": "CAP#EVENT-7"}, "sk": {"S": "SHARD#01"}, **shard}
        | {"capacity": {"N": "5"}, "booked": {"N": "0"}, "held": {"N": "0"}, "available": {"N": "5"}},
        {
            "pk": {"S": co},
            "sk": {"S": "CLIENT#000000000042"},
            "kind": {"S": "client"},
            "company_id": {"N": str(company_id)},
            "client_id": {"N": "42"},
            "email": {"S": "old@example.com"},
            "details": {"M": {"first_name": {"S": "Old"}, "last_name": {"S": "Client"}}},
            "created_at": {"S": "2026-11-01T10:00:00Z"},
            "updated_at": {"S": "2026-11-01T10:00:00Z"},
            "version": {"N": "1"},
        },
        {"pk": {"S": co}, "sk": {"S": "CLIENTEMAIL#old@example.com"}, "kind": {"S": "guard"}, "target_id": {"N": "42"}},
        {
            "pk": {"S": co},
            "sk": {"S": "BOOKERCOUNT#CHAIN-3#old@example.com"},
            "kind": {"S": "booker_count"},
            "company_id": {"N": str(company_id)},
            "spaces": {"N": "2"},
        },
        _old_delivery(company_id, webhook_id, MOVED_EVENT, "2026-11-01T10:00:00Z"),
        _old_delivery(company_id, webhook_id, STAYING_EVENT, "2026-11-01T11:00:00Z"),
    ]


@pytest.fixture
def old_table(moto_table: str) -> tuple[Any, str, int]:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    company_id = int(company.company.company_id)
    webhook = webhooks.create(company_id, "http://127.0.0.1:9000/hook", ["booking.created"], True)
    client = boto3.client("dynamodb", region_name="us-east-1")
    for item in _old_items(company_id, int(webhook.webhook_id)):
        client.put_item(TableName=moto_table, Item=item)
    return client, moto_table, company_id


def _booker_spaces(company_id: int) -> int:
    unit, email = "CHAIN-3", "old@example.com"
    try:
        count = BookerCount.get(keys.booker_count_pk(company_id, unit, email), keys.booker_count_sk(unit, email))
        return int(count.spaces)
    except BookerCount.DoesNotExist:
        return 0


def test_a_dry_run_counts_and_changes_nothing(old_table: tuple[Any, str, int]) -> None:
    client, table, _company_id = old_table
    report = migrate(client, table, apply=False, say=lambda _: None)
    assert report.done and not report.moved
    assert report.found == {
        "capacity shard": 2,
        "client": 1,
        "client email guard": 1,
        "booker count": 1,
        "webhook delivery": 1,
    }
    assert capacity.read("EVENT-7", 2).capacity == 0  # the code does not read the old keys
    assert main(["--table", table]) == 0  # the command line's default is this dry run
    assert client.get_item(TableName=table, Key={"pk": {"S": "CAP#EVENT-7"}, "sk": {"S": "SHARD#00"}}).get("Item")


def test_applied_it_moves_everything_once_and_the_code_reads_it(old_table: tuple[Any, str, int]) -> None:
    client, table, company_id = old_table
    # The new code counted this booker once since the upgrade: the old count is added to it.
    BookerCount(
        keys.booker_count_pk(company_id, "CHAIN-3", "old@example.com"),
        keys.booker_count_sk("CHAIN-3", "old@example.com"),
        company_id=company_id,
        spaces=1,
    ).save()

    report = migrate(client, table, apply=True, say=lambda _: None)
    assert report.moved == {
        "capacity shard": 2,
        "client": 1,
        "client email guard": 1,
        "booker count": 1,
        "webhook delivery": 1,
    }
    assert not report.taken and not report.changed

    seats = capacity.read("EVENT-7", 2)
    assert (seats.capacity, seats.booked, seats.held, seats.available) == (10, 2, 1, 7)
    found = catalogue.find_client(company_id, email="OLD@example.com")
    assert int(found.client_id) == 42 and found.details["first_name"] == "Old"
    assert [int(c.client_id) for c in catalogue.list_clients(company_id, 1, 10).items] == [42]
    assert _booker_spaces(company_id) == 3
    webhook_id = int(webhooks.of_company(company_id)[0].webhook_id)
    moved = WebhookDelivery.get(keys.delivery_pk(webhook_id, MOVED_EVENT), keys.delivery_sk(MOVED_EVENT))
    assert moved.pk == f"WEBHOOK#{webhook_id}#61" and moved.gsi1pk == f"WEBHOOK#{webhook_id}#DELIVERIES#61"
    assert moved.status == "delivered" and moved.company_id == company_id
    old_delivery = {"pk": {"S": f"WEBHOOK#{webhook_id}"}, "sk": {"S": f"DELIVERY#{MOVED_EVENT}"}}
    assert "Item" not in client.get_item(TableName=table, Key=old_delivery)
    listed = [d.event_id for d in webhooks.deliveries(company_id, webhook_id, 10)]
    assert listed == [STAYING_EVENT, MOVED_EVENT]  # newest first, from partitions 0 and 61

    again = migrate(client, table, apply=True, say=lambda _: None)
    assert again.done and not again.found and not again.moved  # idempotent: nothing old is left
    assert _booker_spaces(company_id) == 3 and capacity.read("EVENT-7", 2).available == 7


def test_a_taken_new_key_is_reported_and_the_old_item_kept(old_table: tuple[Any, str, int]) -> None:
    client, table, company_id = old_table
    catalogue.upsert_client(company_id, {"email": "old@example.com", "first_name": "New", "last_name": "Client"})
    messages: list[str] = []

    report = migrate(client, table, apply=True, say=messages.append)
    assert report.taken == [f"CO#{company_id} / CLIENTEMAIL#old@example.com"]
    assert any("CLIENTEMAIL#old@example.com" in message for message in messages)
    old_guard = {"pk": {"S": f"CO#{company_id}"}, "sk": {"S": "CLIENTEMAIL#old@example.com"}}
    kept = client.get_item(TableName=table, Key=old_guard)
    assert kept["Item"]["target_id"]["N"] == "42"
    assert catalogue.find_client(company_id, email="old@example.com").details["first_name"] == "New"
    assert main(["--table", table, "--apply"]) == 1  # a run that leaves something for a person says so


def test_a_stopped_run_resumes_from_its_state_file(old_table: tuple[Any, str, int], tmp_path: Path) -> None:
    client, table, _company_id = old_table
    state = tmp_path / "scan.json"
    first = migrate(client, table, apply=True, state=state, page_size=2, max_pages=1, say=lambda _: None)
    assert not first.done and state.exists()
    rest = migrate(client, table, apply=True, state=state, page_size=2, say=lambda _: None)
    assert rest.done
    assert sum((first.moved + rest.moved).values()) == 6
    assert capacity.read("EVENT-7", 2).capacity == 10
