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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import Conflict
from chalicelib.store import db, keys
from chalicelib.store.models import CapacityShard, Hold, Item

# Test-only switch: the control run of the concurrency proof turns the capacity
# condition off and MUST oversell, which shows the test can see the race.
CHECK_CAPACITY = True

CONFLICT_RETRIES = 8
ShardSeats = dict[str, int]


def as_list(shard_seats: Mapping[str, int]) -> list[dict[str, Any]]:
    """How seat placements are stored: a list, which Step Functions can index."""
    return [{"shard": shard, "seats": int(seats)} for shard, seats in sorted(shard_seats.items())]


def from_list(stored: Any) -> dict[str, int]:
    placed: dict[str, int] = {}
    for entry in stored or []:
        plain = entry.as_dict() if hasattr(entry, "as_dict") else dict(entry)
        placed[str(plain["shard"])] = placed.get(str(plain["shard"]), 0) + int(plain["seats"])
    return placed


Writes = Callable[[TransactWrite, ShardSeats], None]


class NoSpaceLeft(Conflict):
    code = "no_space_left"


@dataclass(frozen=True)
class ShardState:
    sk: str
    available: int
    held: int
    open: bool


@dataclass(frozen=True)
class Availability:
    capacity: int
    booked: int
    held: int
    available: int
    open: bool


def transaction() -> TransactWrite:
    db.ensure_bound()
    return TransactWrite(connection=Item._get_connection().connection)


def reasons(error: TransactWriteError) -> list[tuple[str, tuple[str, str] | None, dict[str, Any]]]:
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


def failed_condition(error: TransactWriteError) -> set[tuple[str, str] | None]:
    return {key for code, key, _item in reasons(error) if code == "ConditionalCheckFailed"}


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def run(build: Callable[[TransactWrite], None]) -> None:
    """One transaction, retried on conflicts with other transactions (never on refusals)."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            with transaction() as tx:
                build(tx)
            return
        except TransactWriteError as error:
            if not is_conflict(error) or attempt == CONFLICT_RETRIES - 1:
                raise
            backoff(attempt)


def open_capacity(tx: TransactWrite, capacity_id: str, company_id: int, total: int, shards: int) -> None:
    """New capacity of ``total`` seats over ``shards`` items (caps differ by at most one)."""
    for shard in range(shards):
        cap = total // shards + (1 if shard < total % shards else 0)
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
    except DoesNotExist:
        pass
    shard = CapacityShard(pk, sk, company_id=company_id, capacity=total, booked=0, held=0, available=total, open=True)
    try:
        shard.save(condition=CapacityShard.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _take(tx: TransactWrite, capacity_id: str, shard_seats: Mapping[str, int], *, hold: bool) -> None:
    for shard, seats in shard_seats.items():
        counter = CapacityShard.held if hold else CapacityShard.booked
        condition = CapacityShard.open == True  # noqa: E712
        if CHECK_CAPACITY:
            condition &= CapacityShard.available >= seats
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard), shard),
            actions=[CapacityShard.available.add(-seats), counter.add(seats)],
            condition=condition,
            return_values="ALL_OLD",
        )


def take(capacity_id: str, seats: int, shards: int, writes: Writes, *, hold: bool = False) -> ShardSeats:
    """Take ``seats`` (booked, or held) in one transaction with ``writes``; all or none.

    Tries one shard at random. A refusal returns that shard's counters, so with one
    shard nothing more is read; with several, every shard is read once (one
    consistent Query) and only those showing room are tried, then a split over
    several. Lapsed holds are reclaimed (only if anything is held) and the shards
    looked at once more. Returns where the seats were taken; raises NoSpaceLeft
    (409) with the seats still free.
    """
    first = keys.shard_sk(random.randrange(shards))
    refused = _attempt(capacity_id, {first: seats}, writes, hold=hold)
    if refused is None:
        return {first: seats}
    state = refused if shards == 1 else read_shards(capacity_id, shards)
    for last_look in (False, True):
        tried = {first} if not last_look else set()
        roomy = [s.sk for s in state if s.open and s.available >= seats and s.sk not in tried]
        for shard in random.sample(roomy, len(roomy)):
            if _attempt(capacity_id, {shard: seats}, writes, hold=hold) is None:
                return {shard: seats}
        split = _split(state, seats) if shards > 1 else {}
        if split and _attempt(capacity_id, split, writes, hold=hold) is None:
            return split
        # Counters say whether anything is held at all; only then can a hold have lapsed.
        if last_look or all(s.held <= 0 for s in state):
            break
        # Look again even when a concurrent taker released the lapsed holds first: the seats are back.
        reclaim_lapsed_holds(capacity_id, _holding(state))
        state = read_shards(capacity_id, shards)
    free = max(sum(s.available for s in state if s.open), 0)
    raise NoSpaceLeft(
        f"only {free} of the {seats} seats asked for are free",
        field="seats",
        extra={"seats_free": free},
    )


def _attempt(capacity_id: str, shard_seats: ShardSeats, writes: Writes, *, hold: bool) -> list[ShardState] | None:
    """None when taken; else the refusing shards' counters. Other refusals propagate."""
    refused = _attempt_many({capacity_id: shard_seats}, lambda tx, plan: writes(tx, plan[capacity_id]), hold=hold)
    return None if refused is None else refused.get(capacity_id, [])


