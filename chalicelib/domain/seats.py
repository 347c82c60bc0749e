"""The seat rule: a booking cannot take more seats than remain.

A capacity's seats are spread over shards (one item each in the store, because one
item takes only ~500 transactional writes/s). A request fits a shard that is open
and shows at least that many seats free; when no single shard has room, it may be
split over several by what each showed free. The store turns :func:`fits` into the
condition of the shard's update (see ``services/selling/capacity.py``), so the rule
is checked again, atomically, on every write: what this module decides from a read
is only where to try.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

ShardSeats = dict[str, int]  # shard sort key -> seats taken there


@dataclass(frozen=True)
class ShardState:
    """One shard's counters as read (or as a refused write saw them)."""

    sk: str
    available: int
    held: int
    open: bool


@dataclass(frozen=True)
class SeatRule:
    """Whether a write must find the seats free.

    Always enforced, except in the race tests' control run (:data:`UNCHECKED`),
    which must oversell to show that the test can see the race it claims to win.
    """

    enforced: bool = True


ENFORCED = SeatRule()
UNCHECKED = SeatRule(enforced=False)


def fits(shard: ShardState, seats: int) -> bool:
    return shard.open and shard.available >= seats


def caps(total: int, shards: int) -> list[int]:
    """Each shard's cap: ``total`` spread over ``shards``, caps differing by at most one."""
    return [total // shards + (1 if shard < total % shards else 0) for shard in range(shards)]


def roomy(state: Sequence[ShardState], seats: int, skip: Collection[str] = ()) -> list[str]:
    """The shards that could take all ``seats`` on their own (those in ``skip`` aside)."""
    return [shard.sk for shard in state if fits(shard, seats) and shard.sk not in skip]


def split(state: Sequence[ShardState], seats: int) -> ShardSeats:
    """Spread a request over several shards by what they showed free; {} when it does not fit."""
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


def replan(
    state: Sequence[ShardState], seats: int, *, sharded: bool, pick: Callable[[list[str]], str] = random.choice
) -> ShardSeats:
    """Where to try next: one shard with room (picked at random), else a split; {} when nothing fits."""
    room = roomy(state, seats)
    if room:
        return {pick(room): seats}
    return split(state, seats) if sharded else {}


def free(state: Sequence[ShardState]) -> int:
    """Seats still free over the open shards (never negative)."""
    return max(sum(shard.available for shard in state if shard.open), 0)


def may_hold_lapsed(state: Sequence[ShardState]) -> bool:
    """Only when something is held can a hold have lapsed (and its seats be reclaimed)."""
    return any(shard.held > 0 for shard in state)
