"""Holds: seats kept for a while (Timekit reservations, later basket items).

A hold takes seats as ``held`` in one transaction. It ends exactly once, by
compare-and-set on its status: converted into a booking (held -> booked, the seat
never free in between), released, or expired (by the sweeper, or lazily by a
booking that finds the capacity full). An expired hold counts as free on every
read even before anyone tidies it up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import clock, lifecycle
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound
from chalicelib.domain.lifecycle import HoldStatus
from chalicelib.domain.seats import ShardSeats
from chalicelib.services.messaging import outbox
from chalicelib.services.selling import capacity, time_claims, waitlist
from chalicelib.services.selling.waitlist import EntryStatus, Promotion
from chalicelib.store import db, keys
from chalicelib.store.errors import TransactionFailed, refused
from chalicelib.store.expressions import Condition, UpdateAction
from chalicelib.store.models import Hold, WaitlistEntry, plain_map
from chalicelib.store.transact import OnConditionFailed, Transaction, transact

MAX_EXTENSIONS = 3


def _index(hold: Hold, expires_at: float) -> None:
    due = db.iso_epoch(expires_at)
    # Listed under its capacity's partition for the lowest shard it holds (0 until it holds any).
    hold.gsi1pk = keys.capacity_holds(hold.capacity_id, keys.first_shard(list(capacity.from_list(hold.seat_shards))))
    hold.gsi1sk = due
    hold.xpk = keys.expiry_partition(hold.pk)
    hold.xsk = f"{due}#{hold.pk}"


def _place_on(hold: Hold, shard_seats: ShardSeats) -> None:
    """Record the shards a hold took; it is listed under its capacity's partition for the
    lowest of them, so a capacity's holds spread over its shards as its writes do."""
    hold.seat_shards = capacity.as_list(shard_seats)
    hold.gsi1pk = keys.capacity_holds(hold.capacity_id, keys.first_shard(list(shard_seats)))


def new_hold(
    company_id: int,
    capacity_id: str,
    seats: int,
    hold_seconds: int,
    details: Mapping[str, Any],
    owner_booking_id: str | None = None,
) -> Hold:
    """A hold item (not yet written), indexed for its expiry."""
    hold_id = str(uuid.uuid4())
    hold = Hold(
        keys.hold_pk(hold_id),
        keys.HOLD_SK,
        hold_id=hold_id,
        company_id=company_id,
        capacity_id=capacity_id,
        owner_booking_id=owner_booking_id,
        seats=seats,
        expires_at=int(clock.now() + hold_seconds),
        details=dict(details),
        created_at=db.iso(clock.utcnow()),
    )
    _index(hold, hold.expires_at)
    return hold


def place(
    company_id: int,
    capacity_id: str,
    shards: int,
    seats: int,
    hold_seconds: int,
    details: Mapping[str, Any],
    owner_booking_id: str | None = None,
) -> Hold:
    hold = new_hold(company_id, capacity_id, seats, hold_seconds, details, owner_booking_id)

    def writes(tx: Transaction, shard_seats: ShardSeats) -> None:
        _place_on(hold, shard_seats)
        tx.save(hold, condition=Hold.pk.does_not_exist())
        outbox.add(tx, "hold.created", company_id, hold.hold_id, snapshot(hold))

    capacity.take(capacity_id, seats, shards, writes, reclaim=reclaim_lapsed, hold=True)
    return hold


def place_time(
    company_id: int, ask: time_claims.TimeAsk, event: Mapping[str, Any], hold_seconds: int, details: Mapping[str, Any]
) -> Hold:
    """Reserve ``event``'s time on a resource (Timekit's 1:1 reserve): no seats, a time claim."""
    hold = new_hold(company_id, "", 0, hold_seconds, {**details, "event": dict(event)})
    hold.capacity_id = f"TIME-{hold.hold_id}"  # it holds no seats; the name only keys its index entry
    _index(hold, hold.expires_at)

    def writes(tx: Transaction) -> None:
        tx.save(hold, condition=Hold.pk.does_not_exist())
        outbox.add(tx, "hold.created", company_id, hold.hold_id, snapshot(hold))

    time_claims.claim_for(hold, hold.hold_id, ask, time_claims.hold_claim(hold, ask, event), writes)
    return hold


@dataclass(frozen=True)
class HoldAsk:
    """One hold of several placed together (a basket item: one per event of a course)."""

    capacity_id: str
    seats: int
    shards: int
    details: Mapping[str, Any]


