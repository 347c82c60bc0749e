"""Bookings as calendar files: one booking's invitation, and email attachments."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import calendar
from chalicelib.domain.calendar import CalendarEntry
from chalicelib.services.selling import bookings
from chalicelib.store import db
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
