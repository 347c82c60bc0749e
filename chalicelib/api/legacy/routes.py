"""The legacy XML sessions API (seed 001), HTTP Basic with an administrator's email and password.

A session is an event chain and its slots are its events: the same service code as
``/api/v1`` (``services/events.py``), so a session made here is listed, and
bookable, there. Chalice cannot route ``{id}.xml`` (a parameter must be a whole
path segment), so the routes take ``{session_file}`` and accept only ``<digits>.xml``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response

from chalicelib.api.http.errors import XML_TYPES, validation_error
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain import clock
from chalicelib.domain.errors import ErrorCode, NotFound, UnsupportedMediaType, ValidationFailed
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import Event, EventChain

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from chalicelib.api.bookingbug import events as events_v1
    from chalicelib.api.bookingbug import schemas_events as e
    from chalicelib.api.legacy import xmlio
    from chalicelib.services.catalogue import events
else:
    e = LazyModule("chalicelib.api.bookingbug.schemas_events")
    # XML and the events service load with the first legacy request, not at cold start.
    xmlio = LazyModule("chalicelib.api.legacy.xmlio")
    events = LazyModule("chalicelib.services.catalogue.events")
    events_v1 = LazyModule("chalicelib.api.bookingbug.events")

bp = Blueprint(__name__)
TAG = "legacy xml"
XML = xmlio.XML_TYPE
_FILE = re.compile(r"^([1-9][0-9]{0,17})\.xml$")
# Seed 001's session parameters, as they arrive in XML; slots are handled apart.
_SESSION_FIELDS = frozenset(
    {
        "name",
        "type",
        "start_date",
        "end_date",
        "duration",
        "time",
        "group",
        "description",
        "spaces",
        "price",
        "max_num_bookings",
        "repeat",
        "disabled",
        "min_cancel",
        "max_advance",
        "ask_address",
        "ticket_type",
    }
)
_SLOT_FIELDS = frozenset({"date", "time", "duration", "spaces"})
_QUERY_TYPES = {"event": 0, "course": 1, "recurring_event": 2}


def _id_of(file_name: str, what: str) -> int:
    match = _FILE.match(file_name)
    if match is None:
        raise NotFound(f"no such {what}", field="id")
    return int(match.group(1))


def _check_media_type(call: Call) -> None:
    # curl -d without -H sends form-encoded: accept it as the seed's own examples could.
    media_type = (call.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if media_type not in (*XML_TYPES, "", "application/x-www-form-urlencoded"):
        raise UnsupportedMediaType(f"send the body as {XML}, not {media_type}", field="Content-Type")


def _text_fields(node: Element, allowed: frozenset[str], where: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in node:
        if child.tag == "slots" and where == "session":
            continue
        if child.tag not in allowed:
            raise ValidationFailed(
                f"<{child.tag}> is not a {where} field", field=str(child.tag), code=ErrorCode.UNKNOWN_FIELD
            )
        if len(child):
            raise ValidationFailed(f"<{child.tag}> holds text, not elements", field=str(child.tag))
        fields[str(child.tag)] = (child.text or "").strip()
    return fields


def _price(text: str) -> int:
    """decimal(8,2) to minor units: "12.5" is 1250; more than two decimals is refused."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed("price is a decimal such as 12.50", field="price") from None
    if (
        not amount.is_finite()
        or amount < 0
        or amount >= Decimal("1000000")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValidationFailed("price is a decimal(8,2) such as 12.50", field="price")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _session_fields(root: Element) -> dict[str, Any]:
    if root.tag != "session":
        raise ValidationFailed(f"send a <session> document, not <{root.tag}>", field="session")
    fields: dict[str, Any] = dict(_text_fields(root, _SESSION_FIELDS, "session"))
    if "price" in fields:
        fields["price"] = _price(fields["price"])
    slots = root.find("slots")
    if slots is not None:
        listed = []
        for index, slot in enumerate(slots):
            if slot.tag != "slot":
                raise ValidationFailed(f"<slots> holds <slot> elements, not <{slot.tag}>", field=f"slots.{index}")
            listed.append(_text_fields(slot, _SLOT_FIELDS - {"spaces"}, "slot"))
        fields["slots"] = listed
    return {
        name: (None if value == "" and name in ("end_date", "max_advance") else value) for name, value in fields.items()
    }


def _validated(model: Any, fields: dict[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    try:
        # XML carries only text ("true", "3"): read it as text, where JSON bodies are strict.
        body = model.model_validate(fields, strict=False)
    except ValidationError as exc:
        raise validation_error(exc) from None
    return events_v1.chain_spec(body.model_dump(exclude_unset=True))


def _session(chain: EventChain, zone: ZoneInfo, slots: list[Event] | None) -> Element:
    rules = events.rules(chain)
    node = xmlio.element(
        "session",
        {"id": chain.chain_id},
        name=chain.name,
        group=chain.group,
        description=chain.description or None,
        type=chain.session_type,
        repeat=chain.repeat,
        time=chain.time,
        start_date=chain.start_date,
        end_date=chain.end_date,
        duration=chain.duration,
        spaces=chain.spaces,
        price=f"{Decimal(rules.price) / 100:.2f}",
        max_num_bookings=rules.max_num_bookings,
        disabled=rules.disabled,
        min_cancel=rules.min_cancel_days,
        max_advance=rules.max_advance_days,
        ask_address=bool(chain.ask_address),
        ticket_type=rules.ticket_type,
    )
    if slots is not None:
        listed = xmlio.element("slots")
        for event in slots:
            listed.append(_slot(event, zone))
        node.append(listed)
    return node


def _slot(event: Event, zone: ZoneInfo) -> Element:
    local = events.start_of(event).astimezone(zone)
    seats = events.availability(event)
    return xmlio.element(
        "slot",
        {"id": event.event_id},
        date=local.date().isoformat(),
        time=local.strftime("%H:%M"),
        duration=event.duration,
        spaces=seats["num_spaces"],
        spaces_booked=seats["spaces_booked"],
        spaces_reserved=seats["spaces_reserved"],
    )


def _show(call: Call, chain_id: int, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    company_id = _company(call)
    chain = events.get_chain(company_id, chain_id)
    listed = events.chain_events(company_id, chain_id)
    return xmlio.response(_session(chain, events.company_zone(company_id), listed), status, headers)


def _company(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


@route(
    bp,
    "/api/sessions.xml",
    "GET",
    summary="List sessions (event chains) as XML",
    scheme=Scheme.LEGACY,
    tag=TAG,
    produces=XML,
)
def list_sessions(call: Call) -> Response:
    company_id = _company(call)
    root = xmlio.element("sessions")
    page, number = None, 1
    while page is None or page.has_next:
        page = events.list_chains(company_id, number, 100, admin=True)
        for chain in page.items:
            root.append(xmlio.element("session", {"id": chain.chain_id}, name=chain.name, group=chain.group))
        number += 1
    return xmlio.response(root)


@route(
    bp,
    "/api/sessions.xml",
    "POST",
    summary="Create a session with seed 001's defaults for ?type=event|course|recurring_event",
    scheme=Scheme.LEGACY,
    tag=TAG,
    status=201,
    consumes=XML,
    produces=XML,
)
def create_session(call: Call) -> Response:
    _check_media_type(call)
    company_id = _company(call)
    fields = _session_fields(xmlio.parse(call.raw_body))
    params: dict[str, str] = dict(call.request.query_params or {})
    query_type = params.get("type")
    if query_type is not None and query_type not in _QUERY_TYPES:
        raise ValidationFailed("type is event, course or recurring_event", field="type")
    session_type = _QUERY_TYPES.get(query_type or "", 0)
    if fields.get("type") not in (None, ""):
        session_type = int(fields["type"]) if str(fields["type"]).isdigit() else -1
    if session_type not in (0, 1, 2):
        raise ValidationFailed("type is 0 (event), 1 (course) or 2 (recurring event)", field="type")
    zone = events.company_zone(company_id)
    defaults = events.session_defaults(session_type, clock.utcnow().astimezone(zone))
    defaults["type"] = defaults.pop("session_type")
    if "end_date" in defaults and fields.get("start_date") and "end_date" not in fields:
        defaults["end_date"] = fields["start_date"]  # the seed's default: "equal to start_date"
    spec = _validated(e.ChainCreate, {**{k: str(v) for k, v in defaults.items()}, **fields, "type": session_type})
    chain, _created = events.create_chain(company_id, spec)
    location = f"{call.base_url}/api/sessions/{chain.chain_id}.xml"
    return _show(call, chain.chain_id, 201, {"Location": location})


@route(
    bp,
    "/api/sessions/{session_file}",
    "GET",
    summary="One session with its slots, as /api/sessions/<id>.xml",
    scheme=Scheme.LEGACY,
    tag=TAG,
    produces=XML,
    errors=(404,),
    path_types={"session_file": "string"},
)
def show_session(call: Call, session_file: str) -> Response:
    return _show(call, _id_of(session_file, "session"))


@route(
    bp,
    "/api/sessions/{session_file}",
    "PUT",
    summary="Update a session; custom slots replace the existing ones (409 for a slot with bookings)",
    scheme=Scheme.LEGACY,
    tag=TAG,
    consumes=XML,
    produces=XML,
    errors=(404, 409),
    path_types={"session_file": "string"},
)
def update_session(call: Call, session_file: str) -> Response:
    chain_id = _id_of(session_file, "session")
    company_id = _company(call)
    events.get_chain(company_id, chain_id)  # 404 before looking at the body
    _check_media_type(call)
    fields = _session_fields(xmlio.parse(call.raw_body))
    spec = _validated(e.ChainUpdate, fields)
    events.update_chain(company_id, chain_id, spec)
    return _show(call, chain_id)


@route(
    bp,
    "/api/sessions/{session_file}",
    "DELETE",
    summary="Delete a session and its slots (409 while a slot has bookings)",
    scheme=Scheme.LEGACY,
    tag=TAG,
    produces=XML,
    errors=(404, 409),
    path_types={"session_file": "string"},
)
def delete_session(call: Call, session_file: str) -> Response:
    chain_id = _id_of(session_file, "session")
    company_id = _company(call)
    chain = events.delete_chain(company_id, chain_id)
    return xmlio.response(_session(chain, events.company_zone(company_id), None))


@route(
    bp,
    "/api/slots/{slot_file}",
    "PUT",
    summary="Move or resize one slot (date, time, duration, spaces), as /api/slots/<id>.xml",
    scheme=Scheme.LEGACY,
    tag=TAG,
    consumes=XML,
    produces=XML,
    errors=(404, 409),
    path_types={"slot_file": "string"},
)
def update_slot(call: Call, slot_file: str) -> Response:
    event_id = _id_of(slot_file, "slot")
    company_id = _company(call)
    events.get_event(company_id, event_id)  # 404 before looking at the body
    _check_media_type(call)
    root = xmlio.parse(call.raw_body)
    if root.tag != "slot":
        raise ValidationFailed(f"send a <slot> document, not <{root.tag}>", field="slot")
    fields = _text_fields(root, _SLOT_FIELDS, "slot")
    from pydantic import ValidationError

    try:
        checked = e.SlotUpdate.model_validate(fields)
    except ValidationError as exc:
        raise validation_error(exc) from None
    event = events.update_event(company_id, event_id, checked.model_dump(exclude_none=True))
    return xmlio.response(_slot(event, events.company_zone(company_id)))
