"""The one way to write several items at once: a DynamoDB transaction, retried on conflicts.

``transact(build, on_condition_failed=...)`` runs ``build(tx)`` in one
TransactWriteItems. A conflict with another transaction (DynamoDB cancels it,
nothing was written) is tried again with jittered backoff; a refused condition
is never retried: it is the answer, and ``on_condition_failed`` turns it into the
caller's error (or into ``False``, when losing the race means "already done").
"""

from __future__ import annotations

import random
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store import db
from chalicelib.store.models import Item

CONFLICT_RETRIES = 8
STALE_READ_RETRIES = 30  # rounds of re-reading a contended head of a queue before giving up

Key = tuple[str, str]
Transaction = TransactWrite  # what a build writes into; services annotate with this name
Build = Callable[[Transaction], None]
Runner = Callable[[Build], None]  # runs a build in a transaction: run, or one that adds its own writes


@dataclass(frozen=True)
class Refusal:
    """Why a transaction was refused: the items whose conditions failed.

    ``keys`` holds (pk, sk) of refusing items written with ``return_values="ALL_OLD"``
    and ``None`` for the others; ``images`` their old items, raw, by key; ``positions``
    where each refusing item was in the order written (0 first).
    """

    error: TransactWriteError
    keys: frozenset[Key | None]
    images: dict[Key, dict[str, Any]] = field(default_factory=dict)
    positions: tuple[int, ...] = ()


# What a refusal becomes: an exception to raise, or None for "lost the race, nothing to do".
OnConditionFailed = Callable[[Refusal], BaseException | None]


def transaction() -> Transaction:
    db.ensure_bound()
    return TransactWrite(connection=Item._get_connection().connection)


def reasons(error: TransactWriteError) -> list[tuple[str, Key | None, dict[str, Any]]]:
    """(code, (pk, sk), raw item) per cancelled item; the key and item only for items
    written with ``return_values="ALL_OLD"``."""
    found = []
    for reason in error.cancellation_reasons or []:
        if reason is None:
            continue
        item = reason.raw_item or {}
        key = (item["pk"]["S"], item["sk"]["S"]) if "pk" in item and "sk" in item else None
        found.append((reason.code, key, item))
    return found


def is_conflict(error: TransactWriteError) -> bool:
    codes = {code for code, _key, _item in reasons(error)}
    return "TransactionConflict" in codes or getattr(error, "cause_response_code", "") in (
        "TransactionConflictException",
        "TransactionInProgressException",
    )


def failed_condition(error: TransactWriteError) -> set[Key | None]:
    return {key for code, key, _item in reasons(error) if code == "ConditionalCheckFailed"}


def refusal(error: TransactWriteError) -> Refusal | None:
    """The refused conditions of a cancelled transaction, or None when no condition refused."""
    refused = [(key, item) for code, key, item in reasons(error) if code == "ConditionalCheckFailed"]
    if not refused:
        return None
    images = {key: item for key, item in refused if key is not None}
    positions = tuple(
        n
        for n, reason in enumerate(error.cancellation_reasons or [])
        if reason is not None and reason.code == "ConditionalCheckFailed"
    )
    return Refusal(error, frozenset(key for key, _item in refused), images, positions)


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


# Items whose condition stands on a read made inside the build: see reread_on_refusal.
_REREAD: weakref.WeakKeyDictionary[TransactWrite, set[Key]] = weakref.WeakKeyDictionary()


def reread_on_refusal(tx: TransactWrite, key: Key) -> None:
    """Mark an item (written with ``return_values="ALL_OLD"``) whose condition rests on what the
    build itself read (a waitlist's head): when only such items refuse, the read was stale,
    not the caller's answer, so :func:`run` runs the build again and it reads afresh."""
    _REREAD.setdefault(tx, set()).add(key)


def run(build: Build) -> None:
    """One transaction, retried on conflicts with other transactions, and on refusals only by
    items marked :func:`reread_on_refusal` (the build re-reads them); never on other refusals."""
    attempt = 0
    stale = 0
    while True:
        current: TransactWrite | None = None
        try:
            with transaction() as tx:
                current = tx
                build(tx)
            return
        except TransactWriteError as error:
            marked = _REREAD.pop(current, set()) if current is not None else set()
            refused = failed_condition(error)
            if refused and refused <= marked and stale < STALE_READ_RETRIES:
                stale += 1
                backoff(min(stale, 5))
                continue
            if not is_conflict(error) or attempt == CONFLICT_RETRIES - 1:
                raise
            backoff(attempt)
            attempt += 1


def transact(
    build: Build, on_condition_failed: OnConditionFailed | None = None, *, using: Runner | None = None
) -> bool:
    """Run ``build`` in one transaction (conflicts retried); True when it committed.

    A refused condition goes to ``on_condition_failed``: the exception it returns is
    raised, None makes this return False. Without a handler, or when no condition
    refused, the TransactWriteError propagates. ``using`` replaces :func:`run` (a
    time claim runs the build with its own writes and retries).
    """
    try:
        (using or run)(build)
    except TransactWriteError as error:
        refused = refusal(error) if on_condition_failed is not None else None
        if refused is None or on_condition_failed is None:
            raise
        replacement = on_condition_failed(refused)
        if replacement is None:
            return False
        if replacement is error:
            raise
        raise replacement from None
    return True
