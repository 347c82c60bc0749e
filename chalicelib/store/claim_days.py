"""Claim-day items: how claimed time is stored, and the conditions that keep it single.

One item per resource and UTC day (``RES#<id>`` / ``DAY#<date>``): a map ``claims``
{owner -> entry} (``domain.time_claims.as_entry``) and a ``version``. Writing a claim is
conditional on the version read (or on the day not existing yet) and bumps it; removing an
entry is unconditional and does not bump it. Day items are never deleted: a removal is an
UpdateItem, which would recreate a deleted day as a bare key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain import time_claims as rule
from chalicelib.domain.intervals import Span
from chalicelib.store import db, keys
from chalicelib.store.models import ClaimDay, plain_map


@dataclass
class Day:
    """One claim-day item as read: its version (None: no item yet) and its entries."""

    day: date
    version: int | None = None
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def claims(self) -> list[rule.Claim]:
        return [rule.from_entry(owner, entry) for owner, entry in self.entries.items()]


def key(resource_id: int, day: str) -> tuple[str, str]:
    return keys.resource_pk(resource_id), keys.claim_day_sk(day)


def read(resource_id: int, first: date, last: date, *, consistent: bool = True) -> dict[date, Day]:
    """The days from ``first`` to ``last`` (inclusive), absent ones included: one Query."""
    db.ensure_bound()
    found = {date.fromordinal(n): Day(date.fromordinal(n)) for n in range(first.toordinal(), last.toordinal() + 1)}
    condition = ClaimDay.sk.between(keys.claim_day_sk(first.isoformat()), keys.claim_day_sk(last.isoformat()))
    for item in ClaimDay.query(keys.resource_pk(resource_id), condition, consistent_read=consistent):
        day = date.fromisoformat(item.sk.removeprefix(keys.CLAIM_DAY_PREFIX))
        raw = item.claims
        entries = plain_map(raw)
        found[day] = Day(day, item.version, entries)
    return found


def write_claim(
    tx: TransactWrite,
    resource_id: int,
    company_id: int,
    day: Day,
    owner: str,
    entry: dict[str, int],
    removing: Iterable[str] = (),
    *,
    check: bool = True,
) -> None:
    """Set ``owner``'s entry on ``day`` (and remove ``removing``), compare-and-set on the version read.

    ``check=False`` drops the condition: only the control run of the concurrency proof."""
    pk, sk = key(resource_id, day.day.isoformat())
    if day.version is None:
        item = ClaimDay(pk, sk, company_id=company_id, resource_id=resource_id, claims={owner: entry}, version=1)
        tx.save(item, condition=ClaimDay.pk.does_not_exist() if check else None, return_values="ALL_OLD")
        return
    # Per-entry SET and REMOVE, never the whole map: a removal that ran after our read
    # (without bumping the version) must not be undone.
    actions: list[Action] = [ClaimDay.claims[owner].set(entry), ClaimDay.version.set(day.version + 1)]
    actions += [ClaimDay.claims[gone].remove() for gone in sorted(set(removing) - {owner})]
    condition = ClaimDay.version == day.version if check else None
    tx.update(ClaimDay(pk, sk), actions=actions, condition=condition, return_values="ALL_OLD")


def remove(tx: TransactWrite, resource_id: int, owner: str, days: Iterable[str]) -> None:
    """Remove ``owner``'s entry from each day (idempotent; the caller's compare-and-set makes it once)."""
    for day in days:
        tx.update(ClaimDay(*key(resource_id, day)), actions=[ClaimDay.claims[owner].remove()])


def set_expiry(tx: TransactWrite, resource_id: int, owner: str, days: Iterable[str], expires_at: int) -> None:
    """A reservation extended: its entry lapses later (whole seconds, as the hold's expiry)."""
    for day in days:
        tx.update(ClaimDay(*key(resource_id, day)), actions=[ClaimDay.claims[owner]["expires_at"].set(expires_at)])


def hand_over(
    tx: TransactWrite, resource_id: int, from_owner: str, to_owner: str, entry: dict[str, int], days: Iterable[str]
) -> None:
    """``to_owner`` takes ``from_owner``'s time on each day (a basket hold's claim becoming its
    booking's at checkout). Unconditional: the caller's transaction proves the old claim live."""
    for day in days:
        taking = ClaimDay.claims[to_owner].set(entry)
        tx.update(ClaimDay(*key(resource_id, day)), actions=[taking, ClaimDay.claims[from_owner].remove()])


def busy(resource_id: int, window: Span, now: datetime) -> list[Span]:
    """Busy intervals of one resource touching ``window``: one Query of its days (availability reads)."""
    days = rule.days(window)
    found = read(resource_id, days[0], days[-1], consistent=False)
    return rule.busy((c for d in found.values() for c in d.claims()), now)
