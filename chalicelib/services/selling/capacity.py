"""Seats: the one place capacity changes. Every change is one conditional transaction.

A bookable's capacity is split over N shard items (N = 1 unless a big on-sale
asks for more), each with its own cap, because one item takes only ~500
transactional writes/s. Taking seats tries shards one by one, each attempt one
transaction holding the shard's conditional update (``open`` and
``available >= n``) together with the caller's own writes (the booking, its log,
its outbox event). Sold out means every shard refused, after lapsed holds were
reclaimed. Releases are unconditional on the shard: the caller's compare-and-set
on the booking or hold in the same transaction is what makes them happen once.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import seats as seat_rule
from chalicelib.domain.errors import Conflict, ErrorCode
from chalicelib.domain.lifecycle import HoldStatus
from chalicelib.domain.seats import ENFORCED, SeatRule, ShardSeats, ShardState
from chalicelib.store import db, keys
from chalicelib.store.errors import ItemNotFound, TransactionFailed, refused
from chalicelib.store.expressions import Condition, UpdateAction
from chalicelib.store.models import CapacityShard, Hold, plain_map
from chalicelib.store.transact import OnConditionFailed, Refusal, Transaction, is_conflict, refusal, transact


def as_list(shard_seats: Mapping[str, int]) -> list[dict[str, Any]]:
    """How seat placements are stored: a list, which Step Functions can index."""
    return [{"shard": shard, "seats": seats} for shard, seats in sorted(shard_seats.items())]


def from_list(stored: Any) -> dict[str, int]:
    placed: dict[str, int] = {}
    for entry in stored or []:
        plain = plain_map(entry)
        placed[str(plain["shard"])] = placed.get(str(plain["shard"]), 0) + int(plain["seats"])
    return placed


Writes = Callable[[Transaction, ShardSeats], None]
# Releases the seats of one capacity's lapsed holds (holds.reclaim_lapsed); passed in by the
# caller so that the ledger does not import holds, which builds on it.
Reclaim = Callable[[str, Iterable[int]], object]  # (capacity, the shards that hold seats)


class NoSpaceLeft(Conflict):
    code = ErrorCode.NO_SPACE_LEFT
    closed: bool = False
    """A shard that refused was closed (its bookable stopped taking seats), not only full."""


@dataclass(frozen=True)
class Availability:
    capacity: int
    booked: int
    held: int
    available: int
    open: bool


def open_capacity(tx: Transaction, capacity_id: str, company_id: int, total: int, shards: int) -> None:
    """New capacity of ``total`` seats over ``shards`` items (caps differ by at most one)."""
    for shard, cap in enumerate(seat_rule.caps(total, shards)):
        tx.save(
            CapacityShard(
                keys.shard_pk(capacity_id, keys.shard_sk(shard)),
                keys.shard_sk(shard),
                company_id=company_id,
                capacity=cap,
                booked=0,
                held=0,
                available=cap,
                open=True,
            ),
            condition=CapacityShard.pk.does_not_exist(),
        )


def open_once(capacity_id: str, company_id: int, total: int) -> bool:
    """Open a one-shard capacity lazily (a service slot on its first add_item); True if this call did.

    A consistent read first, so later takers pay no failed write; then a put conditional
    on the item not existing, so of two racing first takers exactly one opens it and
    the other simply goes on to take seats from it (never resetting its counters).
    """
    db.ensure_bound()
    sk = keys.shard_sk(0)
    pk = keys.shard_pk(capacity_id, sk)
    try:
        CapacityShard.get(pk, sk, consistent_read=True)
        return False
    except ItemNotFound:
        pass
    shard = CapacityShard(pk, sk, company_id=company_id, capacity=total, booked=0, held=0, available=total, open=True)
    return not refused(lambda: shard.save(condition=CapacityShard.pk.does_not_exist()))


FULL_SECONDS = 5.0
"""How long this process remembers that a shard showed no seat free (issue 15). A refused
transaction costs its shard 2 write units, as much as a booking: near the end of an on-sale,
trying full shards at random would pour refusals onto the busiest partitions. So a process
first tries shards it has not seen full, and when it has seen all of them full it reads them
(a consistent BatchGetItem: read units, not write units) instead of trying. Only the first
choice depends on this memory: every take still goes through the shard's condition, and seats
that come back (a cancellation, a lapsed hold) are found by that read."""
_full: dict[str, tuple[float, frozenset[str]]] = {}
_full_lock = threading.Lock()


def _remember(capacity_id: str, state: Sequence[ShardState]) -> None:
    seen_full = {shard.sk for shard in state if shard.available <= 0 or not shard.open}
    seen_room = {shard.sk for shard in state} - seen_full
    now = time.monotonic()
    with _full_lock:
        before = _full.get(capacity_id)
        known = before[1] if before is not None and now - before[0] < FULL_SECONDS else frozenset()
        if len(_full) > 10_000:
            _full.clear()
        _full[capacity_id] = (now, frozenset((known - seen_room) | seen_full))


def _known_full(capacity_id: str) -> frozenset[str]:
    with _full_lock:
        found = _full.get(capacity_id)
    return found[1] if found is not None and time.monotonic() - found[0] < FULL_SECONDS else frozenset()


def forget_full_shards() -> None:
    with _full_lock:
        _full.clear()


def _first_choice(capacity_id: str, shards: int) -> str | None:
    """A random shard this process has not recently seen full; None when it saw all of them full."""
    known = _known_full(capacity_id)
    candidates = [sk for sk in (keys.shard_sk(n) for n in range(shards)) if sk not in known]
    return random.choice(candidates) if candidates else None


def fits_condition(seats: int, rule: SeatRule = ENFORCED) -> Condition:
    """The seat rule (``seats.fits``) as the condition of a shard's update."""
    condition = CapacityShard.open == True  # noqa: E712 (a PynamoDB condition, not a comparison)
    if rule.enforced:
        condition &= CapacityShard.available >= seats
    return condition


