"""Outbox: every committed change carries its event, written in the same transaction.

The DynamoDB stream publishes these items to SNS (the fan-out issue); they expire
by TTL a week later, long after delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain import clock
from chalicelib.store import db, keys
from chalicelib.store.models import OutboxEvent
from chalicelib.store.transact import Transaction

RETENTION_SECONDS = 7 * 86_400


def add(
    tx: Transaction,
    event_type: str,
    company_id: int,
    subject_id: str,
    payload: Mapping[str, Any],
    *,
    notify: Sequence[str] | None = None,
    message: str | None = None,
) -> str:
    """Write the event; ``notify`` lists the notify_* / trigger_webhook steps its action ran."""
    event_id = str(uuid.uuid4())
    tx.save(
        OutboxEvent(
            keys.outbox_pk(event_id),
            keys.EVENT_SK,
            event_id=event_id,
            event_type=event_type,
            company_id=company_id,
            subject_id=subject_id,
            occurred_at=db.iso(clock.utcnow()),
            payload=dict(payload),
            ttl=int(clock.now()) + RETENTION_SECONDS,
            notify=list(notify) if notify is not None else None,
            message=message,
        ),
        condition=OutboxEvent.pk.does_not_exist(),
    )
    return event_id
