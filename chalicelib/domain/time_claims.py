"""Time claims: the rule that keeps a resource from being booked twice. Pure.

A claim is an owner (a booking or a hold) holding a resource from ``start`` to ``end``,
padded by ``before``/``after`` (preparation and clean-up time, BookingBug's
``pre_time``/``post_time``): the resource is busy for the padded interval. A hold's
claim has ``expires_at``; once that has passed the claim is lapsed and counts as free
on every read, before any sweep removes it.

A new claim fits when its padded interval overlaps no live claim's padded interval
(an owner never conflicts with itself, and a reschedule names the claim it releases).
Storage keeps claims per resource and UTC day (``days``), so the limits below bound
what one claim costs: at most ``MAX_DAYS_TOUCHED`` day items in a transaction.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed
from chalicelib.domain.intervals import Span, normalise

MAX_LENGTH = timedelta(days=7)  # the longest claim (booking or hold) on one resource
MAX_PADDING = timedelta(days=1)  # each of before and after
GRANULE = timedelta(minutes=1)  # start, end and padding are whole minutes
MAX_DAYS_TOUCHED = (MAX_LENGTH + 2 * MAX_PADDING) // timedelta(days=1) + 1


# Where a booking holds its time. It gives the time back when it leaves these for any state
# but completed (cancelled, declined, unpaid, moved away); completed time was used.
TIME_HOLDING_STATES = frozenset({"confirmed", "tentative", "paid"})


def releases(from_state: str, to_state: str) -> bool:
    """Does a booking moving ``from_state`` -> ``to_state`` give its claimed time back?"""
    return from_state in TIME_HOLDING_STATES and to_state not in TIME_HOLDING_STATES and to_state != "completed"


class TimeTaken(Conflict):
    code = ErrorCode.TIME_TAKEN


@dataclass(frozen=True)
class Claim:
    owner: str
    start: datetime
    end: datetime
    expires_at: datetime | None = None
    before: timedelta = timedelta()
    after: timedelta = timedelta()

    @property
    def busy(self) -> Span:
        """The padded interval: when the resource is not free because of this claim."""
        return Span(self.start - self.before, self.end + self.after)

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


def check(claim: Claim, *, field: str = "start") -> None:
    """The limits every claim keeps, as 422s naming the field to change."""
    for name, moment in (("start", claim.start), ("end", claim.end)):
        if moment.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
        if moment.second or moment.microsecond:
            raise ValidationFailed(
                f"{name} is at whole minutes (no seconds)",
                field=name if field == "start" else f"{field}.{name}",
                code=ErrorCode.TIME_NOT_ON_MINUTE,
            )
    end_field = "end" if field == "start" else f"{field}.end"
    if claim.end <= claim.start:
        raise ValidationFailed("end is after start", field=end_field, code=ErrorCode.INVALID_INTERVAL)
    if claim.end - claim.start > MAX_LENGTH:
        raise ValidationFailed(
            f"a booking holds a resource for at most {MAX_LENGTH.days} days",
            field=end_field,
            code=ErrorCode.INTERVAL_TOO_LONG,
        )
    for name, padding in (("before", claim.before), ("after", claim.after)):
        if padding < timedelta() or padding > MAX_PADDING or padding % GRANULE:
            raise ValidationFailed(
                f"the {name} padding is whole minutes, at most one day",
                field=name if field == "start" else f"{field}.{name}",
                code=ErrorCode.INVALID_PADDING,
            )


def days(span: Span) -> list[date]:
    """The UTC dates ``[start, end)`` touches: an end at midnight does not touch that day."""
    first = span.start.astimezone(UTC).date()
    last = (span.end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def conflicts(existing: Iterable[Claim], new: Claim, now: datetime, releasing: Collection[str] = ()) -> list[Claim]:
    """The live claims of other owners that ``new`` overlaps, by start."""
    found = {
        claim
        for claim in existing
        if claim.owner != new.owner
        and claim.owner not in releasing
        and claim.live(now)
        and claim.busy.overlaps(new.busy)
    }
    return sorted(found, key=lambda claim: claim.busy)


def fits(existing: Iterable[Claim], new: Claim, now: datetime, releasing: Collection[str] = ()) -> None:
    """Raise 409 ``time_taken`` naming the first interval ``new`` overlaps."""
    clash = conflicts(existing, new, now, releasing)
    if clash:
        taken = clash[0].busy
        raise TimeTaken(
            f"the resource is taken from {_iso(taken.start)} to {_iso(taken.end)}",
            field="start",
            extra={"conflict": {"start": _iso(taken.start), "end": _iso(taken.end)}},
        )


def busy(claims: Iterable[Claim], now: datetime) -> list[Span]:
    """Busy intervals (padded, normalised) of the live claims: what availability subtracts."""
    return normalise(claim.busy for claim in claims if claim.live(now))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the stored form: one map entry per owner, epoch seconds ---------------------------------


def as_entry(claim: Claim) -> dict[str, int]:
    entry = {
        "start": _epoch(claim.start),
        "end": _epoch(claim.end),
        "busy_from": _epoch(claim.busy.start),
        "busy_until": _epoch(claim.busy.end),
    }
    if claim.expires_at is not None:
        # Rounded up: a claim must not lapse before its hold does.
        entry["expires_at"] = math.ceil(claim.expires_at.timestamp())
    return entry


def from_entry(owner: str, entry: Mapping[str, Any]) -> Claim:
    start, end = _moment(entry["start"]), _moment(entry["end"])
    expires = entry.get("expires_at")
    return Claim(
        owner=owner,
        start=start,
        end=end,
        expires_at=None if expires is None else _moment(expires),
        before=start - _moment(entry.get("busy_from", entry["start"])),
        after=_moment(entry.get("busy_until", entry["end"])) - end,
    )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)