def _take(tx: Transaction, capacity_id: str, shard_seats: Mapping[str, int], *, hold: bool, rule: SeatRule) -> None:
    for shard, seats in shard_seats.items():
        counter = CapacityShard.held if hold else CapacityShard.booked
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard), shard),
            actions=[CapacityShard.available.add(-seats), counter.add(seats)],
            condition=fits_condition(seats, rule),
            return_values="ALL_OLD",
        )


def take(
    capacity_id: str,
    seats: int,
    shards: int,
    writes: Writes,
    *,
    reclaim: Reclaim,
    hold: bool = False,
    rule: SeatRule = ENFORCED,
) -> ShardSeats:
    """Take ``seats`` (booked, or held) in one transaction with ``writes``; all or none.

    Tries one shard at random. A refusal returns that shard's counters, so with one
    shard nothing more is read; with several, every shard is read once (one
    consistent Query) and only those showing room are tried, then a split over
    several. Lapsed holds are reclaimed (only if anything is held) and the shards
    looked at once more. Returns where the seats were taken; raises NoSpaceLeft
    (409) with the seats still free.
    """

    def attempt(shard_seats: ShardSeats) -> list[ShardState] | None:
        """None when taken; else the refusing shards' counters. Other refusals propagate."""
        refused = _attempt_many(
            {capacity_id: shard_seats},
            lambda tx, plan: writes(tx, plan[capacity_id]),
            hold=hold,
            rule=rule,
            on_condition_failed=None,
        )
        return None if refused is None else refused.get(capacity_id, [])

    first = _first_choice(capacity_id, shards)
    if first is not None:
        refused = attempt({first: seats})
        if refused is None:
            return {first: seats}
        state = refused if shards == 1 else read_shards(capacity_id, shards)
    else:
        state = read_shards(capacity_id, shards)  # all seen full lately: read rather than be refused
    _remember(capacity_id, state)
    for last_look in (False, True):
        roomy = seat_rule.roomy(state, seats, skip={first} if first is not None and not last_look else ())
        for shard in random.sample(roomy, len(roomy)):
            if attempt({shard: seats}) is None:
                return {shard: seats}
        split = seat_rule.split(state, seats) if shards > 1 else {}
        if split and attempt(split) is None:
            return split
        if last_look or not seat_rule.may_hold_lapsed(state):
            break
        reclaim(capacity_id, _holding(state))
        # Look again even when a concurrent taker released the lapsed holds first: the seats are back.
        state = read_shards(capacity_id, shards)
        _remember(capacity_id, state)
    raise _sold_out(state, seats)