def place_many(
    company_id: int,
    asks: Sequence[HoldAsk],
    hold_seconds: int,
    *,
    basket_id: str | None = None,
    extra_writes: Callable[[Transaction, list[Hold]], None] | None = None,
    on_condition_failed: OnConditionFailed | None = None,
) -> list[Hold]:
    """Hold seats on several capacities in one transaction (with ``extra_writes``), or none.

    Three items per hold (shard, hold, outbox event): with DynamoDB's 100 a take
    holds at most 33 capacities, less whatever ``extra_writes`` add. A refusal by
    ``extra_writes``' conditions goes to ``on_condition_failed`` (see ``transact``).
    """
    now = clock.now()
    created = db.iso(clock.utcnow())
    placed: list[Hold] = []
    for ask in asks:
        hold_id = str(uuid.uuid4())
        hold = Hold(
            keys.hold_pk(hold_id),
            keys.HOLD_SK,
            hold_id=hold_id,
            company_id=company_id,
            capacity_id=ask.capacity_id,
            seats=ask.seats,
            expires_at=int(now + hold_seconds),
            details=dict(ask.details),
            created_at=created,
        )
        _index(hold, hold.expires_at)
        if basket_id is not None:
            hold.gsi2pk = keys.basket_holds(basket_id)
            hold.gsi2sk = f"{created}#{hold_id}"
        placed.append(hold)

    def writes(tx: Transaction, plan: dict[str, ShardSeats]) -> None:
        for hold in placed:
            _place_on(hold, plan[hold.capacity_id])
            tx.save(hold, condition=Hold.pk.does_not_exist())
            outbox.add(tx, "hold.created", company_id, hold.hold_id, snapshot(hold))
        if extra_writes is not None:
            extra_writes(tx, placed)

    asked = [capacity.Ask(a.capacity_id, a.seats, a.shards) for a in asks]
    capacity.take_many(asked, writes, reclaim=reclaim_lapsed, hold=True, on_condition_failed=on_condition_failed)
    return placed


def snapshot(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.hold_id,
        "seats": hold.seats,
        "expires_at": db.iso_epoch(hold.expires_at),
        "status": hold.status,
        "owner_booking_id": hold.owner_booking_id,
    }


def get(company_id: int, hold_id: str) -> Hold:
    hold = db.company_item(Hold, keys.hold_pk(hold_id), keys.HOLD_SK, company_id)
    if hold is None:
        raise NotFound("reservation not found", field="reservation_id")
    return hold


def is_live(hold: Hold, now: float | None = None) -> bool:
    return lifecycle.is_live(hold, now if now is not None else clock.now())


def extend(company_id: int, hold_id: str, hold_seconds: int) -> Hold:
    """Push the expiry to now + hold time, at most MAX_EXTENSIONS times, while it is live."""
    hold = get(company_id, hold_id)
    now = clock.now()
    if hold.claim_days:
        return extend_many([hold], hold_seconds, "reservation_id")[0]  # its time claim lapses later too
    actions, condition = _extension(hold, now, hold_seconds, "reservation_id")
    if refused(lambda: hold.update(actions=actions, condition=condition)):
        raise Conflict("the reservation changed meanwhile; read it and retry", code=ErrorCode.HOLD_EXPIRED)
    return hold


def extend_many(placed: Sequence[Hold], hold_seconds: int, field: str) -> list[Hold]:
    """Extend several holds in one transaction (a basket's keep-alive): all or none."""
    now = clock.now()
    updates = [(hold, *_extension(hold, now, hold_seconds, field)) for hold in placed]

    def build(tx: Transaction) -> None:
        for hold, actions, condition in updates:
            tx.update(hold, actions=list(actions), condition=condition)
            time_claims.extend_hold(tx, hold)

    transact(
        build, lambda _: Conflict("a hold changed meanwhile; read the basket and retry", code=ErrorCode.HOLD_EXPIRED)
    )
    return list(placed)


def _extension(hold: Hold, now: float, hold_seconds: int, field: str) -> tuple[list[UpdateAction], Condition]:
    if not is_live(hold, now):
        raise Conflict("the hold has expired or ended", code=ErrorCode.HOLD_EXPIRED, field=field)
    if hold.extensions >= MAX_EXTENSIONS:
        raise Conflict(f"a hold can be extended {MAX_EXTENSIONS} times", code=ErrorCode.EXTENSION_LIMIT, field=field)
    expires_at = int(now + hold_seconds)
    _index(hold, expires_at)
    hold.expires_at = expires_at
    hold.extensions = hold.extensions + 1
    actions: list[UpdateAction] = [
        Hold.expires_at.set(expires_at),
        Hold.extensions.add(1),
        Hold.gsi1sk.set(hold.gsi1sk or ""),
        Hold.xsk.set(hold.xsk or ""),
    ]
    condition = (Hold.status == HoldStatus.ACTIVE) & (Hold.expires_at > int(now)) & (Hold.extensions < MAX_EXTENSIONS)
    return actions, condition


