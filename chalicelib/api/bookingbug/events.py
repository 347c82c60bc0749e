"""BookingBug v1 face of events (HAL): event groups, event chains and events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from chalice import Blueprint

from chalicelib.api.http.hal import hal_page, link, page_links, v1_root
from chalicelib.api.http.present import present
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain import clock
from chalicelib.domain.errors import ErrorCode, ValidationFailed
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import Event, EventChain, EventGroup, plain_map

if TYPE_CHECKING:
    from chalicelib.api.bookingbug import schemas_events as e
    from chalicelib.domain import event_rules, recurrence
    from chalicelib.services.catalogue import events
    from chalicelib.services.identity import companies
else:
    e = LazyModule("chalicelib.api.bookingbug.schemas_events")  # built on first request, not at cold start
    # The services (and rrule behind them) load on first use too: they cost ~70 ms of cold start.
    event_rules = LazyModule("chalicelib.domain.event_rules")
    recurrence = LazyModule("chalicelib.domain.recurrence")
    companies = LazyModule("chalicelib.services.identity.companies")
    events = LazyModule("chalicelib.services.catalogue.events")

bp = Blueprint(__name__)
TAG = "bookingbug events"
PUBLIC = Scheme.V1_PUBLIC
ADMIN = Scheme.V1_ADMIN
TYPE_NAMES: dict[int, Literal["event", "course", "recurring_event"]] = {0: "event", 1: "course", 2: "recurring_event"}


# --- event groups -------------------------------------------------------------------------------


def _event_group(call: Call, group: EventGroup, admin: bool = False) -> e.EventGroupOut:
    cid, gid = group.company_id, group.group_id
    own = f"{v1_root(call)}/admin/{cid}/event_groups/{gid}" if admin else f"{v1_root(call)}/{cid}/event_groups/{gid}"
    return present(
        e.EventGroupOut,
        group,
        id=gid,
        extra=plain_map(group.extra),
        _links={
            "self": link(own),
            "events": link(f"{v1_root(call)}/{cid}/events?event_group_id={gid}{{&start_date,end_date}}", True),
            "event_chains": link(f"{v1_root(call)}/{cid}/event_chains"),
        },
    )


def _event_group_list(call: Call, company_id: int, admin: bool) -> e.EventGroupList:
    from chalicelib.api.http.schemas import PageQuery

    query = call.query(PageQuery)
    companies.get_company(company_id)
    page = events.list_event_groups(company_id, query.page, query.per_page)
    path = f"/admin/{company_id}/event_groups" if admin else f"/{company_id}/event_groups"
    return e.EventGroupList.model_validate(
        hal_page(call, path, page, "event_groups", lambda c, g: _event_group(c, g, admin))
    )


@route(
    bp,
    "/api/v1/{company_id}/event_groups",
    "GET",
    summary="Event groups (categories such as Fitness), paginated",
    scheme=PUBLIC,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas_events:EventGroupList",
    errors=(404,),
)
def public_event_groups(call: Call, company_id: int) -> e.EventGroupList:
    return _event_group_list(call, company_id, admin=False)


@route(
    bp,
    "/api/v1/{company_id}/event_groups/{event_group_id}",
    "GET",
    summary="One event group",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas_events:EventGroupOut",
    errors=(404,),
)
def public_event_group(call: Call, company_id: int, event_group_id: int) -> e.EventGroupOut:
    return _event_group(call, events.get_event_group(company_id, event_group_id))


@route(
    bp,
    "/api/v1/admin/{company_id}/event_groups",
    "GET",
    summary="Event groups",
    scheme=ADMIN,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas_events:EventGroupList",
    errors=(404,),
)
def admin_event_groups(call: Call, company_id: int) -> e.EventGroupList:
    return _event_group_list(call, company_id, admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_groups",
    "POST",
    summary="Create an event group",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas_events:EventGroupIn",
    response="bookingbug.schemas_events:EventGroupOut",
    status=201,
    errors=(404,),
)
def create_event_group(call: Call, company_id: int) -> e.EventGroupOut:
    body = call.body(e.EventGroupIn)
    group = events.create_event_group(company_id, body.name, body.description or "", body.extra)
    return _event_group(call, group, admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_groups/{event_group_id}",
    "GET",
    summary="One event group",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas_events:EventGroupOut",
    errors=(404,),
)
def admin_event_group(call: Call, company_id: int, event_group_id: int) -> e.EventGroupOut:
    return _event_group(call, events.get_event_group(company_id, event_group_id), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_groups/{event_group_id}",
    "PUT",
    summary="Update an event group (fields given only)",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas_events:EventGroupUpdate",
    response="bookingbug.schemas_events:EventGroupOut",
    errors=(404, 409),
)
def update_event_group(call: Call, company_id: int, event_group_id: int) -> e.EventGroupOut:
    fields = call.body(e.EventGroupUpdate).model_dump(exclude_none=True)
    return _event_group(call, events.update_event_group(company_id, event_group_id, fields), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_groups/{event_group_id}",
    "DELETE",
    summary="Delete an event group (409 while event chains are in it)",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas_events:EventGroupOut",
    errors=(404, 409),
)
def delete_event_group(call: Call, company_id: int, event_group_id: int) -> e.EventGroupOut:
    return _event_group(call, events.delete_event_group(company_id, event_group_id), admin=True)


# --- event chains -------------------------------------------------------------------------------


def local_iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _chain(
    call: Call, chain: EventChain, zone: ZoneInfo, admin: bool = False, created: list[Event] | None = None
) -> e.ChainOut:
    cid, chain_id = chain.company_id, chain.chain_id
    api = f"{v1_root(call)}/{cid}"
    rules = events.rules(chain)
    own = f"{v1_root(call)}/admin/{cid}/event_chains/{chain_id}" if admin else f"{api}/event_chains/{chain_id}"
    links = {
        "self": link(own),
        "events": link(f"{api}/events?event_chain_id={chain_id}{{&start_date,end_date,page,per_page}}", True),
        "company": link(f"{v1_root(call)}/company/{cid}"),
    }
    if rules.course:
        links["book"] = link(f"{api}/basket/add_item?event_chain_id={chain_id}")
    if chain.detail_group_id is not None:
        links["questions"] = link(f"{api}/questions?detail_group_id={chain.detail_group_id}")
    if chain.event_group_id is not None:
        links["event_group"] = link(f"{api}/event_groups/{chain.event_group_id}")
    embedded = None
    if created is not None:
        briefs = [
            e.EventBrief(id=ev.event_id, datetime=local_iso(events.start_of(ev), zone), duration=ev.duration)
            for ev in created
        ]
        embedded = e.ChainEmbedded(events=briefs)
    return present(
        e.ChainOut,
        chain,
        id=chain_id,
        type=TYPE_NAMES[chain.session_type],
        course=rules.course,
        recurrence_type=recurrence.REPEAT_NAMES[recurrence.Repeat(chain.repeat)],
        timezone=zone.key,
        # the booking rules as the chain applies them (defaults filled), not as stored
        price=rules.price,
        max_num_bookings=rules.max_num_bookings,
        min_advance=rules.min_advance_minutes,
        min_advance_unit="minute",
        max_advance=rules.max_advance_days,
        max_advance_unit="day",
        min_cancel=rules.min_cancel_days,
        min_cancel_unit="day",
        ticket_type=rules.ticket_type,
        questions_per_ticket=rules.questions_per_ticket,
        email_per_ticket=rules.email_per_ticket,
        detail_group_id=rules.detail_group_id,
        disabled=rules.disabled,
        slots=[e.SlotOut(**plain_map(slot)) for slot in chain.slots],
        extra=plain_map(chain.extra),
        _embedded=embedded,
        _links=links,
    )


def chain_spec(fields: dict[str, Any]) -> dict[str, Any]:
    """A request's fields as the service's spec (``type`` becomes ``session_type``)."""
    spec = dict(fields)
    if "type" in spec:
        kind = spec.pop("type")
        spec["session_type"] = events.SESSION_TYPES[kind] if isinstance(kind, str) else kind
    if spec.get("slots") is not None:
        spec["slots"] = [{k: v for k, v in slot.items() if v is not None} for slot in spec["slots"]]
    return spec


def _chain_list(call: Call, company_id: int, admin: bool) -> e.ChainList:
    from chalicelib.api.http.schemas import PageQuery

    query = call.query(PageQuery)
    zone = events.company_zone(company_id)
    page = events.list_chains(company_id, query.page, query.per_page, admin=admin)
    path = f"/admin/{company_id}/event_chains" if admin else f"/{company_id}/event_chains"
    return e.ChainList.model_validate(
        hal_page(call, path, page, "event_chains", lambda c, chain: _chain(c, chain, zone, admin))
    )


@route(
    bp,
    "/api/v1/{company_id}/event_chains",
    "GET",
    summary="Courses and repeating events (not disabled)",
    scheme=PUBLIC,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas_events:ChainList",
    errors=(404,),
)
def public_event_chains(call: Call, company_id: int) -> e.ChainList:
    return _chain_list(call, company_id, admin=False)


@route(
    bp,
    "/api/v1/{company_id}/event_chains/{event_chain_id}",
    "GET",
    summary="One event chain",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas_events:ChainOut",
    errors=(404,),
)
def public_event_chain(call: Call, company_id: int, event_chain_id: int) -> e.ChainOut:
    chain = events.get_chain(company_id, event_chain_id)
    return _chain(call, chain, events.company_zone(company_id))


@route(
    bp,
    "/api/v1/admin/{company_id}/event_chains",
    "GET",
    summary="Event chains, disabled too",
    scheme=ADMIN,
    tag=TAG,
    query="PageQuery",
    response="bookingbug.schemas_events:ChainList",
    errors=(404,),
)
def admin_event_chains(call: Call, company_id: int) -> e.ChainList:
    return _chain_list(call, company_id, admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_chains",
    "POST",
    summary="Create an event chain (one-off event, course or recurring event) and its events",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas_events:ChainCreate",
    response="bookingbug.schemas_events:ChainOut",
    status=201,
    errors=(404,),
)
def create_event_chain(call: Call, company_id: int) -> e.ChainOut:
    spec = chain_spec(call.body(e.ChainCreate).model_dump(exclude_none=True))
    chain, created = events.create_chain(company_id, spec)
    return _chain(call, chain, events.company_zone(company_id), admin=True, created=created)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_chains/{event_chain_id}",
    "GET",
    summary="One event chain with its events",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas_events:ChainOut",
    errors=(404,),
)
def admin_event_chain(call: Call, company_id: int, event_chain_id: int) -> e.ChainOut:
    chain = events.get_chain(company_id, event_chain_id)
    listed = events.chain_events(company_id, event_chain_id)
    return _chain(call, chain, events.company_zone(company_id), admin=True, created=listed)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_chains/{event_chain_id}",
    "PUT",
    summary="Update an event chain; slots replace the schedule, a slot with bookings is never dropped (409)",
    scheme=ADMIN,
    tag=TAG,
    request="bookingbug.schemas_events:ChainUpdate",
    response="bookingbug.schemas_events:ChainOut",
    errors=(404, 409),
)
def update_event_chain(call: Call, company_id: int, event_chain_id: int) -> e.ChainOut:
    spec = chain_spec(call.body(e.ChainUpdate).model_dump(exclude_unset=True))
    spec = {k: v for k, v in spec.items() if v is not None or k in ("end_date", "max_advance")}
    chain, listed = events.update_chain(company_id, event_chain_id, spec)
    return _chain(call, chain, events.company_zone(company_id), admin=True, created=listed)


@route(
    bp,
    "/api/v1/admin/{company_id}/event_chains/{event_chain_id}",
    "DELETE",
    summary="Delete an event chain and its events (409 while any has bookings or holds)",
    scheme=ADMIN,
    tag=TAG,
    response="bookingbug.schemas_events:ChainOut",
    errors=(404, 409),
)
def delete_event_chain(call: Call, company_id: int, event_chain_id: int) -> e.ChainOut:
    chain = events.delete_chain(company_id, event_chain_id)
    return _chain(call, chain, events.company_zone(company_id), admin=True)


# --- events -------------------------------------------------------------------------------------


class _Chains:
    """The chains of the events on one page, read once each."""

    def __init__(self, company_id: int) -> None:
        self.company_id = company_id
        self.found: dict[int, EventChain | None] = {}

    def of(self, event: Event) -> EventChain | None:
        chain_id = event.chain_id
        if chain_id not in self.found:
            try:
                self.found[chain_id] = events.get_chain(self.company_id, chain_id)
            except Exception:  # an event whose chain is being written or was removed is not shown
                self.found[chain_id] = None
        return self.found[chain_id]


def _event(call: Call, event: Event, chain: EventChain, zone: ZoneInfo, now: datetime) -> e.EventOut:
    cid, event_id, chain_id = event.company_id, event.event_id, event.chain_id
    api = f"{v1_root(call)}/{cid}"
    start = events.start_of(event)
    seats = events.availability(event)
    rules = events.rules(chain)
    bookable = seats["bookable"] and event_rules.allows_booking(rules, start, now)
    links = {
        "self": link(f"{api}/events/{event_id}"),
        "event_chain": link(f"{api}/event_chains/{chain_id}"),
        "book": link(f"{api}/basket/add_item?event_id={event_id}&event_chain_id={chain_id}"),
    }
    if event.event_group_id is not None:
        links["event_group"] = link(f"{api}/event_groups/{event.event_group_id}")
    if rules.detail_group_id is not None:
        links["questions"] = link(f"{api}/questions?detail_group_id={rules.detail_group_id}")
    return e.EventOut(
        id=event_id,
        name=chain.name,
        description=chain.description,
        datetime=local_iso(start, zone),
        end_datetime=local_iso(start + timedelta(minutes=event.duration), zone),
        duration=event.duration,
        units="minute",
        status="open" if bookable else "closed",
        ticket_spaces={},
        price=rules.price,
        bookable=bookable,
        course=rules.course,
        company_id=cid,
        event_chain_id=chain_id,
        event_group_id=event.event_group_id,
        service_id=None,
        _links=links,
        **{k: v for k, v in seats.items() if k != "bookable"},
    )


def event_range(start_date: date | None, end_date: date | None, zone: ZoneInfo) -> tuple[date, date]:
    """The listing's local dates (end inclusive): one month by default, at most MAX_RANGE_DAYS."""
    from dateutil.relativedelta import relativedelta

    first = start_date or clock.utcnow().astimezone(zone).date()
    last = end_date or (first + relativedelta(months=1))
    if last < first:
        raise ValidationFailed("end_date is before start_date", field="end_date", code=ErrorCode.INVALID_RANGE)
    if (last - first).days + 1 > events.MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"ask for at most {events.MAX_RANGE_DAYS} days of events at a time",
            field="end_date",
            code=ErrorCode.RANGE_TOO_WIDE,
        )
    return first, last


