"""Request and response models of an event's or a service slot's waitlist on the BookingBug face (issue 14)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.api.bookingbug.schemas import ClientIn
from chalicelib.api.bookingbug.schemas_basket import SlotDate, SlotDuration, SlotTime
from chalicelib.api.http.schemas import Out, Query, Strict


class EventWaitlistIn(Strict):
    client: ClientIn
    num_book: Annotated[int, Field(ge=1, le=100)] = 1


class WaitlistPlace(Out):
    """A booker's place in the queue, shaped as BookingBug's waitlisted booking (``on_waitlist``)."""

    id: str
    on_waitlist: bool  # true while waiting or offered; false once booked, lapsed or left
    status: str  # waiting, offered, booked, lapsed, left
    quantity: int
    client: dict[str, Any]
    joined_at: str
    reservation_id: str | None = None  # the offer's hold, while offered
    spaces_wait: int  # how many are waiting now


class EventWaitlistOut(WaitlistPlace):
    event_id: int


def _place(view: dict[str, Any], spaces_wait: int) -> dict[str, Any]:
    offer = view.get("offer") or {}
    return {
        "id": view["id"],
        "on_waitlist": view["status"] in ("waiting", "offered"),
        "status": view["status"],
        "quantity": int(view["seats"]),
        "client": view["customer"],
        "joined_at": view["joined_at"],
        "reservation_id": offer.get("reservation_id"),
        "spaces_wait": spaces_wait,
    }


def entry_out(view: dict[str, Any], spaces_wait: int) -> EventWaitlistOut:
    return EventWaitlistOut(event_id=int(view["event_id"]), **_place(view, spaces_wait))


class SlotWaitlistIn(Strict):
    client: ClientIn
    date: SlotDate = Field(description="the slot's day (YYYY-MM-DD) in the company's time zone")
    time: SlotTime = Field(description="the slot's start, in minutes after local midnight")
    duration: SlotDuration | None = Field(default=None, description="minutes (default the first)")
    num_book: Annotated[int, Field(ge=1, le=100)] = 1


class SlotQuery(Query):
    """Which slot's queue an entry is in (an entry is kept under its slot's capacity)."""

    date: SlotDate
    time: SlotTime
    duration: SlotDuration | None = None


class SlotWaitlistOut(WaitlistPlace):
    """A place in a service slot's queue: the event's shape, naming the slot instead."""

    service_id: int
    datetime: str  # the slot's start (UTC, ISO 8601)
    duration: int


def slot_entry_out(view: dict[str, Any], spaces_wait: int) -> SlotWaitlistOut:
    info = view["event_info"]
    slot = {"service_id": int(info["service_id"]), "datetime": info["start"], "duration": int(info["duration"])}
    return SlotWaitlistOut(**slot, **_place(view, spaces_wait))
