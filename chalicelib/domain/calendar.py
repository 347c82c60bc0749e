"""A booking as an iCalendar (RFC 5545) object. Pure: the caller passes every value.

A booking keeps one UID through its reschedules and a SEQUENCE that grows with every
change, so a calendar that imported it updates the one event; a cancelled or declined
booking is ``METHOD:CANCEL`` with ``STATUS:CANCELLED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event

PRODUCT_ID = "-//booking-engine//bookings//EN"
ENDED_STATES = frozenset(
    {"cancelled", "cancelled_by_customer", "cancelled_by_owner", "declined", "unpaid", "cancelling"}
)


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    state: str
    stamp: datetime
    location: str | None = None
    description: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.state in ENDED_STATES


def _event(entry: CalendarEntry) -> Event:
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", entry.stamp)
    event.add("dtstart", entry.start)
    event.add("dtend", entry.end)
    event.add("summary", entry.summary)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    if entry.location:
        event.add("location", entry.location)
    if entry.description:
        event.add("description", entry.description)
    return event


def invitation(entry: CalendarEntry) -> bytes:
    """One booking: METHOD REQUEST while it stands, CANCEL once it has ended."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if entry.cancelled else "REQUEST")
    calendar.add_component(_event(entry))
    return bytes(calendar.to_ical())


def invitations(entries: Sequence[CalendarEntry]) -> bytes:
    """Several bookings made together (a BookingBug purchase): METHOD REQUEST while any stands,
    CANCEL once all have ended; each VEVENT keeps its own UID, SEQUENCE and STATUS."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if entries and all(e.cancelled for e in entries) else "REQUEST")
    for entry in entries:
        calendar.add_component(_event(entry))
    return bytes(calendar.to_ical())


def feed(name: str, entries: Sequence[CalendarEntry]) -> bytes:
    """A subscription feed (METHOD PUBLISH) of several bookings."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        calendar.add_component(_event(entry))
    return bytes(calendar.to_ical())
