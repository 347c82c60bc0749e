"""Bookings as calendar files: one booking's invitation (served and attached to emails), a resource's feed.

It lives with messaging, not selling, because the emails attach it and selling already
depends on messaging (the outbox); selling takes the UID and SEQUENCE rules from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import calendar
from chalicelib.domain.calendar import CalendarEntry
from chalicelib.store import claim_days, db, keys
from chalicelib.store.models import Booking, plain_map


def calendar_uid(booking: Booking) -> str:
    """The iCalendar UID: the first booking's id of a reschedule lineage."""
    return booking.ical_uid or booking.booking_id


def calendar_sequence(booking: Booking) -> int:
    """The iCalendar SEQUENCE: grows with every change (each one bumps ``version``), across reschedules."""
    return (booking.ical_sequence_base or 0) + int(booking.version or 1) - 1


def entry(booking: Booking) -> CalendarEntry:
    """The calendar event a booking stands for (its event's time, what and where)."""
    raw = booking.event
    event: dict[str, Any] = plain_map(raw)
    return CalendarEntry(
        uid=f"{calendar_uid(booking)}@booking-engine",
        sequence=calendar_sequence(booking),
        start=db.parse_iso(str(booking.start_at)),
        end=db.parse_iso(str(booking.end_at)),
        summary=str(event.get("what") or "Booking"),
        state=booking.state,
        stamp=db.parse_iso(booking.updated_at),
        location=str(event["where"]) if event.get("where") else None,
        description=str(event["description"]) if event.get("description") else None,
    )


def invitation(booking: Booking) -> bytes:
    return calendar.invitation(entry(booking))


def purchase_invitation(bookings: list[Booking]) -> bytes | None:
    """A purchase's bookings that have a time, in one file (by start); None when none has."""
    timed = sorted((b for b in bookings if b.start_at and b.end_at), key=lambda b: str(b.start_at))
    return calendar.invitations([entry(b) for b in timed]) if timed else None


FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=365)


def resource_feed(company_id: int, resource_id: int, name: str, now: datetime) -> bytes:
    """The bookings holding time on a resource, a month back to a year ahead (its claim days)."""
    days = claim_days.read(resource_id, (now - FEED_PAST).date(), (now + FEED_AHEAD).date(), consistent=False)
    owners = sorted({owner for day in days.values() for owner in day.entries})
    found = Booking.batch_get([(keys.booking_pk(owner), keys.BOOKING_SK) for owner in owners]) if owners else []
    held = [b for b in found if b.company_id == company_id and b.start_at and b.end_at]
    return calendar.feed(name, [entry(b) for b in sorted(held, key=lambda b: str(b.start_at))])
