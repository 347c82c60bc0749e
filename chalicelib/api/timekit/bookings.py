"""Timekit v2 face: graphs and bookings, HTTP Basic with the secret API key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.services.identity import companies
from chalicelib.services.identity.auth import Scheme
from chalicelib.store import db, keys
from chalicelib.store.models import Booking, Hold
from chalicelib.store.pages import query_page

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas as s
    from chalicelib.domain import graphs as graph_defs
    from chalicelib.services.selling import bookings
    from chalicelib.services.selling import holds as holds_service
else:
    s = LazyModule("chalicelib.api.timekit.schemas")
    # The engine loads with the first booking request, not at cold start.
    graph_defs = LazyModule("chalicelib.domain.graphs")
    bookings = LazyModule("chalicelib.services.selling.bookings")
    holds_service = LazyModule("chalicelib.services.selling.holds")

bp = Blueprint(__name__)
TAG = "timekit"
V2 = Scheme.V2
NAMES = {"booking_id": "string", "action": "string", "name": "string"}


def _cid(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


def _with_etag(call: Call, booking: Booking) -> None:
    call.extra_headers["ETag"] = f'"{int(booking.version)}"'


def _if_match(call: Call) -> int | None:
    value = call.header("If-Match")
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ValidationFailed("If-Match must be an ETag from a read of this booking", field="If-Match")
    return int(text)


# --- graphs ----------------------------------------------------------------------------------------


def _graph_out(name: str) -> Any:
    from chalicelib.domain.graph_docs import to_document

    return s.GraphOut.model_validate(to_document(graph_defs.GRAPHS[name]))


@route(
    bp,
    "/v2/graphs",
    "GET",
    summary="Every booking graph as data",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas:GraphList",
)
def graphs(call: Call) -> Any:
    return s.GraphList(data=[_graph_out(name) for name in graph_defs.GRAPHS])


@route(
    bp,
    "/v2/graphs/{name}",
    "GET",
    summary="One graph as JSON, or Graphviz DOT with ?format=dot",
    scheme=V2,
    tag=TAG,
    query="timekit.schemas:GraphQuery",
    response="timekit.schemas:GraphOut",
    also_produces=("text/vnd.graphviz",),
    errors=(404,),
    path_types=NAMES,
)
def graph(call: Call, name: str) -> Any:
    if name not in graph_defs.GRAPHS:
        raise NotFound(f"no graph named {name!r}", field="name")
    if call.query(s.GraphQuery).format == "dot":
        from chalicelib.domain.graph_docs import to_dot

        dot = to_dot(graph_defs.GRAPHS[name])
        return Response(body=dot, status_code=200, headers={"Content-Type": "text/vnd.graphviz"})
    return _graph_out(name)


# --- bookings --------------------------------------------------------------------------------------


def _data(booking: Booking, *, with_logs: bool = False, include: str | None = None) -> Any:
    data = bookings.view(booking)
    if with_logs:
        data["logs"] = bookings.logs(booking)
    if include and "related_bookings" in include and booking.graph == "group_owner":
        data["related_bookings"] = [bookings.snapshot(seat) for seat in bookings.seat_bookings(booking)]
    return s.BookingData.model_validate(data)


def _new_booking(body: Any) -> bookings.NewBooking:
    event = body.event.model_dump(mode="json", exclude_none=True) if body.event else {}
    if not event and body.start and body.end:
        event = {
            "start": body.start.isoformat(),
            "end": body.end.isoformat(),
            "what": body.what or "",
            "where": body.where,
            "description": body.description,
        }
        event = {k: v for k, v in event.items() if v is not None}
    return bookings.NewBooking(
        graph=body.graph,
        action=body.action,
        event=event,
        customer=body.customer.model_dump(exclude_none=True) if body.customer else {},
        settings=body.settings.model_dump(exclude_none=True),
        options=body.options(),
        owner_booking_id=body.related.owner_booking_id if body.related else None,
        seats=body.related.seats if body.related else 1,
        reservation_id=body.reservation_id,
    )


@route(
    bp,
    "/v2/bookings",
    "POST",
    summary="Create a booking: it runs its graph's first action",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:BookingCreate",
    idempotent=True,
    response="timekit.schemas:BookingOut",
    status=201,
    errors=(404, 409),
)
def create_booking(call: Call) -> Any:
    body = call.body(s.BookingCreate)
    booking = bookings.create(_cid(call), _new_booking(body))
    _with_etag(call, booking)
    return s.BookingOut(data=_data(booking, with_logs=True))


def _filters(search: str | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for part in (search or "").split(";"):
        if not part.strip():
            continue
        name, _, value = part.partition(":")
        if name.strip() not in ("graph", "state") or not value.strip():
            raise ValidationFailed("search takes graph:<name>;state:<state>", field="search")
        filters[name.strip()] = value.strip()
    return filters


def _booking_list(call: Call, filters: dict[str, str], path: str) -> Any:
    query = call.query(s.BookingsQuery)
    condition = bookings.condition_for(filters)
    if query.start is not None:
        clause = Booking.start_at >= db.iso(query.start)
        condition = clause if condition is None else condition & clause
    if query.end is not None:
        clause = Booking.end_at <= db.iso(query.end)
        condition = clause if condition is None else condition & clause
    page = query_page(
        Booking,
        keys.company_booking_partitions(_cid(call)),
        "",
        query.page,
        query.per_page,
        condition,
        index=Booking.listing,
        newest_first=True,
    )
    links = {"self": {"href": f"{call.base_url}{path}?page={page.page}&per_page={page.per_page}"}}
    if page.has_next:
        links["next"] = {"href": f"{call.base_url}{path}?page={page.page + 1}&per_page={page.per_page}"}
    return s.BookingList.model_validate(
        {
            "data": [_data(item) for item in page.items],
            "meta": {"total_entries": page.total, "page": page.page, "per_page": page.per_page},
            "_links": links,
        }
    )


@route(
    bp,
    "/v2/bookings",
    "GET",
    summary="Bookings, newest first; search=graph:x;state:y, start/end filters",
    scheme=V2,
    tag=TAG,
    query="timekit.schemas:BookingsQuery",
    response="timekit.schemas:BookingList",
)
def list_bookings(call: Call) -> Any:
    return _booking_list(call, _filters(call.query(s.BookingsQuery).search), "/v2/bookings")


@route(
    bp,
    "/v2/bookings/groups",
    "GET",
    summary="Group bookings (group_owner) with their seats",
    scheme=V2,
    tag=TAG,
    query="timekit.schemas:BookingsQuery",
    response="timekit.schemas:BookingList",
)
def list_groups(call: Call) -> Any:
    filters = {**_filters(call.query(s.BookingsQuery).search), "graph": "group_owner"}
    return _booking_list(call, filters, "/v2/bookings/groups")


@route(
    bp,
    "/v2/bookings/groups/{booking_id}",
    "GET",
    summary="One group booking with max_seats and current_seats",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas:BookingOut",
    errors=(404,),
    path_types=NAMES,
)
def get_group(call: Call, booking_id: str) -> Any:
    booking = bookings.get(_cid(call), booking_id)
    if booking.graph != "group_owner":
        raise NotFound("group booking not found", field="id")
    _with_etag(call, booking)
    return s.BookingOut(data=_data(booking))


@route(
    bp,
    "/v2/bookings/{booking_id}",
    "GET",
    summary="One booking with its logs; include=related_bookings.customers",
    scheme=V2,
    tag=TAG,
    query="timekit.schemas:IncludeQuery",
    response="timekit.schemas:BookingOut",
    errors=(404,),
    path_types=NAMES,
)
def get_booking(call: Call, booking_id: str) -> Any:
    booking = bookings.get(_cid(call), booking_id)
    _with_etag(call, booking)
    return s.BookingOut(data=_data(booking, with_logs=True, include=call.query(s.IncludeQuery).include))


@route(
    bp,
    "/v2/bookings/{booking_id}/{action}",
    "PUT",
    summary="Run an action the booking's graph allows now",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:ActionIn",
    idempotent=True,
    response="timekit.schemas:BookingOut",
    errors=(404, 409, 412),
    path_types=NAMES,
)
def act(call: Call, booking_id: str, action: str) -> Any:
    body = call.body(s.ActionIn)
    booking = bookings.act(_cid(call), booking_id, action, body.options(), if_match=_if_match(call))
    _with_etag(call, booking)
    return s.BookingOut(data=_data(booking, with_logs=True))


@route(
    bp,
    "/v2/bookings/{booking_id}/reschedule",
    "POST",
    summary="Move a booking in time, keeping lineage",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:RescheduleIn",
    response="timekit.schemas:BookingOut",
    status=201,
    errors=(404, 409),
    path_types=NAMES,
)
def reschedule(call: Call, booking_id: str) -> Any:
    body = call.body(s.RescheduleIn)
    moved = bookings.reschedule(_cid(call), booking_id, body.start.isoformat(), body.end.isoformat(), body.message)
    _with_etag(call, moved)
    return s.BookingOut(data=_data(moved, with_logs=True))


# --- reservations ------------------------------------------------------------------------------------


def _reservation(hold: Hold) -> Any:
    return s.ReservationOut(
        data=s.ReservationData(
            id=hold.hold_id,
            seats=int(hold.seats),
            status="expired" if hold.status == "active" and not holds_service.is_live(hold) else hold.status,
            expires_at=db.iso_epoch(hold.expires_at),
            extensions=int(hold.extensions),
            owner_booking_id=hold.owner_booking_id,
        )
    )


@route(
    bp,
    "/v2/bookings/reserve",
    "POST",
    summary="Hold seats of a group for the company's reservation_time",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:ReserveIn",
    idempotent=True,
    response="timekit.schemas:ReservationOut",
    status=201,
    errors=(404, 409),
)
def reserve(call: Call) -> Any:
    body = call.body(s.ReserveIn)
    company = companies.get_company(_cid(call))
    owner = bookings.reservable_owner(_cid(call), body.related.owner_booking_id)
    hold = holds_service.place(
        _cid(call),
        owner.capacity_id or "",
        int(bookings.shard_count(owner)),
        body.related.seats,
        int(company.reservation_time),
        {"graph": body.graph, "customer": body.customer.model_dump(exclude_none=True) if body.customer else {}},
        owner_booking_id=owner.booking_id,
    )
    return _reservation(hold)


@route(
    bp,
    "/v2/bookings/reserve/extend",
    "PUT",
    summary="Extend a live reservation (at most 3 times)",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:ExtendIn",
    response="timekit.schemas:ReservationOut",
    errors=(404, 409),
)
def extend(call: Call) -> Any:
    body = call.body(s.ExtendIn)
    company = companies.get_company(_cid(call))
    return _reservation(holds_service.extend(_cid(call), body.reservation_id, int(company.reservation_time)))