@dataclass(frozen=True)
class Ask:
    """Seats wanted on one capacity, as part of a take on several."""

    capacity_id: str
    seats: int
    shards: int = 1


MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems
MAX_ROUNDS = 32  # each round past the first follows someone else's change or our reclaim
ManyWrites = Callable[[TransactWrite, dict[str, ShardSeats]], None]


def take_many(asks: Sequence[Ask], writes: ManyWrites, *, hold: bool = False) -> dict[str, ShardSeats]:
    """Take seats on several capacities in one transaction with ``writes``: all or none.

    A course takes a space on every one of its events this way. Each capacity starts
    on a random shard; a refusal says which capacity refused (its shard's old image),
    and only that capacity is looked at again (another shard, a split, lapsed holds
    reclaimed once). The caller's writes plus one shard update per capacity must fit
    one transaction (MAX_TRANSACTION_ITEMS). Sold out anywhere: NoSpaceLeft naming
    the capacity, and nothing was taken anywhere.
    """
    by_id = {ask.capacity_id: ask for ask in asks}
    if len(by_id) != len(asks):
        raise ValueError("one ask per capacity")
    plan = {ask.capacity_id: {keys.shard_sk(random.randrange(ask.shards)): ask.seats} for ask in asks}
    reclaimed: set[str] = set()
    for _round in range(MAX_ROUNDS):
        refused = _attempt_many(plan, writes, hold=hold)
        if refused is None:
            return plan
        for capacity_id, old in refused.items():
            plan[capacity_id] = _replan(by_id[capacity_id], old, reclaimed)
    raise Conflict("the seats kept changing while we tried; retry", code="busy")


def _replan(ask: Ask, old: list[ShardState], reclaimed: set[str]) -> ShardSeats:
    """Where to try next on a capacity that refused, or NoSpaceLeft.

    One shard: its old image is exact (the condition saw it). Several: read them all.
    """
    state = old if ask.shards == 1 else read_shards(ask.capacity_id, ask.shards)
    for _look in range(2):
        roomy = [s.sk for s in state if s.open and s.available >= ask.seats]
        if roomy:
            return {random.choice(roomy): ask.seats}
        split = _split(state, ask.seats) if ask.shards > 1 else {}
        if split:
            return split
        if ask.capacity_id in reclaimed or all(s.held <= 0 for s in state):
            break
        reclaimed.add(ask.capacity_id)
        # Look again even when another taker released the lapsed holds first: the seats are back.
        reclaim_lapsed_holds(ask.capacity_id, _holding(state))
        state = read_shards(ask.capacity_id, ask.shards)
    free = max(sum(s.available for s in state if s.open), 0)
    raise NoSpaceLeft(
        f"only {free} of the {ask.seats} seats asked for are free",
        field="seats",
        extra={"seats_free": free, "capacity_id": ask.capacity_id},
    )


def _attempt_many(
    plan: Mapping[str, ShardSeats], writes: ManyWrites, *, hold: bool
) -> dict[str, list[ShardState]] | None:
    """None when taken; else the refusing shards' old images by capacity. Other refusals propagate."""
    capacity_of = {keys.shard_pk(cid, shard): cid for cid, taken in plan.items() for shard in taken}
    for attempt in range(CONFLICT_RETRIES):
        try:
            with transaction() as tx:
                for capacity_id, shard_seats in plan.items():
                    _take(tx, capacity_id, shard_seats, hold=hold)
                writes(tx, dict(plan))
            return None
        except TransactWriteError as error:
            found = reasons(error)
            refusing: dict[str, list[ShardState]] = {}
            for code, key, item in found:
                if code == "ConditionalCheckFailed" and key and key[0] in capacity_of:
                    refusing.setdefault(capacity_of[key[0]], []).append(_state(item))
            if refusing:
                return refusing
            if any(code == "ConditionalCheckFailed" for code, _key, _item in found) or not is_conflict(error):
                raise
            backoff(attempt)
    return {}


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


