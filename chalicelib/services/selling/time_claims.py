"""Claimed time on resources: claiming and releasing it with the caller's transaction.

A resource's claims live in its own partition, one item per UTC day
(``RES#<id>`` / ``DAY#<date>``), each holding a map ``claims`` {owner -> entry} and a
``version``. A claim is stored on every day its padded interval touches, so whoever
checks an interval reads exactly the days it touches (one Query) and sees every claim
that could overlap it.

Claiming: read those days, check with the domain rule (``domain.time_claims.fits``),
then in ONE transaction with the caller's writes (the booking or hold, its log, its
outbox event) set this owner's entry on each day, conditional on the ``version`` read
(``attribute_not_exists`` for a day nobody claimed yet) and bumping it. A concurrent
claim on any of those days makes the transaction fail: re-read and re-check (bounded,
jittered retries), so a real overlap ends as 409 ``time_taken``. Lapsed hold entries
count as free on every read and are removed by the next claim of their day.

The stored form and its conditions are in ``store/claim_days.py``.

Releasing removes the owner's entry (idempotent) inside the caller's compare-and-set
transaction (the booking leaving a time-holding state, a hold ending), so it happens
once. Releases do not bump ``version``: they only free time, which can make a
concurrent check conservative, never wrong.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import time_claims as rule
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.services.catalogue import resources
from chalicelib.store import claim_days, db
from chalicelib.store.errors import TransactionFailed
from chalicelib.store.models import Booking, Hold, plain_map
from chalicelib.store.transact import Transaction, failed_condition, is_conflict
from chalicelib.store.transact import run as run_transaction

# Each lost round means another claim of the same day committed, so the claims of one day
# always make progress; a busy day (twenty bookings of one person's day at once) needs as
# many rounds as claims. Bounded by time, so a request never runs into its own timeout.
CLAIM_BUDGET_SECONDS = 20.0
CLAIM_ATTEMPTS = 100
Writes = Callable[[Transaction], None]


class TimeContended(Conflict):
    code = ErrorCode.TIME_CONTENDED


@dataclass(frozen=True)
class Release:
    """A claim to give back in the same transaction (a reschedule's old time)."""

    resource_id: int
    owner: str
    days: tuple[str, ...]  # ISO dates, as the booking stores them


def claim(
    resource_id: int,
    company_id: int,
    new: rule.Claim,
    writes: Writes,
    *,
    releasing: Release | None = None,
    check: bool = True,
    run: Callable[[Writes], Any] = run_transaction,
) -> list[str]:
    """Claim ``new`` on the resource together with ``writes``, or raise (nothing written).

    Returns the ISO days the claim was stored on. ``check=False`` skips the rule and the
    conditions: only the control run of the concurrency proof uses it, to show that the
    check is what prevents double booking. ``run`` executes the transaction built (a
    basket hold runs it inside its own seat take); a refusal on these days must come
    out of it as the TransactionFailed.
    """
    rule.check(new)
    touched = rule.days(new.busy)
    giving_back = {releasing.owner} if releasing else set()
    deadline = time.monotonic() + CLAIM_BUDGET_SECONDS
    for attempt in range(CLAIM_ATTEMPTS):
        now = clock.utcnow()
        read = claim_days.read(resource_id, touched[0], touched[-1])
        if check:
            rule.fits((c for d in read.values() for c in d.claims()), new, now, releasing=giving_back)
        day_keys = {claim_days.key(resource_id, d.isoformat()) for d in touched}

        def build(tx: Transaction, read: dict[date, claim_days.Day] = read, now: datetime = now) -> None:
            writes(tx)
            for day in touched:
                gone = _gone(read[day], now, resource_id, releasing)
                claim_days.write_claim(
                    tx, resource_id, company_id, read[day], new.owner, rule.as_entry(new), gone, check=check
                )
            if releasing is not None:
                _release_elsewhere(tx, releasing, resource_id, touched)

        try:
            run(build)
            return [d.isoformat() for d in touched]
        except TransactionFailed as error:
            if not failed_condition(error) & day_keys and not is_conflict(error):
                raise  # the caller's own condition (its booking changed meanwhile): theirs to report
            if time.monotonic() > deadline:
                break
            # Another claim changed one of these days: read again. Jittered and growing, so the
            # claimers of a busy day spread out instead of all colliding again each round.
            time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))
    raise TimeContended("this resource's calendar is changing too fast; try again", field="resource_id")


