"""Waitlists on the BookingBug face: a booker joins a full event (``spaces_wait``,
``on_waitlist``) or a full service slot, and may leave. Offers arrive by email as for v2 groups.

A service slot's capacity is opened lazily, by its first add_item: a slot never added
has every space free, so joining it is 409 ``spaces_left`` (nothing is written)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain import clock, slot_rules
from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed
from chalicelib.services.identity.auth import Scheme

if TYPE_CHECKING:
    from chalicelib.api.bookingbug import schemas_waitlist as w
    from chalicelib.services.catalogue import events, staff
    from chalicelib.services.identity import companies
    from chalicelib.services.selling import baskets, capacity, holds, slots, waitlist
else:
    w = LazyModule("chalicelib.api.bookingbug.schemas_waitlist")
    events = LazyModule("chalicelib.services.catalogue.events")
    staff = LazyModule("chalicelib.services.catalogue.staff")
    companies = LazyModule("chalicelib.services.identity.companies")
    baskets = LazyModule("chalicelib.services.selling.baskets")
    capacity = LazyModule("chalicelib.services.selling.capacity")
    holds = LazyModule("chalicelib.services.selling.holds")
    slots = LazyModule("chalicelib.services.selling.slots")
    waitlist = LazyModule("chalicelib.services.selling.waitlist")

bp = Blueprint(__name__)
TAG = "bookingbug"
PUBLIC = Scheme.V1_PUBLIC
NAMES = {"entry_id": "string"}


def _join(queue: waitlist.Queue, client_in: Any, num_book: int) -> Any:
    """Queue a BookingBug client (named for the offer email) with the company's offer window."""
    client = client_in.model_dump(exclude_none=True, mode="json")
    name = " ".join(part for part in (client.get("first_name"), client.get("last_name")) if part)
    offer_seconds = int(companies.get_company(queue.company_id).waitlist_offer_time)
    return holds.join_waitlist(queue, {**client, "name": name or client["email"]}, num_book, offer_seconds)


@route(
    bp,
    "/api/v1/{company_id}/events/{event_id}/waitlist",
    "POST",
    summary="Join a full event's waitlist (409 spaces_left while spaces remain); offers come in join order",
    scheme=PUBLIC,
    tag=TAG,
    request="bookingbug.schemas_waitlist:EventWaitlistIn",
    response="bookingbug.schemas_waitlist:EventWaitlistOut",
    status=201,
    errors=(404, 409),
)
def join(call: Call, company_id: int, event_id: int) -> Any:
    body = call.body(w.EventWaitlistIn)
    event = events.get_event(company_id, event_id)
    start = events.start_of(event)
    if start <= clock.utcnow():
        raise Conflict("the event has started", code=ErrorCode.EVENT_STARTED, field="event_id")
    chain = events.get_chain(company_id, int(event.chain_id))
    queue = waitlist.Queue(
        company_id,
        event.capacity_id,
        int(event.shards),
        event_id=event_id,
        event_info={
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=int(event.duration))).isoformat(),
            "what": str(chain.name),
        },
    )
    entry = _join(queue, body.client, body.num_book)
    return w.entry_out(waitlist.snapshot(entry), waitlist.length(event.capacity_id))


@route(
    bp,
    "/api/v1/{company_id}/events/{event_id}/waitlist/{entry_id}",
    "DELETE",
    summary="Leave an event's waitlist; leaving with a live offer passes its spaces to the next in line",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas_waitlist:EventWaitlistOut",
    errors=(404, 409),
    path_types=NAMES,
)
def leave(call: Call, company_id: int, event_id: int, entry_id: str) -> Any:
    event = events.get_event(company_id, event_id)
    entry = holds.leave_waitlist(waitlist.get(company_id, event.capacity_id, entry_id))
    return w.entry_out(waitlist.snapshot(entry), waitlist.length(event.capacity_id))


def _slot(company_id: int, service_id: int, day: str, minutes: int, duration: int | None) -> slots.Slot:
    """A service slot that has a single queue: one without people or resources (theirs is a
    capacity per person or resource, and the booker does not pick one when queueing)."""
    slot = slots.find(company_id, service_id, slots.local_start(company_id, day, minutes), duration)
    if staff.staff_ids(slot.service):
        raise ValidationFailed(
            "a service delivered by people or resources has no waitlist; pick another time", field="service_id"
        )
    return slot


@route(
    bp,
    "/api/v1/{company_id}/services/{service_id}/waitlist",
    "POST",
    summary="Join a full service slot's waitlist (409 spaces_left while spaces remain); offers come in join order",
    scheme=PUBLIC,
    tag=TAG,
    request="bookingbug.schemas_waitlist:SlotWaitlistIn",
    response="bookingbug.schemas_waitlist:SlotWaitlistOut",
    status=201,
    errors=(404, 409, 422),
)
def join_slot(call: Call, company_id: int, service_id: int) -> Any:
    body = call.body(w.SlotWaitlistIn)
    slot = _slot(company_id, service_id, body.date, body.time, body.duration)
    slot_rules.check_time(slot.rules, body.time)
    baskets.check_bookable(slot.rules, slot.start, clock.utcnow(), body.num_book)
    if not capacity.read_shards(slot.capacity_id, 1):
        # Never added to a basket, so never opened: every space is free.
        free = int(slot.service.spaces)
        raise Conflict(f"{free} seats are free: book them instead", code=ErrorCode.SPACES_LEFT, field="num_book")
    end = slots.end_of(slot)
    queue = waitlist.Queue(
        company_id,
        slot.capacity_id,
        1,
        event_info={
            "start": slot.start.isoformat(),
            "end": end.isoformat(),
            "what": str(slot.service.name),
            "service_id": service_id,
            "duration": slot.duration,
        },
    )
    entry = _join(queue, body.client, body.num_book)
    return w.slot_entry_out(waitlist.snapshot(entry), waitlist.length(slot.capacity_id))


@route(
    bp,
    "/api/v1/{company_id}/services/{service_id}/waitlist/{entry_id}",
    "DELETE",
    summary="Leave a service slot's waitlist (the slot by date and time); a live offer passes to the next in line",
    scheme=PUBLIC,
    tag=TAG,
    query="bookingbug.schemas_waitlist:SlotQuery",
    response="bookingbug.schemas_waitlist:SlotWaitlistOut",
    errors=(404, 409, 422),
    path_types=NAMES,
)
def leave_slot(call: Call, company_id: int, service_id: int, entry_id: str) -> Any:
    where = call.query(w.SlotQuery)
    slot = _slot(company_id, service_id, where.date, where.time, where.duration)
    entry = holds.leave_waitlist(waitlist.get(company_id, slot.capacity_id, entry_id))
    return w.slot_entry_out(waitlist.snapshot(entry), waitlist.length(slot.capacity_id))
