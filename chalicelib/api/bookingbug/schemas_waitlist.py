"""Request and response models of an event's waitlist on the BookingBug face (issue 14)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.api.bookingbug.schemas import ClientIn
from chalicelib.api.http.schemas import Out, Strict


class EventWaitlistIn(Strict):
    client: ClientIn
    num_book: Annotated[int, Field(ge=1, le=100)] = 1


class EventWaitlistOut(Out):
    """A booker's place in the queue, shaped as BookingBug's waitlisted booking (``on_waitlist``)."""

    id: str
    event_id: int
    on_waitlist: bool  # true while waiting or offered; false once booked, lapsed or left
    status: str  # waiting, offered, booked, lapsed, left
    quantity: int
    client: dict[str, Any]
    joined_at: str
    reservation_id: str | None = None  # the offer's hold, while offered
    spaces_wait: int  # how many are waiting now


def entry_out(view: dict[str, Any], spaces_wait: int) -> EventWaitlistOut:
    offer = view.get("offer") or {}
    return EventWaitlistOut(
        id=view["id"],
        event_id=int(view["event_id"]),
        on_waitlist=view["status"] in ("waiting", "offered"),
        status=view["status"],
        quantity=int(view["seats"]),
        client=view["customer"],
        joined_at=view["joined_at"],
        reservation_id=offer.get("reservation_id"),
        spaces_wait=spaces_wait,
    )