def _sold_out(state: list[ShardState], seats: int, **extra: Any) -> NoSpaceLeft:
    free = seat_rule.free(state)
    error = NoSpaceLeft(
        f"only {free} of the {seats} seats asked for are free", field="seats", extra={"seats_free": free, **extra}
    )
    error.closed = any(not shard.open for shard in state)
    return error


@dataclass(frozen=True)
class Ask:
    """Seats wanted on one capacity, as part of a take on several."""

    capacity_id: str
    seats: int
    shards: int = 1


MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems
MAX_ROUNDS = 32  # each round past the first follows someone else's change or our reclaim
ManyWrites = Callable[[Transaction, dict[str, ShardSeats]], None]


def take_many(
    asks: Sequence[Ask],
    writes: ManyWrites,
    *,
    reclaim: Reclaim,
    hold: bool = False,
    rule: SeatRule = ENFORCED,
    on_condition_failed: OnConditionFailed | None = None,
) -> dict[str, ShardSeats]:
    """Take seats on several capacities in one transaction with ``writes``: all or none.

    A course takes a space on every one of its events this way. Each capacity starts
    on a random shard; a refusal says which capacity refused (its shard's old image),
    and only that capacity is looked at again (another shard, a split, lapsed holds
    reclaimed once). The caller's writes plus one shard update per capacity must fit
    one transaction (MAX_TRANSACTION_ITEMS). Sold out anywhere: NoSpaceLeft naming
    the capacity, and nothing was taken anywhere. A refusal by one of ``writes``'
    own conditions goes to ``on_condition_failed`` (see ``transact``).
    """
    by_id = {ask.capacity_id: ask for ask in asks}
    if len(by_id) != len(asks):
        raise ValueError("one ask per capacity")
    reclaimed: set[str] = set()
    plan = {ask.capacity_id: _first_plan(ask, reclaimed, reclaim) for ask in asks}
    for _round in range(MAX_ROUNDS):
        refused = _attempt_many(plan, writes, hold=hold, rule=rule, on_condition_failed=on_condition_failed)
        if refused is None:
            return plan
        for capacity_id, old in refused.items():
            plan[capacity_id] = _replan(by_id[capacity_id], old, reclaimed, reclaim)
    raise Conflict("the seats kept changing while we tried; retry", code=ErrorCode.BUSY)


def _first_plan(ask: Ask, reclaimed: set[str], reclaim: Reclaim) -> ShardSeats:
    first = _first_choice(ask.capacity_id, ask.shards)
    if first is not None:
        return {first: ask.seats}
    # Every shard seen full lately: plan from a read rather than from a refusal (FULL_SECONDS).
    return _replan(ask, [], reclaimed, reclaim, read=True)


def _replan(
    ask: Ask, old: list[ShardState], reclaimed: set[str], reclaim: Reclaim, *, read: bool = False
) -> ShardSeats:
    """Where to try next on a capacity that refused, or NoSpaceLeft.

    One shard: its old image is exact (the condition saw it). Several (or ``read``): read them all.
    """
    state = old if ask.shards == 1 and not read else read_shards(ask.capacity_id, ask.shards)
    _remember(ask.capacity_id, state)
    for _look in range(2):
        plan = seat_rule.replan(state, ask.seats, sharded=ask.shards > 1)
        if plan:
            return plan
        if ask.capacity_id in reclaimed or not seat_rule.may_hold_lapsed(state):
            break
        reclaimed.add(ask.capacity_id)
        reclaim(ask.capacity_id, _holding(state))
        # Look again even when another taker released the lapsed holds first: the seats are back.
        state = read_shards(ask.capacity_id, ask.shards)
        _remember(ask.capacity_id, state)
    raise _sold_out(state, ask.seats, capacity_id=ask.capacity_id)


