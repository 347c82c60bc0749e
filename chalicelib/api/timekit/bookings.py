"""Timekit v2 face: graphs and bookings, HTTP Basic with the secret API key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

from chalice import Blueprint, Response

from chalicelib.api.http.errors import calendar_reply
from chalicelib.api.http.hal import v2_page
from chalicelib.api.http.present import present
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain import clock, cors
from chalicelib.domain.errors import BookingError, Conflict, ErrorCode, Forbidden, NotFound, ValidationFailed
from chalicelib.domain.lifecycle import effective_status
from chalicelib.services.identity import companies, customer_links
from chalicelib.services.identity.auth import Role, Scheme, actor_of
from chalicelib.services.identity.customer_links import ActionLink
from chalicelib.store import db, keys
from chalicelib.store.models import Booking, Hold, plain
from chalicelib.store.pages import query_page

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas as s
    from chalicelib.domain import graphs as graph_defs
    from chalicelib.domain import projects as project_rules
    from chalicelib.services.catalogue import projects, resources
    from chalicelib.services.messaging import calendars
    from chalicelib.services.selling import action_links, baskets, bookings, removal, time_claims
    from chalicelib.services.selling import holds as holds_service
else:
    s = LazyModule("chalicelib.api.timekit.schemas")
    # The engine loads with the first booking request, not at cold start.
    graph_defs = LazyModule("chalicelib.domain.graphs")
    bookings = LazyModule("chalicelib.services.selling.bookings")
    baskets = LazyModule("chalicelib.services.selling.baskets")
    action_links = LazyModule("chalicelib.services.selling.action_links")
    calendars = LazyModule("chalicelib.services.messaging.calendars")
    holds_service = LazyModule("chalicelib.services.selling.holds")
    removal = LazyModule("chalicelib.services.selling.removal")
    projects = LazyModule("chalicelib.services.catalogue.projects")
    resources = LazyModule("chalicelib.services.catalogue.resources")
    project_rules = LazyModule("chalicelib.domain.projects")
    time_claims = LazyModule("chalicelib.services.selling.time_claims")

bp = Blueprint(__name__)
TAG = "timekit"
V2 = Scheme.V2
T = TypeVar("T")
PAGE = Scheme.V2_PUBLIC  # also the public key: a booking page, within the limits checked below
NAMES = {"booking_id": "uuid", "action": "string", "name": "string"}


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


def _data(booking: Booking, *, with_logs: bool = False, include: str | None = None, call: Call | None = None) -> Any:
    data = bookings.view(booking)
    if with_logs:
        data["logs"] = bookings.logs(booking)
    if include and "related_bookings" in include and booking.graph == "group_owner":
        data["related_bookings"] = [bookings.snapshot(seat) for seat in bookings.seat_bookings(booking)]
    if call is not None and booking.graph != "group_owner":
        data["customer_action_links"] = _customer_links(call, booking)
    return s.BookingData.model_validate(data)


def _customer_links(call: Call, booking: Booking) -> dict[str, str]:
    """The customer's own links (Timekit's customer_action_links), signed for this booking.

    ``token`` lets a booking page act for the customer; each action the graph allows now
    has a one-click ``external_action`` link (a JWT for that booking and action, used once);
    a booking made through a page reschedules on that page instead.
    """
    cid, bid = booking.company_id, booking.booking_id
    token = customer_links.token_for(cid, bid)
    offered = customer_links.offered(booking.graph, booking.state)
    links = {"token": token, **customer_links.action_urls(call.base_url, cid, bid, offered, clock.utcnow())}
    if booking.project_id and "reschedule_by_customer" in links:
        project = projects.get_project(cid, booking.project_id)
        event = bookings.view(booking)["attributes"]["event_info"]
        query = urlencode({"reschedule": bid, "token": token, "start": event.get("start"), "end": event.get("end")})
        links["reschedule_by_customer"] = f"{call.base_url}/book/{project.slug}?{query}"
    return links


def _page(call: Call) -> bool:
    """The caller is a booking page (the public key), not the business."""
    return call.auth.role is Role.PUBLIC


def _check_page_booking(call: Call, body: Any) -> None:
    """A project names what its page may book: its graph, its resources, its classes."""
    cid = _cid(call)
    if body.project_id is None:
        if _page(call):
            raise ValidationFailed("a booking page books through its project: send project_id", field="project_id")
        return
    project = projects.project_view(projects.get_project(cid, body.project_id, field="project_id"))
    if not _page(call):
        return
    graph = project["booking"]["graph"]
    if body.graph != graph:
        raise Forbidden(f"this project's page books {graph} bookings", field="graph")
    if project_rules.is_group_project(project):
        owner_id = body.related.owner_booking_id if body.related else None
        owner = bookings.get(cid, owner_id) if owner_id else None
        if owner is None or owner.project_id != body.project_id:
            raise NotFound("no such group booking in this project", field="related.owner_booking_id")
        return
    resource_id = body.resource_id or (body.event.resource_id if body.event else None)
    allowed = [str(resource) for resource in project.get("resources") or []]
    if allowed and str(resource_id) not in allowed:
        raise Forbidden("book one of the project's resources", field="resource_id")


def _new_booking(body: Any) -> bookings.NewBooking:
    event = body.event.model_dump(mode="json", exclude_none=True, exclude={"resource_id"}) if body.event else {}
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
        time=time_claims.ask_for(body.resource_id, body.event.resource_id if body.event else None),
        project_id=body.project_id,
    )


@route(
    bp,
    "/v2/bookings",
    "POST",
    summary="Create a booking: it runs its graph's first action (a booking page: its project's graph and resources)",
    scheme=PAGE,
    tag=TAG,
    request="timekit.schemas:BookingCreate",
    idempotent=True,
    response="timekit.schemas:BookingOut",
    status=201,
    errors=(404, 409),
)
def create_booking(call: Call) -> Any:
    body = call.body(s.BookingCreate)
    _check_page_booking(call, body)
    if body.project_id and body.graph in project_rules.GROUP_GRAPHS and body.related:
        # Timekit's widget books a class at the resource it showed it with (its project's); a
        # seat takes its place in the class, so that echo is not a resource's time to claim.
        body = body.model_copy(update={"resource_id": None})
    booking = bookings.create(_cid(call), _new_booking(body), actor=actor_of(call.auth))
    _with_etag(call, booking)
    return s.BookingOut(data=_data(booking, with_logs=not _page(call), call=call))


# search=key:value;key:value, as Timekit and its SDK and widget send it; each key names one
# attribute of the booking, and several keys must all match.
SEARCH_KEYS = {
    "graph": "graph",
    "state": "state",
    "resource.id": "resource.id",
    "resource_id": "resource.id",
    "customer.email": "customer.email",
    "customers.email": "customer.email",
    "customer.name": "customer.name",
    "customers.name": "customer.name",
    "customer.phone": "customer.phone",
    "customers.phone": "customer.phone",
    "project.id": "project.id",  # the widget's group mode lists its project's classes
}


def _filters(search: str | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for part in (search or "").split(";"):
        if not part.strip():
            continue
        name, _, value = (piece.strip() for piece in part.partition(":"))
        if name not in SEARCH_KEYS or not value:
            keys_text = ", ".join(SEARCH_KEYS)
            raise ValidationFailed(f"search takes key:value pairs separated by ';', keys {keys_text}", field="search")
        filters[SEARCH_KEYS[name]] = value
    return filters


def _booking_list(
    call: Call, filters: dict[str, str], path: str, *, open_only: bool = False, where: dict[str, Any] | None = None
) -> Any:
    query = call.query(s.BookingsQuery)
    condition = bookings.condition_for(filters)
    if open_only:
        # A booking page lists classes it can book: not finished, cancelled or past (full ones
        # stay listed with available_seats 0; Timekit's widget does not read seats).
        clause = (Booking.state == "tentative") & (Booking.start_at > db.iso(clock.utcnow()))  # open: tentative
        condition = clause if condition is None else condition & clause
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
    data = [_data(item) for item in page.items]
    if where is not None:
        # Timekit's widget books a class at its resource (resource.id); a class made without
        # one is shown at its project's first resource (a seat claims no resource time).
        data = [
            item if item.resource else item.model_copy(update={"resource": s.ResourceRef(**where)}) for item in data
        ]
    return s.BookingList.model_validate(v2_page(call, path, page, data))


@route(
    bp,
    "/v2/bookings",
    "GET",
    summary="Bookings, newest first; search=graph:x;state:y;resource.id:z;customers.email:e, start/end",
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
    summary="Group bookings (group_owner) with their seats; a booking page: its project's open ones",
    scheme=PAGE,
    tag=TAG,
    query="timekit.schemas:BookingsQuery",
    response="timekit.schemas:BookingList",
    errors=(404,),
)
def list_groups(call: Call) -> Any:
    filters = {**_filters(call.query(s.BookingsQuery).search), "graph": "group_owner"}
    if _page(call):
        if "project.id" not in filters:
            raise ValidationFailed("a booking page lists its project's classes: search=project.id:<id>", field="search")
        project = projects.project_view(projects.get_project(_cid(call), filters["project.id"], field="search"))
        first = str(next(iter(project.get("resources") or []), ""))
        where = resources.summary(resources.get(_cid(call), int(first))) if first.isdigit() else None
        return _booking_list(call, filters, "/v2/bookings/groups", open_only=True, where=where)
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
    include = call.query(s.IncludeQuery).include
    links = call if include and "customer_action_links" in include else None
    return s.BookingOut(data=_data(booking, with_logs=True, include=include, call=links))


@route(
    bp,
    "/v2/bookings/{booking_id}/ical",
    "GET",
    summary="The booking as an iCalendar file: one UID through reschedules, SEQUENCE grows per change",
    scheme=V2,
    tag=TAG,
    produces="text/calendar",
    errors=(404, 409),
    path_types=NAMES,
)
def ical(call: Call, booking_id: str) -> Any:
    booking = bookings.get(_cid(call), booking_id)
    if not booking.start_at or not booking.end_at:
        raise Conflict("this booking has no time to put in a calendar", field="booking_id", code=ErrorCode.NO_TIME)
    return calendar_reply(calendars.invitation(booking))


@route(
    bp,
    "/v2/resources/{resource_id}/calendar_feed",
    "GET",
    summary="The secret URL of a resource's calendar feed (its bookings, iCalendar)",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas:FeedOut",
    errors=(404,),
    path_types={"resource_id": "integer"},
)
def calendar_feed(call: Call, resource_id: int) -> Any:
    rid = resource_id
    resources.get(_cid(call), rid, field="resource_id")
    token = customer_links.feed_token(_cid(call), rid)
    return s.FeedOut(data=s.FeedData(url=f"{call.base_url}/v2/feeds/{_cid(call)}/{rid}/{token}"))


@route(
    bp,
    "/v2/feeds/{company_id}/{resource_id}/{token}",
    "GET",
    summary="A resource's bookings as an iCalendar feed; the URL is the secret",
    scheme=Scheme.NONE,
    tag=TAG,
    produces="text/calendar",
    errors=(404,),
    path_types={"company_id": "integer", "resource_id": "integer", "token": "string"},
    rate_limited=True,
)
def resource_feed(call: Call, company_id: int, resource_id: int, token: str) -> Any:
    cid, rid = company_id, resource_id
    customer_links.check_feed(cid, rid, token)
    resource = resources.get(cid, rid, field="resource_id")
    body = calendars.resource_feed(cid, rid, str(resource.name), clock.utcnow())
    return calendar_reply(body)


@route(
    bp,
    "/v2/bookings/{booking_id}/external_action/{action}",
    "GET",
    summary="A customer's signed action link (from an email): cancel_by_customer or reschedule_by_customer, once",
    scheme=Scheme.NONE,
    tag=TAG,
    query="timekit.schemas:ExternalActionQuery",
    response="timekit.schemas:BookingOut",
    errors=(401, 403, 404, 409),
    also_status=(302,),
    path_types=NAMES,
    rate_limited=True,
)
def external_action(call: Call, booking_id: str, action: str) -> Any:
    return _signed_link(call, booking_id, action, action_links.perform)


def _signed_link(call: Call, subject_id: str, action: str, perform: Callable[[ActionLink, datetime], Booking]) -> Any:
    """A customer's one-click link: check its signature for ``subject_id`` and ``action``, run it,
    then send the customer to ``redirect`` (one of the company's origins) or answer the booking."""
    asked = call.query(s.ExternalActionQuery)
    now = clock.utcnow()
    link = customer_links.read_action_signature(subject_id, action, asked.signature, now)
    target = _redirect_target(link.company_id, asked.redirect)
    booking = perform(link, now)
    if target is not None:
        return Response(body="", status_code=302, headers={"Location": target})
    return s.BookingOut(data=_data(booking))


@route(
    bp,
    "/v2/waitlist/offers/{reservation_id}/book",
    "GET",
    summary="A waitlist offer's signed link (from its email): books the offered seats with the offer's hold, once",
    scheme=Scheme.NONE,
    tag=TAG,
    query="timekit.schemas:ExternalActionQuery",
    response="timekit.schemas:BookingOut",
    status=201,
    errors=(401, 403, 404, 409),
    also_status=(302,),
    path_types={"reservation_id": "uuid"},
    rate_limited=True,
)
def book_offer(call: Call, reservation_id: str) -> Any:
    return _signed_link(
        call,
        reservation_id,
        customer_links.BOOK_OFFER,
        lambda link, _now: baskets.book_offer(link.company_id, reservation_id),
    )


def _redirect_target(company_id: int, redirect: str | None) -> str | None:
    """Where to send the customer afterwards: a page of one of the company's origins (no open redirect)."""
    if redirect is None:
        return None
    origins = companies.get_company(company_id).allowed_origins
    parts = urlsplit(redirect)
    try:
        origin = cors.normalise_origin(f"{parts.scheme}://{parts.netloc}", field="redirect")
    except ValidationFailed:
        raise ValidationFailed("redirect must be an absolute http(s) URL", field="redirect") from None
    if not origins or origin not in set(origins):
        raise ValidationFailed("redirect must be on one of the company's allowed origins", field="redirect")
    return redirect


@route(
    bp,
    "/v2/bookings/{booking_id}/{action}",
    "PUT",
    summary="Run an action the booking's graph allows now (a booking page: cancel_by_customer with its link)",
    scheme=PAGE,
    tag=TAG,
    request="timekit.schemas:ActionIn",
    idempotent=True,
    response="timekit.schemas:BookingOut",
    errors=(404, 409, 412),
    path_types=NAMES,
)
def act(call: Call, booking_id: str, action: str) -> Any:
    body = call.body(s.ActionIn)
    if _page(call):
        if action != "cancel_by_customer":
            raise Forbidden("a booking page may only cancel_by_customer", field="action")
        customer_links.check(_cid(call), booking_id, call.header(customer_links.HEADER))
    booking = bookings.act(
        _cid(call), booking_id, action, body.options(), if_match=_if_match(call), actor=actor_of(call.auth)
    )
    _with_etag(call, booking)
    return s.BookingOut(data=_data(booking, with_logs=True))


@route(
    bp,
    "/v2/bookings/{booking_id}/reschedule",
    "POST",
    summary="Move a booking in time, keeping lineage (a booking page: with its customer's link)",
    scheme=PAGE,
    tag=TAG,
    request="timekit.schemas:RescheduleIn",
    response="timekit.schemas:BookingOut",
    status=201,
    errors=(404, 409),
    path_types=NAMES,
)
def reschedule(call: Call, booking_id: str) -> Any:
    body = call.body(s.RescheduleIn)
    if _page(call):
        customer_links.check(_cid(call), booking_id, call.header(customer_links.HEADER))
    resource = time_claims.ask_for(body.resource_id, None)
    moved = bookings.reschedule(
        _cid(call),
        booking_id,
        body.start.isoformat(),
        body.end.isoformat(),
        body.message,
        resource.resource_ids[0] if resource else None,
    )
    _with_etag(call, moved)
    return s.BookingOut(data=_data(moved, with_logs=not _page(call), call=call))


@route(
    bp,
    "/v2/bookings/{booking_id}",
    "DELETE",
    summary="Delete an ended booking's record (a live one is 409 booking_active: cancel it first)",
    scheme=V2,
    tag=TAG,
    status=204,
    errors=(404, 409, 412),
    path_types=NAMES,
)
def delete_booking(call: Call, booking_id: str) -> Any:
    removal.delete(_cid(call), booking_id, if_match=_if_match(call))
    return Response(body="", status_code=204)


# --- bulk: each item is its own transaction; the reply reports each ------------------------------------


def _each(items: Sequence[T], run: Callable[[T], Booking], status: int, id_of: Callable[[T], str | None]) -> Any:
    """Run each item alone; one item's refusal is its entry in the reply, never the others'."""
    outcomes: list[s.BulkItem] = []
    for index, item in enumerate(items):
        try:
            booking = run(item)
        except BookingError as error:
            detail = s.BulkError.model_validate(
                {"code": error.code, "message": error.message, "field": error.field, **error.extra}
            )
            outcomes.append(s.BulkItem(index=index, id=id_of(item), status=error.status, error=detail))
            continue
        outcomes.append(s.BulkItem(index=index, id=booking.booking_id, status=status, data=_data(booking)))
    failed = sum(1 for outcome in outcomes if outcome.error is not None)
    return s.BulkOut(data=outcomes, meta=s.BulkMeta(succeeded=len(outcomes) - failed, failed=failed))


@route(
    bp,
    "/v2/bookings/bulk",
    "POST",
    summary="Create several bookings; each is its own transaction and the reply reports each",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:BulkCreate",
    idempotent=True,
    response="timekit.schemas:BulkOut",
)
def create_bulk(call: Call) -> Any:
    return _each(
        call.body(s.BulkCreate).bookings,
        lambda item: bookings.create(_cid(call), _new_booking(item)),
        201,
        lambda _item: None,
    )


@route(
    bp,
    "/v2/bookings/bulk",
    "PUT",
    summary="Run an action on several bookings ({id, action} each); each is its own transaction",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas:BulkAction",
    idempotent=True,
    response="timekit.schemas:BulkOut",
)
def act_bulk(call: Call) -> Any:
    return _each(
        call.body(s.BulkAction).bookings,
        lambda item: bookings.act(_cid(call), item.id, item.action, item.options()),
        200,
        lambda item: item.id,
    )


# --- reservations ------------------------------------------------------------------------------------


def _reservation(hold: Hold) -> Any:
    event = plain(hold.details).get("event", {}) if hold.resource else {}
    return s.ReservationOut(
        data=present(
            s.ReservationData,
            hold,
            id=hold.hold_id,
            status=effective_status(hold, clock.now()),
            expires_at=db.iso_epoch(hold.expires_at),
            resource=plain(hold.resource) if hold.resource else None,
            start=event.get("start"),
            end=event.get("end"),
        )
    )


@route(
    bp,
    "/v2/bookings/reserve",
    "POST",
    summary="Hold seats of a group, or (secret key) a resource's time, for reservation_time seconds (a page: a class)",
    scheme=PAGE,
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
    seconds = body.reservation_time or company.reservation_time
    customer = body.customer.model_dump(exclude_none=True) if body.customer else {}
    if body.resource_id is not None or body.related is None:
        if _page(call):
            raise Forbidden("a booking page reserves seats of a project's class, not time", field="resource_id")
        return _reservation(
            holds_service.place_time(_cid(call), *_time_reservation(body), seconds, {"customer": customer})
        )
    if body.graph is not None and body.graph not in ("group_customer", "group_customer_payment"):
        raise ValidationFailed("seats of a group are reserved for a group_customer graph", field="graph")
    owner = bookings.reservable_owner(_cid(call), body.related.owner_booking_id, actor=actor_of(call.auth))
    if _page(call) and not owner.project_id:
        raise NotFound("no such group booking on a booking page", field="related.owner_booking_id")
    hold = holds_service.place(
        _cid(call),
        owner.capacity_id or "",
        bookings.shard_count(owner),
        body.related.seats,
        seconds,
        {"graph": body.graph or "group_customer", "customer": customer},
        owner_booking_id=owner.booking_id,
    )
    return _reservation(hold)


def _time_reservation(body: Any) -> tuple[Any, dict[str, Any]]:
    """(time ask, event) of a 1:1 reservation: resource_id, start and end are required."""
    for name in ("resource_id", "start", "end"):
        if getattr(body, name) is None:
            raise ValidationFailed(f"{name} is required to reserve time (or related, to reserve seats)", field=name)
    if body.graph is not None and body.graph not in ("instant", "confirm_decline", "instant_payment"):
        raise ValidationFailed(
            "time is reserved for an instant, confirm_decline or instant_payment booking", field="graph"
        )
    ask = time_claims.ask_for(body.resource_id, None)
    assert ask is not None
    event = {"start": body.start.isoformat(), "end": body.end.isoformat(), "what": body.what or "", "where": body.where}
    if body.end <= body.start:
        raise ValidationFailed("end is after start", field="end")
    return ask, {k: v for k, v in event.items() if v is not None}


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
    return _reservation(holds_service.extend(_cid(call), body.reservation_id, company.reservation_time))
