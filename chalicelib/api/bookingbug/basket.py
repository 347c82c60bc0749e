"""BookingBug v1 basket, checkout and purchases (seed 000's event flow).

``add_item`` answers with an ``Auth-Token`` header naming the basket; the other
basket routes need it (with the public App-Id/App-Key). A basket token is not an
administrator's session and grants nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from chalice import Blueprint, Response

from chalicelib.api.http.errors import JSON_TYPE, calendar_reply
from chalicelib.api.http.hal import link, v1_root
from chalicelib.api.http.present import present
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, Unauthorized, ValidationFailed
from chalicelib.domain.lifecycle import BasketStatus, HoldStatus, PurchaseStatus, effective_status
from chalicelib.services.identity import auth
from chalicelib.services.identity.auth import Scheme
from chalicelib.store import db
from chalicelib.store.models import Basket, Purchase, plain

if TYPE_CHECKING:
    from chalicelib.api.bookingbug import schemas_basket as b
    from chalicelib.services.catalogue import events
    from chalicelib.services.messaging import calendars
    from chalicelib.services.selling import baskets, capacity, holds
else:
    b = LazyModule("chalicelib.api.bookingbug.schemas_basket")  # built on first request, not at cold start
    # The basket's services load on first use too (they pull in the booking engine).
    baskets = LazyModule("chalicelib.services.selling.baskets")
    calendars = LazyModule("chalicelib.services.messaging.calendars")
    capacity = LazyModule("chalicelib.services.selling.capacity")
    events = LazyModule("chalicelib.services.catalogue.events")
    holds = LazyModule("chalicelib.services.selling.holds")

bp = Blueprint(__name__)
TAG = "bookingbug basket"
NO_SPACE_LEFT = ((409, "bookingbug.schemas_basket:NoSpaceLeftOut"),)


def _basket_id(call: Call) -> str:
    assert call.auth.basket_id is not None
    return call.auth.basket_id


def _render_basket(call: Call, basket: Basket) -> b.BasketOut:
    cid = basket.company_id
    zone = events.company_zone(cid)
    entries = baskets.items_of(basket)
    found = baskets.holds_of(entries)
    base = f"{v1_root(call)}/{cid}/basket"
    items = []
    for entry in entries:
        own = [found[hold_id] for hold_id in entry["hold_ids"] if hold_id in found]
        status = _status(own)
        start = db.parse_iso(str(entry["datetime"]))
        local = start.astimezone(zone)
        num_book, unit_price = int(entry["num_book"]), int(entry["unit_price"])
        live = [hold for hold in own if holds.is_live(hold)]
        slot = entry.get("kind") == "slot"
        items.append(
            b.BasketItemOut(
                id=str(entry["id"]),
                kind="slot" if slot else "event",
                event_id=None if slot or entry["course"] else int(entry["event_ids"][0]),
                event_chain_id=None if slot else int(entry["event_chain_id"]),
                event_ids=[] if slot else [int(event_id) for event_id in entry["event_ids"]],
                service_id=int(entry["service_id"]) if slot else None,
                person_id=int(entry["person_id"]) if entry.get("person_id") is not None else None,
                person_name=entry.get("person_name"),
                resource_id=int(entry["resource_id"]) if entry.get("resource_id") is not None else None,
                resource_name=entry.get("resource_name"),
                course=bool(entry.get("course")),
                num_book=num_book,
                status=cast(Any, status),
                name=str(entry["name"]),
                date=local.date().isoformat(),
                time=local.strftime("%H:%M"),
                datetime=local.isoformat(timespec="seconds"),
                slot_time=local.hour * 60 + local.minute if slot else None,
                duration=int(entry["duration"]),
                price=unit_price,
                total_price=unit_price * num_book,
                expires_at=db.iso_epoch(min(int(h.expires_at) for h in live)) if live else None,
                extensions=max((h.extensions for h in own), default=0),
                _links={"self": link(f"{base}/items/{entry['id']}")},
            )
        )
    total = sum(item.total_price for item in items if item.status == "held")
    return present(
        b.BasketOut,
        basket,
        total_price=total,
        total_due_price=total,
        _embedded=b.BasketEmbedded(items=items),
        _links={
            "self": link(base),
            "checkout": link(f"{base}/checkout{{?member_id,take_from_wallet}}", True),
            "items": link(f"{base}/items"),
            "add_item": link(
                f"{base}/add_item{{?event_id,event_chain_id,service_id,date,time,duration,num_book,person_id,resource_id}}",
                True,
            ),
            "keep_alive": link(f"{base}/keep_alive"),
        },
    )


def _status(own: list[Any]) -> str:
    now = clock.now()
    statuses = {effective_status(hold, now) for hold in own}
    if statuses == {HoldStatus.ACTIVE}:
        return "held"
    for status in (HoldStatus.CONVERTED, HoldStatus.RELEASED, HoldStatus.EXPIRED):
        if status in statuses:
            return status
    return HoldStatus.EXPIRED


@route(
    bp,
    "/api/v1/{company_id}/basket/add_item",
    "POST",
    summary="Hold spaces on an event (every event of a course) or a service slot in a basket; a new basket's "
    "token comes back in the Auth-Token header",
    scheme=Scheme.V1_PUBLIC,
    tag=TAG,
    query="bookingbug.schemas_basket:AddItemQuery",
    request="bookingbug.schemas_basket:AddItemIn",
    response="bookingbug.schemas_basket:BasketOut",
    status=201,
    errors=(404, 409, 422),
    error_bodies=NO_SPACE_LEFT,
)
def add_item(call: Call, company_id: int) -> Any:
    query, body = call.query(b.AddItemQuery), call.body(b.AddItemIn)
    given = {name: value for name, value in query.model_dump().items() if value is not None}
    given |= {name: value for name, value in body.model_dump().items() if value is not None}
    event_id, chain_id, service_id = given.get("event_id"), given.get("event_chain_id"), given.get("service_id")
    num_book = given.get("num_book", 1)
    token = call.header("Auth-Token")
    basket_id = None
    if token:
        found = auth.find_basket(token)
        if found is None or found.company_id != company_id or found.status != BasketStatus.OPEN:
            raise Unauthorized("the Auth-Token is not an open basket of this company", field="Auth-Token")
        basket_id = found.basket_id
    if service_id is not None:
        if chain_id is not None:
            raise ValidationFailed("give a service slot or an event, not both", field="service_id")

        for needed in ("date", "time"):
            if given.get(needed) is None:
                raise ValidationFailed(f"a service slot needs {needed}", field=needed)
        choices = baskets.pick_slot(
            company_id,
            service_id,
            given["date"],
            given["time"],
            given.get("duration"),
            given.get("person_id"),
            given.get("resource_id"),
            event_id,
        )
    else:
        choices = [baskets.pick(company_id, event_id, chain_id)]
    picked = choices[0]
    try:
        basket, new_token = baskets.add_first_free(company_id, basket_id, choices, num_book)
    except capacity.NoSpaceLeft as full:
        data = {
            **({"event_id": event_id} if picked.kind == "event" else {}),
            **picked.ref,
            "name": picked.name,
            "spaces_left": int(full.extra.get("seats_free", 0)),
        }
        data.pop("event_ids", None)
        data.pop("course", None)
        return Response(
            body={"message": "NoSpaceLeftError", "error": "No Space Left", "data": data},
            status_code=409,
            headers={"Content-Type": JSON_TYPE},
        )
    call.extra_headers["Auth-Token"] = new_token or token or ""
    return _render_basket(call, basket)


@route(
    bp,
    "/api/v1/{company_id}/basket",
    "GET",
    summary="The basket named by the Auth-Token, with its items and how long they are held",
    scheme=Scheme.V1_BASKET,
    tag=TAG,
    response="bookingbug.schemas_basket:BasketOut",
    errors=(404,),
)
def get_basket(call: Call, company_id: int) -> b.BasketOut:
    return _render_basket(call, baskets.get(company_id, _basket_id(call)))


@route(
    bp,
    "/api/v1/{company_id}/basket/items",
    "GET",
    summary="The basket's items (its _links.items)",
    scheme=Scheme.V1_BASKET,
    tag=TAG,
    response="bookingbug.schemas_basket:BasketItemList",
    errors=(404,),
)
def basket_items(call: Call, company_id: int) -> b.BasketItemList:
    rendered = _render_basket(call, baskets.get(company_id, _basket_id(call)))
    items = rendered.embedded.items
    return b.BasketItemList(
        total_entries=len(items),
        _embedded=b.BasketEmbedded(items=items),
        _links={"self": rendered.links["items"], "basket": rendered.links["self"]},
    )


@route(
    bp,
    "/api/v1/{company_id}/basket/items/{item_id}",
    "DELETE",
    summary="Remove an item: its held spaces are free at once",
    scheme=Scheme.V1_BASKET,
    tag=TAG,
    response="bookingbug.schemas_basket:BasketOut",
    errors=(404, 409),
    path_types={"item_id": "string"},
)
def remove_item(call: Call, company_id: int, item_id: str) -> b.BasketOut:
    return _render_basket(call, baskets.remove_item(company_id, _basket_id(call), item_id))


@route(
    bp,
    "/api/v1/{company_id}/basket/keep_alive",
    "POST",
    summary="Hold every item for another hold time (a capped number of times)",
    scheme=Scheme.V1_BASKET,
    tag=TAG,
    response="bookingbug.schemas_basket:BasketOut",
    errors=(404, 409, 422),
)
def keep_alive(call: Call, company_id: int) -> b.BasketOut:
    return _render_basket(call, baskets.keep_alive(company_id, _basket_id(call)))


@route(
    bp,
    "/api/v1/{company_id}/basket/checkout",
    "POST",
    summary="Check out: answers checked, prices computed here, every hold becomes a confirmed booking at once",
    scheme=Scheme.V1_BASKET,
    tag=TAG,
    request="bookingbug.schemas_basket:CheckoutIn",
    response="bookingbug.schemas_basket:PurchaseOut",
    status=201,
    errors=(404, 409),
)
def checkout(call: Call, company_id: int) -> b.PurchaseOut:
    body = call.body(b.CheckoutIn)
    given = baskets.CheckoutIn(
        client=body.client.model_dump(mode="json", exclude_none=True) if body.client else None,
        client_id=body.client_id,
        answers=[answer.model_dump() for answer in body.answers],
        lines={
            item.id: baskets.LineIn(
                answers=[answer.model_dump() for answer in item.answers],
                tickets=[ticket.model_dump() for ticket in item.tickets],
            )
            for item in body.items
        },
    )
    return _render_purchase(call, baskets.checkout(company_id, _basket_id(call), given), admin=False)


# --- purchases -----------------------------------------------------------------------------------


def _render_purchase(call: Call, purchase: Purchase, *, admin: bool) -> b.PurchaseOut:
    cid = purchase.company_id
    states = {booking_id: booking.state for booking_id, booking in baskets.purchase_bookings(purchase).items()}
    client = plain(purchase.client)
    name = " ".join(str(client[k]) for k in ("first_name", "last_name") if client.get(k)) or str(client["email"])
    rendered = []
    for line in purchase.lines:
        bought = plain(line)
        slot = bought.get("kind") == "slot"
        first = min(db.parse_iso(str(booking["datetime"])) for booking in bought["bookings"])
        try:
            min_cancel: str | None = db.iso(first - baskets.line_rules(cid, bought).windows.min_cancel)
        except (NotFound, ValidationFailed):
            min_cancel = None  # the chain or service is gone; only an admin can cancel now
        for booking in bought["bookings"]:
            rendered.append(
                b.PurchaseBookingOut(
                    id=str(booking["id"]),
                    event_id=None if slot else int(booking["event_id"]),
                    event_chain_id=None if slot else int(bought["event_chain_id"]),
                    service_id=int(bought["service_id"]) if slot else None,
                    describe=str(bought["name"]),
                    datetime=str(booking["datetime"]),
                    end_datetime=str(booking["end_datetime"]),
                    duration=int(booking["duration"]),
                    on_waitlist=False,
                    attended=False,
                    price=int(booking["price"]),
                    paid=0,
                    quantity=int(booking["quantity"]),
                    purchase_id=purchase.purchase_id,
                    purchase_ref=purchase.long_id,
                    slot_id=str(bought["unit"]) if slot else int(booking["event_id"]),
                    state=states.get(str(booking["id"]), "unknown"),
                    min_cancellation_time=min_cancel,
                    booking_type="service" if slot else "event",
                    _embedded=b.PurchaseBookingEmbedded(
                        answers=[b.AnswerOut(**answer) for answer in bought["answers"]], survey_answers=[]
                    ),
                )
            )
    public = f"{v1_root(call)}/{cid}/purchases/{purchase.long_id}"
    links = {"self": link(f"{v1_root(call)}/admin/{cid}/purchases/{purchase.purchase_id}" if admin else public)}
    links["cancel"] = links["self"]
    total = purchase.total_price
    return present(
        b.PurchaseOut,
        purchase,
        id=purchase.purchase_id,
        price=total,
        paid=0,
        deposit=0,
        due_now=0 if purchase.status == PurchaseStatus.CANCELLED else total,
        payment_type="no_payment",
        client_name=name,
        _embedded=b.PurchaseEmbedded(client=client, bookings=rendered, packages=[], products=[], deals=[]),
        _links=links,
    )


@route(
    bp,
    "/api/v1/{company_id}/purchases/{long_id}",
    "GET",
    summary="A purchase by its long id (the booker's link)",
    scheme=Scheme.V1_PUBLIC,
    tag=TAG,
    response="bookingbug.schemas_basket:PurchaseOut",
    errors=(404,),
    path_types={"long_id": "string"},
)
def purchase_by_long_id(call: Call, company_id: int, long_id: str) -> b.PurchaseOut:
    return _render_purchase(call, baskets.by_long_id(company_id, long_id), admin=False)


@route(
    bp,
    "/api/v1/{company_id}/purchases/{long_id}/ical",
    "GET",
    summary="A purchase's bookings as one iCalendar file (the booker's link): REQUEST, or CANCEL once cancelled",
    scheme=Scheme.V1_PUBLIC,
    tag=TAG,
    produces="text/calendar",
    errors=(404, 409),
    path_types={"long_id": "string"},
)
def purchase_ical(call: Call, company_id: int, long_id: str) -> Response:
    purchase = baskets.by_long_id(company_id, long_id)
    body = calendars.purchase_invitation(list(baskets.purchase_bookings(purchase).values()))
    if body is None:
        raise Conflict("this purchase has no time to put in a calendar", field="long_id", code=ErrorCode.NO_TIME)
    return calendar_reply(body)


@route(
    bp,
    "/api/v1/{company_id}/purchases/{long_id}",
    "DELETE",
    summary="The booker cancels a purchase (every booking) while the events' min_cancel allows",
    scheme=Scheme.V1_PUBLIC,
    tag=TAG,
    response="bookingbug.schemas_basket:PurchaseOut",
    errors=(404, 409),
    path_types={"long_id": "string"},
)
def cancel_by_booker(call: Call, company_id: int, long_id: str) -> b.PurchaseOut:
    purchase = baskets.by_long_id(company_id, long_id)
    return _render_purchase(call, baskets.cancel(company_id, purchase, by_admin=False), admin=False)


@route(
    bp,
    "/api/v1/admin/{company_id}/purchases/{purchase_id}",
    "GET",
    summary="A purchase",
    scheme=Scheme.V1_ADMIN,
    tag=TAG,
    response="bookingbug.schemas_basket:PurchaseOut",
    errors=(404,),
    path_types={"purchase_id": "string"},
)
def admin_purchase(call: Call, company_id: int, purchase_id: str) -> b.PurchaseOut:
    return _render_purchase(call, baskets.get_purchase(company_id, purchase_id), admin=True)


@route(
    bp,
    "/api/v1/admin/{company_id}/purchases/{purchase_id}",
    "DELETE",
    summary="Cancel a purchase (every booking) at any time",
    scheme=Scheme.V1_ADMIN,
    tag=TAG,
    response="bookingbug.schemas_basket:PurchaseOut",
    errors=(404, 409),
    path_types={"purchase_id": "string"},
)
def admin_cancel(call: Call, company_id: int, purchase_id: str) -> b.PurchaseOut:
    purchase = baskets.get_purchase(company_id, purchase_id)
    return _render_purchase(call, baskets.cancel(company_id, purchase, by_admin=True), admin=True)