def _end(tx: Transaction, hold: Hold, status: HoldStatus, condition_live: bool, now: float) -> None:
    condition = Hold.status == HoldStatus.ACTIVE
    condition &= (Hold.expires_at > int(now)) if condition_live else (Hold.expires_at <= int(now))
    tx.update(
        hold,
        actions=[
            Hold.status.set(status),
            Hold.gsi1pk.remove(),
            Hold.gsi1sk.remove(),
            Hold.xpk.remove(),
            Hold.xsk.remove(),
            Hold.ttl.set(int(now) + 7 * 86_400),
        ],
        condition=condition,
        return_values="ALL_OLD",
    )


def convert(tx: Transaction, hold: Hold, now: float) -> None:
    """Inside the booking's transaction: the hold ends and its seats become booked."""
    _end(tx, hold, HoldStatus.CONVERTED, condition_live=True, now=now)
    capacity.convert(tx, hold.capacity_id, {k: v for k, v in _shards(hold).items()})
    if waitlist.offer_entry_id(hold):
        waitlist.settle(tx, hold, EntryStatus.BOOKED)  # booked with the offer: out of the queue


def expire(hold: Hold, now: float | None = None) -> bool:
    """Release a lapsed hold's seats; False when it had already ended (or is not due)."""
    moment = now if now is not None else clock.now()

    def build(tx: Transaction) -> None:
        _end(tx, hold, HoldStatus.EXPIRED, condition_live=False, now=moment)
        if waitlist.offer_entry_id(hold):
            waitlist.settle(tx, hold, EntryStatus.LAPSED)
        give_back(tx, int(hold.company_id), hold.capacity_id, _shards(hold), held=True)
        time_claims.release_hold(tx, hold)
        outbox.add(
            tx,
            "hold.expired",
            hold.company_id,
            hold.hold_id,
            snapshot(hold) | {"status": HoldStatus.EXPIRED.value},
        )

    return transact(build, lambda _: None)


def reclaim_lapsed(capacity_id: str, shards: Iterable[int]) -> int:
    """Release the seats of lapsed holds on the given shards of one capacity now (only those
    that hold seats can list one); how many holds were released."""
    return sum(1 for hold in capacity.lapsed_holds(capacity_id, shards) if expire(hold))


def release(company_id: int, hold_id: str) -> Hold:
    """End a live hold on request (a basket item removed); its seats are free at once."""
    hold = get(company_id, hold_id)
    now = clock.now()

    def build(tx: Transaction) -> None:
        end_released(tx, hold, now)

    ended = Conflict("the reservation has already ended", code=ErrorCode.HOLD_EXPIRED, field="reservation_id")
    transact(build, lambda _: ended)
    hold.status = HoldStatus.RELEASED
    return hold


def end_released(tx: Transaction, hold: Hold, now: float) -> None:
    """Inside a caller's transaction: a live hold ends as released, its seats free at once."""
    _end(tx, hold, HoldStatus.RELEASED, condition_live=True, now=now)
    give_back(tx, int(hold.company_id), hold.capacity_id, _shards(hold), held=True)
    time_claims.release_hold(tx, hold)
    outbox.add(
        tx, "hold.released", hold.company_id, hold.hold_id, snapshot(hold) | {"status": HoldStatus.RELEASED.value}
    )


def _shards(hold: Hold) -> dict[str, int]:
    return capacity.from_list(hold.seat_shards)


# --- waitlist offers -------------------------------------------------------------------------------


def give_back(
    tx: Transaction,
    company_id: int,
    capacity_id: str,
    shard_seats: Mapping[str, int],
    *,
    held: bool = False,
    promotion: Promotion = Promotion.IN_TRANSACTION,
) -> None:
    """Inside the transaction that frees seats (a cancel, a hold ending): the head of the
    capacity's waitlist is offered them first, each entry a hold for its offer window,
    placed on the freed shards; only what the queue does not take becomes available.

    The head is read inside the build, so a retried transaction reads it again; an entry
    offered meanwhile by another freeing transaction refuses this one, which re-reads
    (``waitlist.offer`` marks it). ``Promotion.AFTERWARDS`` (the control run) only frees.
    """
    if not any(int(seats) for seats in shard_seats.values()):
        return
    offered = offer_seats(tx, company_id, capacity_id, shard_seats) if promotion is Promotion.IN_TRANSACTION else {}
    capacity.pass_on(tx, capacity_id, shard_seats, offered, held=held)


