"""Time claims: the rule against double booking, its limits, and its stored form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.intervals import Span
from chalicelib.domain.time_claims import (
    MAX_DAYS_TOUCHED,
    Claim,
    TimeTaken,
    as_entry,
    busy,
    check,
    conflicts,
    days,
    fits,
    from_entry,
)

NOW = datetime(2024, 5, 6, 8, tzinfo=UTC)


def at(hour: float) -> datetime:
    return datetime(2024, 5, 6, tzinfo=UTC) + timedelta(hours=hour)


def claim(
    owner: str,
    start: float,
    end: float,
    expires_at: datetime | None = None,
    before: timedelta = timedelta(),
    after: timedelta = timedelta(),
) -> Claim:
    return Claim(owner, at(start), at(end), expires_at, before, after)


def test_overlap_is_refused_with_a_stable_code_naming_the_interval() -> None:
    existing = [claim("a", 9, 10), claim("b", 11, 12)]
    fits(existing, claim("c", 10, 11), NOW)  # touching both: fine (half-open)
    with pytest.raises(TimeTaken) as caught:
        fits(existing, claim("c", 9.75, 11.25), NOW)
    error = caught.value
    assert (error.status, error.code) == (409, "time_taken")
    assert error.extra == {"conflict": {"start": "2024-05-06T09:00:00Z", "end": "2024-05-06T10:00:00Z"}}
    assert "09:00" in error.message


def test_padding_is_busy_time() -> None:
    existing = [claim("a", 9, 10, after=timedelta(minutes=15))]
    with pytest.raises(TimeTaken):
        fits(existing, claim("b", 10, 11), NOW)
    fits(existing, claim("b", 10.25, 11), NOW)
    with pytest.raises(TimeTaken):
        fits(existing, claim("b", 10.25, 11, before=timedelta(minutes=1)), NOW)


def test_lapsed_holds_are_free_and_live_ones_are_not() -> None:
    lapsed = claim("hold", 9, 10, expires_at=NOW)
    live = claim("hold2", 9, 10, expires_at=NOW + timedelta(seconds=1))
    fits([lapsed], claim("b", 9, 10), NOW)
    with pytest.raises(TimeTaken):
        fits([live], claim("b", 9, 10), NOW)
    assert busy([lapsed, live, claim("c", 10, 11)], NOW) == [Span(at(9), at(11))]


def test_an_owner_does_not_conflict_with_itself_or_with_what_it_releases() -> None:
    old = claim("booking-1", 9, 10)
    fits([old], claim("booking-1", 9.5, 10.5), NOW)
    fits([old], claim("booking-2", 9.5, 10.5), NOW, releasing={"booking-1"})
    assert conflicts([old], claim("booking-2", 9.5, 10.5), NOW) == [old]


@pytest.mark.parametrize(
    ("candidate", "field", "code"),
    [
        (Claim("x", at(9) + timedelta(seconds=30), at(10)), "start", "time_not_on_minute"),
        (Claim("x", at(9), at(10) + timedelta(microseconds=5)), "end", "time_not_on_minute"),
        (Claim("x", at(10), at(10)), "end", "invalid_interval"),
        (Claim("x", at(10), at(9)), "end", "invalid_interval"),
        (Claim("x", at(0), at(0) + timedelta(days=7, minutes=1)), "end", "interval_too_long"),
        (Claim("x", at(9), at(10), before=timedelta(seconds=30)), "before", "invalid_padding"),
        (Claim("x", at(9), at(10), after=timedelta(days=1, minutes=1)), "after", "invalid_padding"),
        (Claim("x", at(9), at(10), after=timedelta(minutes=-5)), "after", "invalid_padding"),
    ],
)
def test_limits_are_422s_naming_the_field(candidate: Claim, field: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check(candidate)
    assert (caught.value.status, caught.value.field, caught.value.code) == (422, field, code)


def test_limits_accept_the_longest_claim_and_nest_the_field() -> None:
    check(Claim("x", at(0), at(0) + timedelta(days=7), before=timedelta(days=1), after=timedelta(days=1)))
    with pytest.raises(ValidationFailed) as caught:
        check(Claim("x", at(10), at(9)), field="event")
    assert caught.value.field == "event.end"
    with pytest.raises(ValueError, match="aware"):
        check(Claim("x", datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 10)))


def test_day_buckets_are_utc_dates_and_an_end_at_midnight_stays_out() -> None:
    assert days(Span(at(9), at(10))) == [date(2024, 5, 6)]
    assert days(Span(at(23), at(24))) == [date(2024, 5, 6)]
    assert days(Span(at(23), at(24.5))) == [date(2024, 5, 6), date(2024, 5, 7)]
    longest = Claim("x", at(0.5), at(0.5) + timedelta(days=7), before=timedelta(days=1), after=timedelta(days=1))
    assert len(days(longest.busy)) == MAX_DAYS_TOUCHED == 10


def test_stored_form_round_trips_and_rounds_expiry_up() -> None:
    original = claim("b", 9, 10, before=timedelta(minutes=5), after=timedelta(minutes=10))
    assert from_entry("b", as_entry(original)) == original
    held = Claim("h", at(9), at(10), expires_at=NOW + timedelta(seconds=0.4))
    entry = as_entry(held)
    assert entry["expires_at"] == int(NOW.timestamp()) + 1
    assert entry["busy_from"] == entry["start"]
    assert from_entry("h", entry).live(NOW + timedelta(seconds=0.5))


quarters = st.integers(0, 4 * 24).map(lambda q: q / 4)
claims = st.lists(st.tuples(quarters, st.integers(1, 16).map(lambda q: q / 4)), max_size=15)


@given(claims)
def test_claims_accepted_one_by_one_never_overlap(asks: list[tuple[float, float]]) -> None:
    accepted: list[Claim] = []
    for index, (start, length) in enumerate(asks):
        new = claim(f"o{index}", start, start + length)
        clash = conflicts(accepted, new, NOW)
        if clash:
            assert all(c.busy.overlaps(new.busy) for c in clash)
            with pytest.raises(TimeTaken):
                fits(accepted, new, NOW)
        else:
            fits(accepted, new, NOW)
            accepted.append(new)
    for i, a in enumerate(accepted):
        for b in accepted[i + 1 :]:
            assert not a.busy.overlaps(b.busy)