def _attempt_many(
    plan: Mapping[str, ShardSeats],
    writes: ManyWrites,
    *,
    hold: bool,
    rule: SeatRule,
    on_condition_failed: OnConditionFailed | None,
) -> dict[str, list[ShardState]] | None:
    """None when taken; else the refusing shards' old images by capacity. Other refusals propagate."""
    capacity_of = {keys.shard_pk(cid, shard): cid for cid, taken in plan.items() for shard in taken}
    refusing: dict[str, list[ShardState]] = {}

    def build(tx: Transaction) -> None:
        for capacity_id, shard_seats in plan.items():
            _take(tx, capacity_id, shard_seats, hold=hold, rule=rule)
        writes(tx, dict(plan))

    def sort_out(refused: Refusal) -> BaseException | None:
        for key, item in refused.images.items():
            if key[0] in capacity_of:
                refusing.setdefault(capacity_of[key[0]], []).append(_state(item))
        if refusing:
            return None
        # a refusal that is not a shard's is the caller's (its own writes' conditions)
        return (on_condition_failed(refused) if on_condition_failed else None) or refused.error

    try:
        if transact(build, on_condition_failed=sort_out):
            return None
    except TransactionFailed as error:
        if refusal(error) is not None or not is_conflict(error):
            raise
    return refusing  # conflicts every time: empty, so the caller tries the same plan again


def _holding(state: Sequence[ShardState]) -> list[int]:
    """The shards that hold seats: only their hold listings can hold a lapsed hold."""
    return [keys.shard_number(shard.sk) for shard in state if shard.held > 0]


def _state(item: Mapping[str, Any]) -> ShardState:
    return ShardState(
        sk=item["sk"]["S"],
        available=int(item["available"]["N"]),
        held=int(item.get("held", {}).get("N", 0)),
        open=bool(item.get("open", {}).get("BOOL", True)),
    )


def release(tx: Transaction, capacity_id: str, shard_seats: Mapping[str, int], *, held: bool = False) -> None:
    counter = CapacityShard.held if held else CapacityShard.booked
    for shard, seats in shard_seats.items():
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard), shard),
            actions=[CapacityShard.available.add(seats), counter.add(-seats)],
        )


def pass_on(
    tx: Transaction,
    capacity_id: str,
    freed: Mapping[str, int],
    offered: Mapping[str, int],
    *,
    held: bool = False,
) -> None:
    """Seats leave a booking (or a hold, ``held``) and, per shard, ``offered[shard]`` of them go
    straight to a waitlist offer's hold: they become held without ever being available, so
    nobody outside the queue can take them; the rest are released. One update per shard."""
    for shard, seats in freed.items():
        to_offer = int(offered.get(shard, 0))
        if not 0 <= to_offer <= int(seats):
            raise ValueError("an offer takes at most the seats freed on its shard")
        given_back = int(seats) - to_offer
        actions: list[UpdateAction]
        if held:
            actions = [CapacityShard.available.add(given_back), CapacityShard.held.add(-given_back)]
        else:
            actions = [
                CapacityShard.available.add(given_back),
                CapacityShard.booked.add(-int(seats)),
                CapacityShard.held.add(to_offer),
            ]
        tx.update(CapacityShard(keys.shard_pk(capacity_id, shard), shard), actions=actions)


def convert(tx: Transaction, capacity_id: str, shard_seats: Mapping[str, int]) -> None:
    """Held seats become booked without ever being free in between (not once the group closed)."""
    for shard, seats in shard_seats.items():
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard), shard),
            actions=[CapacityShard.held.add(-seats), CapacityShard.booked.add(seats)],
            condition=CapacityShard.open == True,  # noqa: E712
            return_values="ALL_OLD",
        )


def close(tx: Transaction, capacity_id: str, shards: int) -> None:
    """No more seats can be taken (the owner is cancelling the whole group)."""
    for shard in range(shards):
        tx.update(
            _shard(capacity_id, shard),
            actions=[CapacityShard.open.set(False)],
        )


def _shard(capacity_id: str, shard: int) -> CapacityShard:
    sk = keys.shard_sk(shard)
    return CapacityShard(keys.shard_pk(capacity_id, sk), sk)


