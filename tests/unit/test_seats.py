"""The seat rule without a database: fits, split, replan, caps."""

from __future__ import annotations

from chalicelib.domain import seats
from chalicelib.domain.seats import ShardState


def _shard(sk: str, available: int, held: int = 0, open_: bool = True) -> ShardState:
    return ShardState(sk=sk, available=available, held=held, open=open_)


def test_a_request_fits_an_open_shard_with_that_many_seats_free() -> None:
    assert seats.fits(_shard("S#0", 3), 3)
    assert not seats.fits(_shard("S#0", 2), 3)
    assert not seats.fits(_shard("S#0", 10, open_=False), 1)


def test_roomy_lists_the_shards_that_take_the_whole_request_except_those_skipped() -> None:
    state = [_shard("S#0", 5), _shard("S#1", 1), _shard("S#2", 4), _shard("S#3", 9, open_=False)]
    assert seats.roomy(state, 4) == ["S#0", "S#2"]
    assert seats.roomy(state, 4, skip={"S#0"}) == ["S#2"]


def test_a_split_spreads_over_several_shards_by_what_they_show_free() -> None:
    state = [_shard("S#0", 2), _shard("S#1", -1), _shard("S#2", 2, open_=False), _shard("S#3", 3)]
    assert seats.split(state, 4) == {"S#0": 2, "S#3": 2}
    assert seats.split(state, 6) == {}  # only 5 free on open shards
    assert seats.split([_shard("S#0", 5)], 3) == {}  # one shard is not a split


def test_replan_prefers_one_shard_then_a_split_then_nothing() -> None:
    state = [_shard("S#0", 1), _shard("S#1", 3), _shard("S#2", 3)]
    assert seats.replan(state, 3, sharded=True, pick=lambda room: room[-1]) == {"S#2": 3}
    assert seats.replan(state, 5, sharded=True) == {"S#0": 1, "S#1": 3, "S#2": 1}
    assert seats.replan(state, 5, sharded=False) == {}
    assert seats.replan(state, 8, sharded=True) == {}


def test_caps_spread_the_total_differing_by_at_most_one() -> None:
    assert seats.caps(50, 8) == [7, 7, 6, 6, 6, 6, 6, 6]
    assert sum(seats.caps(7, 3)) == 7 and seats.caps(7, 1) == [7]


def test_free_seats_count_open_shards_only_and_never_go_negative() -> None:
    assert seats.free([_shard("S#0", 2), _shard("S#1", 5, open_=False)]) == 2
    assert seats.free([_shard("S#0", -3)]) == 0


def test_only_held_seats_can_have_lapsed() -> None:
    assert not seats.may_hold_lapsed([_shard("S#0", 0)])
    assert seats.may_hold_lapsed([_shard("S#0", 0), _shard("S#1", 0, held=2)])


def test_the_control_run_rule_is_the_only_unenforced_one() -> None:
    assert seats.ENFORCED.enforced and not seats.UNCHECKED.enforced
