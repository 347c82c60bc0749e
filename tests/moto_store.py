"""moto's own store, read and restored directly: no Scan (a Scan per case costs seconds on moto)."""

from __future__ import annotations

from typing import Any


def _tables() -> dict[str, Any]:
    """moto's tables (us-east-1, its default account) by name."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables: dict[str, Any] = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
    return tables


def saved(table_name: str) -> Any:
    """A copy of the table as it is now, for :func:`restore`."""
    from tests.moto_transactions import copy_table

    return copy_table(_tables()[table_name])


def restore(table_name: str, copy: Any) -> None:
    """The table back as it was when ``copy`` was saved (``copy`` itself stays as it is)."""
    from tests.moto_transactions import copy_table

    _tables()[table_name] = copy_table(copy)


def table_items(table_name: str, *, ignoring: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every item of ``table_name`` in us-east-1 (those whose pk starts with one of ``ignoring``
    left out), sorted by key, in DynamoDB's JSON."""
    items = [item.to_json()["Attributes"] for item in _tables()[table_name].all_items()]
    kept = [item for item in items if not item["pk"]["S"].startswith(ignoring)]
    return sorted(kept, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