def _gone(day: claim_days.Day, now: datetime, resource_id: int, releasing: Release | None) -> set[str]:
    """Entries a claim removes from a day it writes: lapsed reservations, and the claim it releases."""
    gone = {claim.owner for claim in day.claims() if not claim.live(now)}
    if releasing is not None and releasing.resource_id == resource_id and day.day.isoformat() in releasing.days:
        gone.add(releasing.owner)
    return gone


def _release_elsewhere(tx: Transaction, releasing: Release, resource_id: int, touched: Sequence[date]) -> None:
    """Release the old claim's days not already written by the new claim's updates."""
    written = {d.isoformat() for d in touched} if releasing.resource_id == resource_id else set()
    release(tx, releasing.resource_id, releasing.owner, [d for d in releasing.days if d not in written])


def release(tx: Transaction, resource_id: int, owner: str, days: Iterable[str]) -> None:
    """Remove ``owner``'s entry from each day (idempotent); ride on the caller's compare-and-set."""
    claim_days.remove(tx, resource_id, owner, days)


def claim_any(
    resource_ids: Sequence[int],
    company_id: int,
    new_for: Callable[[int], rule.Claim],
    writes_for: Callable[[int], Writes],
    *,
    check: bool = True,
) -> tuple[int, list[str]]:
    """ "Anyone": claim the first resource (in the order given) that is free, atomically.

    Losing a race to one resource moves on to the next; only when every one refused is it
    a 409 ``time_taken``. Returns the resource taken and its days.
    """
    last: Conflict | None = None
    for resource_id in resource_ids:
        try:
            return resource_id, claim(
                resource_id, company_id, new_for(resource_id), writes_for(resource_id), check=check
            )
        except rule.TimeTaken as taken:
            last = taken
    raise last or rule.TimeTaken("no resource is free at that time", field="resource_id")


def owners_on(resource_id: int, days: Collection[str]) -> set[str]:
    """Owners holding an entry on any of ``days`` (tests and repairs; one Query)."""
    if not days:
        return set()
    ordered = sorted(days)
    read = claim_days.read(resource_id, date.fromisoformat(ordered[0]), date.fromisoformat(ordered[-1]))
    return {owner for d in read.values() for owner in d.entries}


# --- bookings: the glue the booking engine calls ---------------------------------------------


@dataclass(frozen=True)
class TimeAsk:
    """A booking's wish for time: on ``resource_ids[0]``, or on the first free of several ("anyone")."""

    resource_ids: tuple[int, ...]
    before: timedelta = timedelta()  # preparation time (BookingBug pre_time)
    after: timedelta = timedelta()  # clean-up time (post_time)
    check: bool = True  # False only for the control run of the concurrency proof
    field: str = "resource_id"


def ask_for(top_level: str | int | None, in_event: str | int | None) -> TimeAsk | None:
    """The v2 face's ``resource_id`` (top level or in ``event``) as a time ask; None when absent."""
    if top_level is not None and in_event is not None and str(top_level) != str(in_event):
        raise ValidationFailed("resource_id and event.resource_id name different resources", field="resource_id")
    chosen, field_name = (top_level, "resource_id") if top_level is not None else (in_event, "event.resource_id")
    if chosen is None:
        return None
    text = str(chosen).strip()
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise NotFound("resource not found", field=field_name)
    return TimeAsk((int(text),), field=field_name)


def _event_claim(owner: str, event: Mapping[str, Any], ask: TimeAsk) -> rule.Claim:
    start, end = db.parse_iso(str(event["start"])), db.parse_iso(str(event["end"]))
    return rule.Claim(owner, start, end, before=ask.before, after=ask.after)


def claim_for(item: Booking | Hold, owner: str, ask: TimeAsk, new: rule.Claim, writes: Writes) -> None:
    """Write ``item`` (a booking or a hold, by ``writes``) holding ``new`` on the asked resource, or
    on the first free of several, atomically.

    Sets ``item.resource`` and ``item.claim_days`` before ``writes`` runs, so the item and its
    outbox event name the resource taken."""
    company_id = item.company_id
    rule.check(new)
    candidates = [resources.bookable(company_id, rid, ask.field) for rid in ask.resource_ids]
    by_id = {r.resource_id: r for r in candidates}

    def writes_for(resource_id: int) -> Writes:
        def build(tx: Transaction) -> None:
            item.resource = resources.summary(by_id[resource_id])
            item.claim_days = [d.isoformat() for d in rule.days(new.busy)]
            writes(tx)

        return build

    claim_any(list(by_id), company_id, lambda _rid: new, writes_for, check=ask.check)