def _split(state: list[ShardState], seats: int) -> ShardSeats:
    """Spread a request over shards by what they showed free (checked again on write)."""
    plan: ShardSeats = {}
    left = seats
    for shard in state:
        share = min(left, max(shard.available, 0)) if shard.open else 0
        if share > 0:
            plan[shard.sk] = share
            left -= share
        if left == 0:
            break
    return plan if left == 0 and len(plan) > 1 else {}


def release(tx: TransactWrite, capacity_id: str, shard_seats: Mapping[str, int], *, held: bool = False) -> None:
    counter = CapacityShard.held if held else CapacityShard.booked
    for shard, seats in shard_seats.items():
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard), shard),
            actions=[CapacityShard.available.add(int(seats)), counter.add(-int(seats))],
        )


def convert(tx: TransactWrite, capacity_id: str, shard_seats: Mapping[str, int]) -> None:
    """Held seats become booked without ever being free in between (not once the group closed)."""
    for shard, seats in shard_seats.items():
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard), shard),
            actions=[CapacityShard.held.add(-int(seats)), CapacityShard.booked.add(int(seats))],
            condition=CapacityShard.open == True,  # noqa: E712
            return_values="ALL_OLD",
        )


def close(tx: TransactWrite, capacity_id: str, shards: int) -> None:
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
        ShardState(sk=s.sk, available=int(s.available), held=int(s.held), open=bool(s.open))
        for s in _shard_items(capacity_id, shards)
    ]


def read(capacity_id: str, shards: int) -> Availability:
    """Counters summed over shards, lapsed holds counted as free (the sweeper only tidies up)."""
    items = _shard_items(capacity_id, shards)
    anything_held = any(int(shard.held) > 0 for shard in items)
    holding = [keys.shard_number(shard.sk) for shard in items if int(shard.held) > 0]
    lapsed = sum(int(hold.seats) for hold in lapsed_holds(capacity_id, holding)) if anything_held else 0
    held = sum(int(s.held) for s in items) - lapsed
    return Availability(
        capacity=sum(int(s.capacity) for s in items),
        booked=sum(int(s.booked) for s in items),
        held=max(held, 0),
        available=sum(int(s.available) for s in items) + lapsed,
        open=all(bool(s.open) for s in items),
    )


def lapsed_holds(capacity_id: str, shards: Iterable[int], now: float | None = None) -> list[Hold]:
    """Lapsed active holds listed under the given shards' partitions (one Query each)."""
    db.ensure_bound()
    moment = db.iso_epoch(now if now is not None else time.time())
    found: list[Hold] = []
    for shard in shards:
        for hold in Hold.listing.query(keys.capacity_holds(capacity_id, shard), Hold.gsi1sk <= moment):
            if isinstance(hold, Hold) and hold.status == "active":
                found.append(hold)
    return found


def reclaim_lapsed_holds(capacity_id: str, shards: Iterable[int]) -> int:
    """Release the seats of lapsed holds on one capacity's given shards now; how many holds were released."""
    from chalicelib.services.selling import holds

    released = 0
    for hold in lapsed_holds(capacity_id, shards):
        if holds.expire(hold):
            released += 1
    return released


def resize(tx: TransactWrite, capacity_id: str, shards: int, new_total: int) -> None:
    """Set the capacity to ``new_total`` (caps spread as open_capacity does), never below what is taken.

    Per shard: compare-and-set on the cap read here, and a shrink needs
    ``available >= shrink`` so booked and held seats always fit. Reclaim lapsed holds
    first if they should not count. A refusal cancels the caller's transaction.
    """
    for shard in _shard_items(capacity_id, shards):
        number = int(shard.sk.removeprefix(keys.SHARD_PREFIX))
        cap = new_total // shards + (1 if number < new_total % shards else 0)
        delta = cap - int(shard.capacity)
        if delta == 0:
            continue
        condition = CapacityShard.capacity == int(shard.capacity)
        if delta < 0:
            condition &= CapacityShard.available >= -delta
        tx.update(
            CapacityShard(keys.shard_pk(capacity_id, shard.sk), shard.sk),
            actions=[CapacityShard.capacity.add(delta), CapacityShard.available.add(delta)],
            condition=condition,
            return_values="ALL_OLD",
        )


def retire(tx: TransactWrite, capacity_id: str, shards: int) -> None:
    """Close a capacity for good, only while nothing is booked or held on it (its bookable is going away)."""
    for shard in range(shards):
        tx.update(
            _shard(capacity_id, shard),
            actions=[CapacityShard.open.set(False)],
            condition=(CapacityShard.booked == 0) & (CapacityShard.held == 0),
            return_values="ALL_OLD",
        )