def _shard_items(capacity_id: str, shards: int) -> list[CapacityShard]:
    """Every shard, consistently: one BatchGetItem (each shard is its own partition)."""
    db.ensure_bound()
    wanted = [(keys.shard_pk(capacity_id, keys.shard_sk(n)), keys.shard_sk(n)) for n in range(shards)]
    found = CapacityShard.batch_get(wanted, consistent_read=True)
    return sorted((item for item in found if isinstance(item, CapacityShard)), key=lambda item: str(item.sk))


def read_shards(capacity_id: str, shards: int) -> list[ShardState]:
    return [
        ShardState(sk=s.sk, available=s.available, held=s.held, open=bool(s.open))
        for s in _shard_items(capacity_id, shards)
    ]


def read(capacity_id: str, shards: int) -> Availability:
    """Counters summed over shards, lapsed holds counted as free (the sweeper only tidies up)."""
    items = _shard_items(capacity_id, shards)
    anything_held = any(shard.held > 0 for shard in items)
    holding = [keys.shard_number(shard.sk) for shard in items if shard.held > 0]
    lapsed = sum(hold.seats for hold in lapsed_holds(capacity_id, holding)) if anything_held else 0
    held = sum(s.held for s in items) - lapsed
    return Availability(
        capacity=sum(s.capacity for s in items),
        booked=sum(s.booked for s in items),
        held=max(held, 0),
        available=sum(s.available for s in items) + lapsed,
        open=all(bool(s.open) for s in items),
    )


def lapsed_holds(capacity_id: str, shards: Iterable[int], now: float | None = None) -> list[Hold]:
    """Lapsed active holds listed under the given shards' partitions (one Query each)."""
    db.ensure_bound()
    moment = db.iso_epoch(now if now is not None else clock.now())
    found: list[Hold] = []
    for shard in shards:
        for hold in Hold.listing.query(keys.capacity_holds(capacity_id, shard), Hold.gsi1sk <= moment):
            if isinstance(hold, Hold) and hold.status == HoldStatus.ACTIVE:
                found.append(hold)
    return found


# Given the seats a resize adds per shard, places the waitlist's offers on them and says how
# many per shard (holds.offer_seats); passed in, like Reclaim, so the ledger does not import holds.
Offer = Callable[[Transaction, Mapping[str, int]], Mapping[str, int]]


def resize(tx: Transaction, capacity_id: str, shards: int, new_total: int, *, offer: Offer | None = None) -> None:
    """Set the capacity to ``new_total`` (caps spread as open_capacity does), never below what is taken.

    Per shard: compare-and-set on the cap read here, and a shrink needs
    ``available >= shrink`` so booked and held seats always fit. Reclaim lapsed holds
    first if they should not count. A refusal cancels the caller's transaction. Seats a
    growth adds go to ``offer`` first (the waitlist), held for it, never available.
    """
    caps = seat_rule.caps(new_total, shards)
    items = _shard_items(capacity_id, shards)
    deltas = {str(s.sk): caps[int(s.sk.removeprefix(keys.SHARD_PREFIX))] - s.capacity for s in items}
    grown = {sk: delta for sk, delta in deltas.items() if delta > 0}
    offered = offer(tx, grown) if offer is not None and grown else {}
    for shard in items:
        delta = deltas[str(shard.sk)]
        if delta == 0:
            continue
        condition = CapacityShard.capacity == shard.capacity
        if delta < 0:
            condition &= CapacityShard.available >= -delta
        to_offer = int(offered.get(str(shard.sk), 0))
        actions: list[UpdateAction] = [CapacityShard.capacity.add(delta), CapacityShard.available.add(delta - to_offer)]
        if to_offer:
            actions.append(CapacityShard.held.add(to_offer))
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard.sk), shard.sk),
            actions=actions,
            condition=condition,
            return_values="ALL_OLD",
        )


def retire(tx: Transaction, capacity_id: str, shards: int) -> None:
    """Close a capacity for good, only while nothing is booked or held on it (its bookable is going away)."""
    for shard in range(shards):
        tx.update(
            _shard(capacity_id, shard),
            actions=[CapacityShard.open.set(False)],
            condition=(CapacityShard.booked == 0) & (CapacityShard.held == 0),
            return_values="ALL_OLD",
        )
