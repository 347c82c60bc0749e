"""Span-list operations against a model: a set of the minutes each list covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.intervals import Span, clip, intersect, normalise, pad, subtract, total, union

BASE = datetime(2024, 1, 1, tzinfo=UTC)


def at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


spans = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 60)).map(lambda p: Span(at(p[0]), at(p[0] + p[1]))), max_size=12
)


def minutes(span_list: list[Span]) -> set[int]:
    covered: set[int] = set()
    for span in span_list:
        covered |= set(
            range(int((span.start - BASE) / timedelta(minutes=1)), int((span.end - BASE) / timedelta(minutes=1)))
        )
    return covered


def is_normal(span_list: list[Span]) -> bool:
    return all(s.start < s.end for s in span_list) and all(a.end < b.start for a, b in pairwise(span_list))


@given(spans)
def test_normalise(raw: list[Span]) -> None:
    result = normalise(raw)
    assert is_normal(result)
    assert minutes(result) == minutes(raw)


@given(spans, spans)
def test_set_operations(a: list[Span], b: list[Span]) -> None:
    na, nb = normalise(a), normalise(b)
    for result, expected in (
        (union(na, nb), minutes(a) | minutes(b)),
        (intersect(na, nb), minutes(a) & minutes(b)),
        (subtract(na, nb), minutes(a) - minutes(b)),
    ):
        assert is_normal(result)
        assert minutes(result) == expected


@given(spans, st.integers(0, 400), st.integers(0, 400))
def test_clip(raw: list[Span], start: int, end: int) -> None:
    window = Span(at(start), at(end))
    assert minutes(clip(normalise(raw), window)) == minutes(raw) & set(range(start, end))


@given(spans, st.integers(0, 30), st.integers(0, 30))
def test_pad(raw: list[Span], before: int, after: int) -> None:
    result = pad(raw, timedelta(minutes=before), timedelta(minutes=after))
    expected = minutes(
        [Span(s.start - timedelta(minutes=before), s.end + timedelta(minutes=after)) for s in raw if s.start < s.end]
    )
    assert is_normal(result)
    assert minutes(result) == expected
    assert total(result) == timedelta(minutes=len(expected))


def test_touching_spans_merge_and_overlap_is_strict() -> None:
    assert normalise([Span(at(0), at(10)), Span(at(10), at(20))]) == [Span(at(0), at(20))]
    assert not Span(at(0), at(10)).overlaps(Span(at(10), at(20)))
    assert Span(at(0), at(10)).overlaps(Span(at(9), at(20)))
    assert Span(at(0), at(10)).contains(Span(at(0), at(10)))
