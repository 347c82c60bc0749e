"""Helpers for the webhook sender's batch tests (moto and DynamoDB Local): event messages as the
queue carries them, SQS records, and a count of the DynamoDB calls a batch makes."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from chalicelib.store import db


def event_message(company_id: int, event_type: str = "booking.created") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "company_id": company_id,
        "subject_id": str(uuid.uuid4()),
        "occurred_at": "2031-01-01T00:00:00Z",
        "data": {"state": "confirmed"},
    }


def records(*events: dict[str, Any]) -> list[Mapping[str, Any]]:
    """One SQS record per event, message ids m0, m1 ..."""
    return [{"messageId": f"m{n}", "body": json.dumps(event)} for n, event in enumerate(events)]


@contextmanager
def dynamodb_calls() -> Iterator[Counter[str]]:
    """Counts the DynamoDB operations made in the block (on the models' client), by name."""
    client = db.low_level_client()
    calls: Counter[str] = Counter()

    def count(model: Any, **_kwargs: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.dynamodb", count)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
