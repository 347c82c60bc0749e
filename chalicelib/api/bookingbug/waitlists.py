"""An event's waitlist on the BookingBug face: a booker joins a full event (``spaces_wait``,
``on_waitlist``) and may leave. Offers arrive by email as for v2 groups."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, ErrorCode
from chalicelib.services.identity.auth import Scheme

if TYPE_CHECKING:
    from chalicelib.api.bookingbug import schemas_waitlist as w
    from chalicelib.services.catalogue import events
    from chalicelib.services.identity import companies
    from chalicelib.services.selling import holds, waitlist
else:
    w = LazyModule("chalicelib.api.bookingbug.schemas_waitlist")
    events = LazyModule("chalicelib.services.catalogue.events")
    companies = LazyModule("chalicelib.services.identity.companies")
    holds = LazyModule("chalicelib.services.selling.holds")
    waitlist = LazyModule("chalicelib.services.selling.waitlist")

bp = Blueprint(__name__)
TAG = "bookingbug"
PUBLIC = Scheme.V1_PUBLIC
NAMES = {"entry_id": "string"}


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
    client = body.client.model_dump(exclude_none=True, mode="json")
    name = " ".join(part for part in (client.get("first_name"), client.get("last_name")) if part)
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
    offer_seconds = int(companies.get_company(company_id).waitlist_offer_time)
    entry = holds.join_waitlist(queue, {**client, "name": name or client["email"]}, body.num_book, offer_seconds)
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