@route(
    bp,
    "/api/v1/{company_id}/events",
    "GET",
    summary="Bookable events between two dates (one month by default, at most 93 days), by start",
    scheme=PUBLIC,
    tag=TAG,
    query="bookingbug.schemas_events:EventsQuery",
    response="bookingbug.schemas_events:EventList",
    errors=(404,),
)
def list_events(call: Call, company_id: int) -> e.EventList:
    query = call.query(e.EventsQuery)
    zone = events.company_zone(company_id)
    first, last = event_range(query.start_date, query.end_date, zone)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    page = events.list_events(
        company_id,
        start,
        end,
        query.page,
        query.per_page,
        event_group_id=query.event_group_id,
        event_chain_id=query.event_chain_id,
    )
    chains = _Chains(company_id)
    now = clock.utcnow()
    rendered = []
    for event in page.items:
        chain = chains.of(event)
        if chain is not None:
            rendered.append(_event(call, event, chain, zone, now))
    filters = f"start_date={first.isoformat()}&end_date={last.isoformat()}&"
    for name in ("event_group_id", "event_chain_id"):
        if getattr(query, name) is not None:
            filters += f"{name}={getattr(query, name)}&"
    return e.EventList(
        total_entries=page.total,
        start_date=first.isoformat(),
        end_date=last.isoformat(),
        _embedded=e.EventEmbedded(events=rendered),
        _links=page_links(call, f"/{company_id}/events", page, filters),
    )


@route(
    bp,
    "/api/v1/{company_id}/events/{event_id}",
    "GET",
    summary="One event with its spaces and booking link",
    scheme=PUBLIC,
    tag=TAG,
    response="bookingbug.schemas_events:EventOut",
    errors=(404,),
)
def get_event(call: Call, company_id: int, event_id: int) -> e.EventOut:
    event = events.get_event(company_id, event_id)
    chain = _Chains(company_id).of(event)
    if chain is None:
        from chalicelib.domain.errors import NotFound

        raise NotFound("event not found", field="event_id")
    return _event(call, event, chain, events.company_zone(company_id), clock.utcnow())
