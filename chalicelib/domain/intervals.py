"""Half-open time intervals and the set operations schedules and availability need. Pure.

A *span list* is a list of ``Span`` sorted by start, non-empty, non-overlapping and
non-touching (touching spans are merged). Every function here takes and returns span
lists in that normal form (``normalise`` makes one from anything), so each operation
is one linear sweep over its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple


class Span(NamedTuple):
    """``[start, end)``; aware datetimes."""

    start: datetime
    end: datetime

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def normalise(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with empty spans dropped and overlapping or touching ones merged."""
    merged: list[Span] = []
    for span in sorted(s for s in spans if s.start < s.end):
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def union(*lists: Sequence[Span]) -> list[Span]:
    return normalise(span for spans in lists for span in spans)


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Where both normalised lists cover."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i].start, b[j].start)
        end = min(a[i].end, b[j].end)
        if start < end:
            out.append(Span(start, end))
        # Advance whichever ends first: it cannot meet anything later in the other list.
        if a[i].end <= b[j].end:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """What of normalised ``a`` normalised ``b`` does not cover."""
    out: list[Span] = []
    j = 0
    for span in a:
        start = span.start
        # Spans of b ending before this one starts cannot touch it or any later one.
        while j < len(b) and b[j].end <= start:
            j += 1
        k = j
        while k < len(b) and b[k].start < span.end:
            if b[k].start > start:
                out.append(Span(start, b[k].start))
            start = max(start, b[k].end)
            k += 1
        if start < span.end:
            out.append(Span(start, span.end))
    return out


def clip(spans: Sequence[Span], window: Span) -> list[Span]:
    return intersect(spans, [window]) if window.start < window.end else []


def pad(spans: Iterable[Span], before: timedelta, after: timedelta) -> list[Span]:
    """Each non-empty span grown by ``before`` and ``after`` (a buffer around bookings), normalised."""
    return normalise(Span(s.start - before, s.end + after) for s in spans if s.start < s.end)


def total(spans: Iterable[Span]) -> timedelta:
    return sum((s.length for s in spans), timedelta())
