"""The test shim over moto's transactions: one rollback copy per table, and the rollback intact."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from tests import moto_transactions

TABLE = "shim"


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_transactions.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def _put(pk: str, *, if_absent: bool = False) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": {"pk": {"S": pk}}}
    if if_absent:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def test_a_transaction_copies_its_table_once(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tables_copied = 0
    real = copy.deepcopy

    def counting(value: Any, memo: dict[int, Any] | None = None) -> Any:
        nonlocal tables_copied
        tables_copied += isinstance(value, Table)
        return real(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    ddb.transact_write_items(TransactItems=[_put(f"item-{n}") for n in range(50)])
    assert tables_copied == 1
    assert ddb.scan(TableName=TABLE, Select="COUNT")["Count"] == 50


def test_a_refused_transaction_still_writes_nothing(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[_put("a"), _put("b"), _put("taken", if_absent=True)])
    assert [item["pk"]["S"] for item in ddb.scan(TableName=TABLE)["Items"]] == ["taken"]
    ddb.transact_write_items(TransactItems=[_put("a"), _put("b")])  # the table restored still takes writes
    assert ddb.scan(TableName=TABLE, Select="COUNT")["Count"] == 3


def _stream_records() -> list[Any]:
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE].stream_shard
    assert shard is not None
    return list(shard.items)


def test_a_refused_transaction_leaves_the_stream_as_it_was_without_copying_its_records(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "other"}})
    before = _stream_records()
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[_put("a"), _put("taken", if_absent=True)])
    after = _stream_records()
    assert len(after) == 2
    assert all(kept is was for kept, was in zip(after, before, strict=True))
    ddb.transact_write_items(TransactItems=[_put("a")])
    assert len(_stream_records()) == 3
