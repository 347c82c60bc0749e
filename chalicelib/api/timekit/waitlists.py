"""A full group's waitlist (Timekit v2 face): join, read, leave. Offers are booked with
``POST /v2/bookings`` (``reservation_id``) or the offer's signed link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain.errors import NotFound
from chalicelib.services.identity import companies
from chalicelib.services.identity.auth import Scheme, actor_of

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas_waitlist as s
    from chalicelib.services.selling import bookings, holds, waitlist
    from chalicelib.store.models import Booking
else:
    s = LazyModule("chalicelib.api.timekit.schemas_waitlist")
    bookings = LazyModule("chalicelib.services.selling.bookings")
    holds = LazyModule("chalicelib.services.selling.holds")
    waitlist = LazyModule("chalicelib.services.selling.waitlist")

bp = Blueprint(__name__)
TAG = "timekit"
V2 = Scheme.V2
NAMES = {"booking_id": "uuid", "entry_id": "string"}


def _cid(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


def _group(call: Call, booking_id: str) -> Booking:
    owner = bookings.get(_cid(call), booking_id)
    if owner.graph != "group_owner" or not owner.capacity_id:
        raise NotFound("group booking not found", field="booking_id")
    return owner


@route(
    bp,
    "/v2/bookings/groups/{booking_id}/waitlist",
    "POST",
    summary="Join a full group's waitlist (409 spaces_left while seats are free); offers come in join order",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas_waitlist:WaitlistJoinIn",
    idempotent=True,
    response="timekit.schemas_waitlist:WaitlistEntryOut",
    status=201,
    errors=(404, 409),
    path_types=NAMES,
)
def join(call: Call, booking_id: str) -> Any:
    body = call.body(s.WaitlistJoinIn)
    owner = _group(call, booking_id)
    bookings.reservable_owner(_cid(call), owner.booking_id, actor=actor_of(call.auth))  # open, not started
    offer_seconds = int(companies.get_company(_cid(call)).waitlist_offer_time)
    customer = body.customer.model_dump(exclude_none=True)
    entry = holds.join_waitlist(bookings.group_queue(owner), customer, body.seats, offer_seconds)
    return s.WaitlistEntryOut(data=s.entry_data(waitlist.snapshot(entry)))


@route(
    bp,
    "/v2/bookings/groups/{booking_id}/waitlist",
    "GET",
    summary="A group's waitlist in join order (waiting and offered entries) and its length",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas_waitlist:WaitlistOut",
    errors=(404,),
    path_types=NAMES,
)
def read(call: Call, booking_id: str) -> Any:
    owner = _group(call, booking_id)
    live = waitlist.live_entries(owner.capacity_id or "")
    return s.WaitlistOut(
        data=[s.entry_data(waitlist.snapshot(entry)) for entry in live],
        waitlist_length=sum(1 for entry in live if entry.status == waitlist.EntryStatus.WAITING),
    )


@route(
    bp,
    "/v2/bookings/groups/{booking_id}/waitlist/{entry_id}",
    "DELETE",
    summary="Leave a group's waitlist; leaving with a live offer passes its seats to the next in line",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas_waitlist:WaitlistEntryOut",
    errors=(404, 409),
    path_types=NAMES,
)
def leave(call: Call, booking_id: str, entry_id: str) -> Any:
    owner = _group(call, booking_id)
    entry = holds.leave_waitlist(waitlist.get(_cid(call), owner.capacity_id or "", entry_id))
    return s.WaitlistEntryOut(data=s.entry_data(waitlist.snapshot(entry)))
