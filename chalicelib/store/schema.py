"""The single table, defined once.

Local start-up, the tests and the infrastructure template all build the table
from :func:`table_definition`; the PynamoDB models use the same names. See
``docs/data-model.md`` for every item type and access pattern.
"""

from __future__ import annotations

from typing import Any

PK = "pk"
SK = "sk"
GSI1 = "gsi1"
GSI1_PK = "gsi1pk"
GSI1_SK = "gsi1sk"
# Children of a parent: a group owner's seat bookings, later a chain's events.
GSI2 = "gsi2"
GSI2_PK = "gsi2pk"
GSI2_SK = "gsi2sk"
# Sparse: only items that can expire carry these two attributes, so the sweeper
# reads what is due and nothing else.
EXPIRY_INDEX = "expiry"
EXPIRY_PK = "xpk"
EXPIRY_SK = "xsk"
# Epoch seconds. TTL only removes what may vanish late (tokens, idempotency
# records, retired keys); it never frees seats: TTL deletes can lag by days.
TTL_ATTRIBUTE = "ttl"

_STRING_ATTRIBUTES = (PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, EXPIRY_PK, EXPIRY_SK)


def _index(name: str, pk: str, sk: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": pk, "KeyType": "HASH"},
            {"AttributeName": sk, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def table_definition(table_name: str) -> dict[str, Any]:
    """Keyword arguments for DynamoDB ``CreateTable`` (also the template's source)."""
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in _STRING_ATTRIBUTES],
        "GlobalSecondaryIndexes": [
            _index(GSI1, GSI1_PK, GSI1_SK),
            _index(GSI2, GSI2_PK, GSI2_SK),
            _index(EXPIRY_INDEX, EXPIRY_PK, EXPIRY_SK),
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def create_table_if_absent(client: Any, table_name: str) -> bool:
    """Create the table (and enable TTL) unless it exists; add any index it lacks.

    True when the table was created. Adding missing indexes lets a developer's
    persisted local table follow the definition without being dropped.
    """
    try:
        described = client.describe_table(TableName=table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        described = None
    if described is not None:
        _add_missing_indexes(client, table_name, described)
        return False
    try:
        client.create_table(**table_definition(table_name))
    except client.exceptions.ResourceInUseException:
        return False  # another process created it first
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
    return True


def _add_missing_indexes(client: Any, table_name: str, described: dict[str, Any]) -> None:
    definition = table_definition(table_name)
    present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    for index in definition["GlobalSecondaryIndexes"]:
        if index["IndexName"] in present:
            continue
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=definition["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        client.get_waiter("table_exists").wait(TableName=table_name)