def claim_for_booking(booking: Booking, ask: TimeAsk, writes: Writes) -> None:
    """Create ``booking`` (``writes``) holding its event's time on the asked resource, atomically."""
    claim_for(booking, booking.booking_id, ask, _event_claim(booking.booking_id, plain_map(booking.event), ask), writes)


def releases_time(booking: Booking, from_state: str, to_state: str) -> bool:
    """A booking with claimed time gives it back on this move (the domain's rule)."""
    return bool(booking.claim_days) and rule.releases(from_state, to_state)


def release_booking(tx: Transaction, booking: Booking) -> None:
    """Inside the booking's compare-and-set transaction: its time is free again, once."""
    if booking.resource and booking.claim_days:
        release(tx, int(plain_map(booking.resource)["id"]), booking.booking_id, list(booking.claim_days))


def move_booking(old: Booking, successor: Booking, resource_id: int | None, writes: Writes) -> None:
    """A reschedule: ``successor`` claims its time (on ``resource_id`` or the old resource) and the
    old booking's claim is released, in the one transaction that ``writes`` belongs to."""
    company_id = old.company_id
    old_resource = int(plain_map(old.resource)["id"])
    target = resources.bookable(company_id, resource_id or old_resource)
    new = _event_claim(successor.booking_id, plain_map(successor.event), TimeAsk((target.resource_id,)))
    successor.resource = resources.summary(target)
    successor.claim_days = [d.isoformat() for d in rule.days(new.busy)]
    releasing = Release(old_resource, old.booking_id, tuple(old.claim_days or ()))
    claim(target.resource_id, company_id, new, writes, releasing=releasing)


# --- reservations of time (Timekit's 1:1 reserve) ---------------------------------------------


def hold_claim(hold: Hold, ask: TimeAsk, event: Mapping[str, Any]) -> rule.Claim:
    """A reservation's claim: the event's time, lapsing with the hold (so it counts as free on
    every read once lapsed, before any sweep)."""
    return replace(_event_claim(hold.hold_id, event, ask), expires_at=_when(hold.expires_at))


def release_hold(tx: Transaction, hold: Hold) -> None:
    """Inside the hold's compare-and-set as it ends (released, expired): its time is free, once."""
    if hold.resource and hold.claim_days:
        release(tx, int(plain_map(hold.resource)["id"]), hold.hold_id, list(hold.claim_days))


def extend_hold(tx: Transaction, hold: Hold) -> None:
    """Inside the hold's extension (conditional on it being live): its claim lapses with it.

    No version check: a live hold's entry already keeps every other claim off its time."""
    if not (hold.resource and hold.claim_days):
        return
    resource_id = int(plain_map(hold.resource)["id"])
    claim_days.set_expiry(tx, resource_id, hold.hold_id, hold.claim_days, int(hold.expires_at))


def _when(epoch: Any) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def reserved_event(hold: Hold) -> dict[str, Any]:
    """The time a reservation holds, as a booking's event (422 if it holds seats, not time)."""
    if not hold.claim_days or not hold.resource:
        raise ValidationFailed("this reservation holds seats of a group, not time", field="reservation_id")
    event: dict[str, Any] = dict(plain_map(plain_map(hold.details).get("event")))
    return event


def convert_hold(booking: Booking, hold: Hold, writes: Writes) -> None:
    """The booking takes over the reservation's time in one transaction (``writes`` ends the hold
    by compare-and-set): its entry replaces the hold's on each day, checked like any claim."""
    resource_id = int(plain_map(hold.resource)["id"])
    new = _event_claim(booking.booking_id, plain_map(booking.event), TimeAsk((resource_id,)))
    booking.resource = plain_map(hold.resource)
    booking.claim_days = [d.isoformat() for d in rule.days(new.busy)]
    releasing = Release(resource_id, hold.hold_id, tuple(hold.claim_days or ()))
    claim(resource_id, booking.company_id, new, writes, releasing=releasing)