def offer_seats(tx: Transaction, company_id: int, capacity_id: str, shard_seats: Mapping[str, int]) -> ShardSeats:
    """Inside the transaction that frees or adds ``shard_seats``: the waitlist's head gets them,
    one offer hold per entry; returns how many seats were offered per shard (the caller's
    shard updates hold them instead of making them available)."""
    offered: ShardSeats = {}
    left = {shard: int(seats) for shard, seats in sorted(shard_seats.items())}
    for entry in waitlist.head(capacity_id, sum(left.values())):
        placed = _carve(left, int(entry.seats))
        hold = _offer_hold(company_id, capacity_id, entry)
        _place_on(hold, placed)
        tx.save(hold, condition=Hold.pk.does_not_exist())
        waitlist.offer(tx, entry, hold)
        for shard, seats in placed.items():
            offered[shard] = offered.get(shard, 0) + seats
    return offered


def _carve(left: dict[str, int], seats: int) -> ShardSeats:
    """Take ``seats`` from the freed shards in order (``left`` shrinks)."""
    placed: ShardSeats = {}
    for shard in sorted(left):
        share = min(left[shard], seats - sum(placed.values()))
        if share > 0:
            placed[shard] = share
            left[shard] -= share
    return placed


def _offer_hold(company_id: int, capacity_id: str, entry: WaitlistEntry) -> Hold:
    details: dict[str, Any] = {"customer": plain_map(entry.customer), "waitlist_entry_id": entry.entry_id}
    if entry.owner_booking_id:
        details["graph"] = "group_customer"
    if entry.event_id is not None:
        details["event_id"] = int(entry.event_id)
    if entry.event_info:  # an event's or a service slot's: what the offer's purchase books
        details["event_info"] = plain_map(entry.event_info)
    return new_hold(
        company_id, capacity_id, int(entry.seats), int(entry.offer_seconds), details, entry.owner_booking_id
    )


def join_waitlist(queue: waitlist.Queue, customer: Mapping[str, Any], seats: int, offer_seconds: int) -> WaitlistEntry:
    """Join a full capacity's queue. Seats freed between the join's "full" check and its write
    went out with an empty queue; they are offered to the head now (taken like any booker's,
    so an outside booker may have them first), so nobody waits while seats sit free."""
    entry = waitlist.join(queue, customer, seats, offer_seconds)
    free = capacity.read(queue.capacity_id, queue.shards).available
    if free > 0:
        promote_afterwards(queue.company_id, queue.capacity_id, queue.shards, free)
        return waitlist.get(queue.company_id, queue.capacity_id, entry.entry_id)
    return entry


def promote_afterwards(company_id: int, capacity_id: str, shards: int, seats: int) -> None:
    """Offers taken by transactions of their own, after the seats were free: an outside booker
    can take them first. The race test's control run promotes this way (it must lose seats);
    a join uses it for seats freed while it was being written (see join_waitlist)."""
    for entry in waitlist.head(capacity_id, seats):
        hold = _offer_hold(company_id, capacity_id, entry)

        def writes(tx: Transaction, shard_seats: ShardSeats, hold: Hold = hold, entry: WaitlistEntry = entry) -> None:
            _place_on(hold, shard_seats)
            tx.save(hold, condition=Hold.pk.does_not_exist())
            waitlist.offer(tx, entry, hold)

        try:
            capacity.take(capacity_id, int(entry.seats), shards, writes, reclaim=reclaim_lapsed, hold=True)
        except (capacity.NoSpaceLeft, TransactionFailed):
            return  # taken by someone outside the queue, or the entry by another promoter


def release_offer(tx: Transaction, hold_id: str) -> None:
    """Inside a customer's leaving: the offer's hold ends, its seats pass to the next in line."""
    db.ensure_bound()
    hold = Hold.get(keys.hold_pk(hold_id), keys.HOLD_SK, consistent_read=True)
    end_released(tx, hold, clock.now())


def leave_waitlist(entry: WaitlistEntry) -> WaitlistEntry:
    """A customer leaves the queue; leaving with a live offer passes its seats on at once."""
    if entry.status == EntryStatus.OFFERED and entry.hold_id:
        hold = Hold.get(keys.hold_pk(entry.hold_id), keys.HOLD_SK, consistent_read=True)
        if hold.status == HoldStatus.ACTIVE and not is_live(hold):
            expire(hold)  # lapsed before the sweeper came: it ends as lapsed, not left
            raise Conflict("the offer has lapsed", code=ErrorCode.WAITLIST_LEFT, field="entry_id")
    return waitlist.leave(entry, release_offer=release_offer)
