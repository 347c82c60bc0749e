"""Bookings as calendar files: one booking's invitation, and email attachments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import calendar
from chalicelib.domain.calendar import CalendarEntry
from chalicelib.services.selling import bookings
from chalicelib.store import claim_days, db, keys
from chalicelib.store.models import Booking


def entry(booking: Booking) -> CalendarEntry:
    """The calendar event a booking stands for (its event's time, what and where)."""
    event: dict[str, Any] = dict(bookings.view(booking)["attributes"]["event_info"])
    return CalendarEntry(
        uid=f"{bookings.calendar_uid(booking)}@booking-engine",
        sequence=bookings.calendar_sequence(booking),
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


FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=365)


def resource_feed(company_id: int, resource_id: int, name: str, now: datetime) -> bytes:
    """The bookings holding time on a resource, a month back to a year ahead (its claim days)."""
    days = claim_days.read(resource_id, (now - FEED_PAST).date(), (now + FEED_AHEAD).date(), consistent=False)
    owners = sorted({owner for day in days.values() for owner in day.entries})
    found = Booking.batch_get([(keys.booking_pk(owner), keys.BOOKING_SK) for owner in owners]) if owners else []
    held = [b for b in found if int(b.company_id) == company_id and b.start_at and b.end_at]
    return calendar.feed(name, [entry(b) for b in sorted(held, key=lambda b: str(b.start_at))])
