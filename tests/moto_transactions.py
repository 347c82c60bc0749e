"""moto's DynamoDB transactions with their rollback copy taken once per table, not once per item.

moto 5.2.5 (``DynamoDBBackend.transact_write_items``) deep-copies the whole table for its
rollback once for *every item* of a transaction: a transaction of 100 items on a table of
10,000 items copies a million items, and that cost grows with everything a test session
has written. Its own loop keeps only the last copy of each table, taken before any item is
written, so one copy per table is exactly what it keeps: this module makes the others
return that first copy, and copies the table's stream as a list of the same records.
Installed once by tests/conftest.py; nothing else of moto changes.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models.table import Table

_copies = threading.local()  # the copies of the transaction running on this thread


class _CopyModule:
    """The ``copy`` module as moto's DynamoDB backend sees it: a Table asked for again in one
    transaction gets the copy already taken (the table has not changed in between)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        taken: dict[int, Any] | None = getattr(_copies, "tables", None)
        if taken is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in taken:
            taken[id(value)] = copy_table(value, memo)
        return taken[id(value)]


def copy_table(table: Table, memo: dict[int, Any] | None = None) -> Table:
    """A deep copy, but for the stream's records: a list copy of the same records, which are
    never changed once written (the stream grows with every write of the test session, and
    copying each record's images made every transaction slower than the one before)."""
    memo = {} if memo is None else memo
    shard = table.stream_shard
    if shard is None:
        return copy.deepcopy(table, memo)
    kept = copy.copy(shard)
    kept.items = list(shard.items)
    memo[id(shard)] = kept
    copied: Table = copy.deepcopy(table, memo)
    kept.table = copied
    return copied


def install() -> None:
    """Idempotent: the backend's transactions take one copy per table per call."""
    if isinstance(models.copy, _CopyModule):  # type: ignore[attr-defined]
        return
    backend = models.DynamoDBBackend
    original = backend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _copies.tables = {}
        try:
            original(self, transact_items)
        finally:
            _copies.tables = None

    # Patching a third-party module: mypy rightly flags both assignments, which are the point.
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    models.copy = _CopyModule()  # type: ignore[attr-defined,assignment]
