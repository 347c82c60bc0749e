"""Lazy binding of the models to the configured table, and small shared helpers."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist

from chalicelib.settings import get_settings
from chalicelib.store import keys, models

_lock = threading.Lock()
_bound_to: tuple[str, str, str | None, float, float, int] | None = None


def ensure_bound() -> None:
    """Bind the models on first use (and again if the settings changed)."""
    global _bound_to
    settings = get_settings()
    target = (
        settings.table_name,
        settings.region,
        settings.dynamodb_endpoint,
        settings.aws_connect_timeout_seconds,
        settings.aws_read_timeout_seconds,
        settings.aws_max_attempts,
    )
    if _bound_to == target:
        return
    with _lock:
        if _bound_to != target:
            table, region, host, connect, read, attempts = target
            models.bind(table, region, host, connect_timeout=connect, read_timeout=read, max_attempts=attempts)
            _bound_to = target


Owned = TypeVar("Owned", bound=models.Item)


def company_item(model: type[Owned], pk: str, sk: str, company_id: int) -> Owned | None:
    """One item of a company, read consistently; None when it is absent or another company's
    (to that caller they are the same: a 404)."""
    ensure_bound()
    try:
        item = model.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None
    return item if int(getattr(item, "company_id", -1)) == company_id else None


def low_level_client() -> Any:
    """The botocore DynamoDB client behind the models (one per process)."""
    ensure_bound()
    return models.Item._get_connection().connection.client


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_epoch(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def allocate_ids(count: int = 1, *, spread: bool = False) -> int:
    """Reserve ``count`` consecutive ids from a global counter; returns the first.

    One atomic ADD, so ids are unique across companies: an id that exists in one
    company can never name another company's object. The single counter hands out
    ordered ids (catalogue listings sort by id); ``spread`` takes them from one of
    ``keys.ID_COUNTERS - 1`` counters at random instead, each with its own range of ids,
    for ids made at a sale's rate (a new client per purchase), which one counter item
    could not take.
    """
    ensure_bound()
    number = random.randrange(1, keys.ID_COUNTERS) if spread else 0
    counter = models.Counter(keys.counter_pk(number), keys.COUNTER_SK)
    counter.update(actions=[models.Counter.next_id.add(count), models.Counter.kind.set(models.Counter)])
    last = counter.next_id
    if spread and last >= keys.ID_RANGE:
        raise RuntimeError(f"id counter {number} has used its range")  # ten billion ids: not in this life
    return number * keys.ID_RANGE + last - count + 1
