"""Request and response models of v2 waitlists (a full group's queue, issue 14)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.api.http.schemas import Out, Strict
from chalicelib.api.timekit.schemas import CustomerIn, CustomerOut, EventInfo


class WaitlistJoinIn(Strict):
    customer: CustomerIn
    seats: Annotated[int, Field(ge=1, le=100)] = 1


class OfferOut(Out):
    reservation_id: str  # the offer's hold: book with it (POST /v2/bookings) before it lapses
    offered_at: str | None = None
    seats: int | None = None
    expires_at: str | None = None


class WaitlistEntryData(Out):
    id: str
    status: str  # waiting, offered, booked, lapsed, left
    seats: int
    customer: CustomerOut
    joined_at: str
    owner_booking_id: str | None = None
    event_info: EventInfo | None = None
    offer: OfferOut | None = None


class WaitlistEntryOut(Out):
    data: WaitlistEntryData


class WaitlistOut(Out):
    data: list[WaitlistEntryData]
    waitlist_length: int  # how many are waiting (offered entries are not counted)


def entry_data(view: dict[str, Any]) -> WaitlistEntryData:
    return WaitlistEntryData.model_validate(view)
