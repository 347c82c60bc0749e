"""Basket and checkout (BookingBug's event and service flows) on the booking engine.

A basket item holds spaces: one hold per capacity it books (an event, every event
of a course taken in one transaction with :func:`holds.place_many`, or a service
slot, whose capacity ``services/slots.py`` opens lazily). Everything past picking
works on a :class:`Picked` whatever it books. Checkout turns every hold of the
basket into a confirmed booking in ONE transaction (``holds.convert`` and
``capacity.convert``: compare-and-set on each hold being live, held -> booked),
together with the purchase, its link guard, the basket's end, the per-booker
counters of ``max_num_bookings`` and the outbox events. Nothing here counts
seats: the capacity items do, as for ``/v2/bookings``.
"""

from __future__ import annotations

import contextlib
import secrets as random_secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chalicelib import observability
from chalicelib.domain import clock, event_rules, pricing, slot_rules
from chalicelib.domain import time_claims as claim_rule
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.domain.event_rules import BookingRules
from chalicelib.domain.lifecycle import BasketStatus, PurchaseStatus
from chalicelib.domain.slot_rules import SlotRules
from chalicelib.observability import Metric
from chalicelib.services.catalogue import catalogue, events
from chalicelib.services.identity import companies
from chalicelib.services.identity.auth import new_basket_token
from chalicelib.services.messaging import outbox
from chalicelib.services.selling import bookings, capacity, holds, slots, time_claims, waitlist
from chalicelib.store import claim_days, db, keys
from chalicelib.store.errors import ItemNotFound, TransactionFailed
from chalicelib.store.models import (
    Basket,
    BookerCount,
    Booking,
    Client,
    Event,
    EventChain,
    Hold,
    Purchase,
    PurchaseLink,
    plain,
)
from chalicelib.store.transact import Refusal, Transaction, failed_condition, transact

# Checkout writes, per hold: the hold, its shard (one unless split), the booking, its log
# and its outbox event (5); plus the purchase, its link, the basket and purchase.completed
# (4) and one booker counter per item (<= 15): 15 x 5 + 4 + 15 = 94 <= 100 items.
MAX_BASKET_HOLDS = 15
BASKET_RETENTION_SECONDS = 7 * 86_400
FIXED_CHECKOUT_ITEMS = 4


Rules = BookingRules | SlotRules


@dataclass(frozen=True)
class Target:
    """One capacity an item holds seats on, and what its booking records of it."""

    capacity_id: str
    shards: int
    start: datetime
    duration: int  # minutes
    ids: Mapping[str, int]  # event_id and event_chain_id, or service_id
    opens_with: int | None = None  # a slot's capacity is opened on first use, with this many seats


@dataclass(frozen=True)
class Picked:
    """What one add_item books: a single event, every event of a course, or a service slot."""

    kind: str  # "event" or "slot"
    unit: str  # what max_num_bookings counts against: the course, the occurrence or the slot
    name: str
    description: str
    rules: Rules
    targets: list[Target]
    ref: Mapping[str, Any]  # stored in the basket item: how checkout picks it again
    course: bool = False
    staff: StaffSlot | None = None  # a slot on a person or resource: its hold claims that time

    @property
    def first_start(self) -> datetime:
        return min(target.start for target in self.targets)


def check_bookable(rules: Rules, start: datetime, now: datetime, quantity: int, already: int = 0) -> None:
    if isinstance(rules, SlotRules):
        slot_rules.check_bookable(rules, start, now, quantity, already)
    else:
        event_rules.check_bookable(rules, start, now, quantity, already)


def check_cancellable(rules: Rules, start: datetime, now: datetime) -> None:
    if isinstance(rules, SlotRules):
        slot_rules.check_cancellable(rules, start, now)
    else:
        event_rules.check_cancellable(rules, start, now)


def _event_picked(chain: EventChain, chosen: list[Event], course: bool) -> Picked:
    chain_id = chain.chain_id
    return Picked(
        kind="event",
        unit=f"CHAIN-{chain_id}" if course else f"EVENT-{chosen[0].event_id}",
        name=chain.name,
        description=chain.description,
        rules=events.rules(chain),
        targets=[
            Target(
                event.capacity_id,
                event.shards,
                events.start_of(event),
                event.duration,
                {"event_id": event.event_id, "event_chain_id": chain_id},
            )
            for event in chosen
        ],
        ref={"event_chain_id": chain_id, "event_ids": [event.event_id for event in chosen], "course": course},
        course=course,
    )


def _slot_picked(slot: slots.Slot, staff: StaffSlot | None = None) -> Picked:
    service_id = slot.service.service_id
    if staff is None:
        target = Target(slot.capacity_id, 1, slot.start, slot.duration, {"service_id": service_id}, slot.service.spaces)
        ref: dict[str, Any] = {"service_id": service_id}
    else:
        # One space per person or resource at a time: its claimed time is the real limit, the
        # seat is what the hold machinery (expiry, checkout, cancel) works on.
        capacity_id = f"{slot.capacity_id}-R{staff.resource_id}"
        target = Target(capacity_id, 1, slot.start, slot.duration, {"service_id": service_id}, 1)
        ref = {"service_id": service_id, **staff.ref()}
    return Picked(
        kind="slot",
        unit=slot.capacity_id,
        name=slot.service.name,
        description=slot.service.description,
        rules=slot.rules,
        targets=[target],
        ref=ref,
        staff=staff,
    )


@dataclass(frozen=True)
class StaffSlot:
    """A service slot delivered by one person or resource: the time its hold claims."""

    resource_id: int
    kind: str  # "person" or "resource"
    name: str
    before: timedelta  # the service's pre_time
    after: timedelta  # post_time

    def ref(self) -> dict[str, Any]:
        return {
            f"{self.kind}_id": self.resource_id,
            f"{self.kind}_name": self.name,
            "staff_id": self.resource_id,
            "pre_time": int(self.before.total_seconds()) // 60,
            "post_time": int(self.after.total_seconds()) // 60,
        }

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> StaffSlot | None:
        if entry.get("staff_id") is None:
            return None
        kind = "person" if entry.get("person_id") is not None else "resource"
        return cls(
            int(entry["staff_id"]),
            kind,
            str(entry.get(f"{kind}_name") or ""),
            timedelta(minutes=int(entry.get("pre_time") or 0)),
            timedelta(minutes=int(entry.get("post_time") or 0)),
        )


def line_rules(company_id: int, line: Mapping[str, Any]) -> Rules:
    """The rules of a purchase line as they are now (NotFound once its chain or service is gone)."""
    if line.get("kind") == "slot":
        service = catalogue.get_service(company_id, int(line["service_id"]), include_deleted=True)
        durations = list(service.durations)
        booked = int(line["bookings"][0]["duration"])
        return slots.rules(service, booked if booked in durations or not durations else durations[0])
    return events.rules(events.chain_for_sale(company_id, int(line["event_chain_id"])))


# --- reading ---------------------------------------------------------------------------------------


M = TypeVar("M", Basket, Purchase, PurchaseLink)


def _owned(model: type[M], key: tuple[str, str], company_id: int, what: str, field: str) -> M:
    """An item of this company (another company's does not exist for the caller)."""
    db.ensure_bound()
    try:
        found = model.get(*key, consistent_read=True)
    except ItemNotFound:
        raise NotFound(f"{what} not found", field=field) from None
    if found.company_id != company_id:
        raise NotFound(f"{what} not found", field=field)
    return found


def get(company_id: int, basket_id: str) -> Basket:
    return _owned(Basket, (keys.basket_pk(basket_id), keys.BASKET_SK), company_id, "basket", "Auth-Token")


def items_of(basket: Basket) -> list[dict[str, Any]]:
    entries = [plain(entry) for entry in plain(basket.items).values()]
    return sorted(entries, key=lambda entry: (str(entry["created_at"]), str(entry["id"])))


def holds_of(entries: Sequence[Mapping[str, Any]]) -> dict[str, Hold]:
    """The holds of these items, read consistently (one BatchGetItem)."""
    wanted = [(keys.hold_pk(str(hold_id)), keys.HOLD_SK) for entry in entries for hold_id in entry["hold_ids"]]
    if not wanted:
        return {}
    db.ensure_bound()
    return {hold.hold_id: hold for hold in Hold.batch_get(wanted, consistent_read=True)}


# --- add_item --------------------------------------------------------------------------------------


def pick(company_id: int, event_id: int | None, chain_id: int | None) -> Picked:
    """The events an add_item books. An event of a course books the whole course."""
    if event_id is None and chain_id is None:
        raise ValidationFailed("give event_id, or event_chain_id for a course", field="event_id")
    if event_id is not None:
        event = events.event_for_sale(company_id, event_id)
        if chain_id is not None and chain_id != event.chain_id:
            raise ValidationFailed("the event is not in that event chain", field="event_chain_id")
        chain = events.chain_for_sale(company_id, event.chain_id)
    else:
        assert chain_id is not None
        chain = events.chain_for_sale(company_id, chain_id)
    course = events.rules(chain).course
    if not course:
        if event_id is None:
            raise ValidationFailed("this chain's events are booked one by one: give event_id", field="event_id")
        return _event_picked(chain, [event], False)
    chosen = events.chain_events(company_id, chain.chain_id)
    if not chosen:
        raise Conflict("this course has no events", code=ErrorCode.EVENT_DISABLED, field="event_chain_id")
    if len(chosen) > MAX_BASKET_HOLDS:
        raise ValidationFailed(
            f"a course of more than {MAX_BASKET_HOLDS} events cannot be booked in one purchase",
            field="event_chain_id",
            code=ErrorCode.COURSE_TOO_LONG,
        )
    return _event_picked(chain, chosen, True)


def pick_slot(
    company_id: int,
    service_id: int,
    day: str,
    minutes: int,
    duration: int | None,
    person_id: int | None = None,
    resource_id: int | None = None,
    event_id: int | None = None,
) -> list[Picked]:
    """A service slot: ``minutes`` after local midnight on ``day``, for one of the service's durations.

    A service delivered by people or resources gives one choice per candidate (the one
    asked for, or every one: "anyone"), in the service's order; add_item takes the first
    whose time is free. A service with none gives the slot itself. ``event_id`` is
    time_data's: it names the person or resource.
    """
    from chalicelib.services.catalogue import resources, staff

    start = slots.local_start(company_id, day, minutes)
    slot = slots.find(company_id, service_id, start, duration)
    slot_rules.check_time(slot.rules, minutes)
    if not staff.staff_ids(slot.service):
        if event_id is not None:
            raise ValidationFailed("give a service slot or an event, not both", field="service_id")
        if person_id is not None or resource_id is not None:
            field = "person_id" if person_id is not None else "resource_id"
            raise NotFound("this service is not delivered by people or resources", field=field)
        return [_slot_picked(slot)]
    if event_id is not None and person_id is None and resource_id is None:
        person_id = event_id  # time_data's event_id names the person or resource (the SDK sends it back)
    chosen = staff.pick(slot.service, person_id, resource_id)
    before = timedelta(minutes=slot.service.pre_time)
    after = timedelta(minutes=slot.service.post_time)
    found = [r for r in resources.many(company_id, chosen, "staff") if not r.disabled]
    if not found:
        raise Conflict("nobody delivers this service now", field="service_id", code=ErrorCode.RESOURCE_DISABLED)
    return [_slot_picked(slot, StaffSlot(r.resource_id, str(r.resource_kind), r.name, before, after)) for r in found]


def add_first_free(
    company_id: int, basket_id: str | None, choices: Sequence[Picked], num_book: int, *, check: bool = True
) -> tuple[Basket, str | None]:
    """add_item for the first choice whose time is free: losing a race to one person moves on
    to the next; only when every one is taken is it a 409 ``time_taken``."""
    if len(choices) == 1 and choices[0].staff is None:
        return add_item(company_id, basket_id, choices[0], num_book)
    if num_book != 1:
        raise ValidationFailed("a slot with a person or resource books one space", field="num_book")
    last: Conflict | None = None
    for picked in choices:
        try:
            return add_item(company_id, basket_id, picked, num_book, check=check)
        except claim_rule.TimeTaken as taken:
            last = taken
        except capacity.NoSpaceLeft:
            # The person's seat for this very slot went to a racer first: that time is taken.
            last = claim_rule.TimeTaken("that time is taken", field="person_id")
    raise last or claim_rule.TimeTaken("no one is free at that time", field="person_id")


def add_item(
    company_id: int, basket_id: str | None, picked: Picked, num_book: int, *, check: bool = True
) -> tuple[Basket, str | None]:
    """Hold ``num_book`` spaces on every picked event, in one transaction with the basket.

    A new basket (no ``basket_id``) is created in that transaction, so a refused
    add_item leaves nothing behind; its token is returned once.
    """
    company = companies.company_for_sale(company_id)
    now = clock.utcnow()
    basket = get(company_id, basket_id) if basket_id else None
    if basket is not None and basket.status != BasketStatus.OPEN:
        raise Conflict("this basket has been checked out", code=ErrorCode.BASKET_CHECKED_OUT, field="Auth-Token")
    already = sum(
        int(entry["num_book"]) for entry in (items_of(basket) if basket else []) if entry["unit"] == picked.unit
    )
    check_bookable(picked.rules, picked.first_start, now, num_book, already)
    count = len(picked.targets)
    if (basket.hold_count if basket else 0) + count > MAX_BASKET_HOLDS:
        raise ValidationFailed(
            f"a basket holds at most {MAX_BASKET_HOLDS} holds; check out first",
            field="service_id" if picked.kind == "slot" else "event_id",
            code=ErrorCode.BASKET_FULL,
        )
    for lazy in picked.targets:
        if lazy.opens_with is not None:
            capacity.open_once(lazy.capacity_id, company_id, lazy.opens_with)
    item_id = uuid.uuid4().hex
    asks = [
        holds.HoldAsk(one.capacity_id, num_book, one.shards, {"basket_item_id": item_id, **one.ids})
        for one in picked.targets
    ]
    token: str | None = None
    if basket is None:
        new_id = str(uuid.uuid4())
        token = new_basket_token(new_id)
        from chalicelib.domain import secrets

        basket = Basket(
            keys.basket_pk(new_id),
            keys.BASKET_SK,
            basket_id=new_id,
            company_id=company_id,
            token_hash=secrets.digest(token),
            created_at=db.iso(now),
            ttl=int(clock.now()) + BASKET_RETENTION_SECONDS,
        )
    entry: dict[str, Any] = {
        "id": item_id,
        "kind": picked.kind,
        "unit": picked.unit,
        **picked.ref,
        "num_book": num_book,
        "created_at": db.iso(now),
        # shown by the basket without reading the events or service again (checkout re-reads them)
        "name": picked.name,
        "datetime": db.iso(picked.first_start),
        "duration": picked.targets[0].duration,
        "unit_price": picked.rules.price,
    }
    fresh = token is not None
    target = basket

    def basket_write(tx: Transaction, placed: list[Hold]) -> None:
        item = {**entry, "hold_ids": [hold.hold_id for hold in placed]}
        if fresh:
            target.items = {item_id: item}
            target.hold_count = count
            tx.save(target, condition=Basket.pk.does_not_exist())
        else:
            tx.update(
                target,
                actions=[Basket.items[item_id].set(item), Basket.hold_count.add(count)],
                condition=(Basket.status == BasketStatus.OPEN) & (Basket.hold_count <= MAX_BASKET_HOLDS - count),
            )

    hold_seconds = company.hold_time or 900
    changed = Conflict("the basket changed meanwhile (checked out or full)", code=ErrorCode.BASKET_CHANGED)
    if picked.staff is None:
        holds.place_many(
            company_id,
            asks,
            hold_seconds,
            basket_id=basket.basket_id,
            extra_writes=basket_write,
            on_condition_failed=lambda _: changed,
        )
    else:
        try:
            _place_claiming(company_id, picked, entry, asks, hold_seconds, basket.basket_id, basket_write, check)
        except TransactionFailed as error:
            if failed_condition(error):
                raise changed from None
            raise
    return get(company_id, basket.basket_id), token


HOLD_CLAIM_MARGIN = 5  # seconds a hold's time claim outlives the hold: it never lapses first


def _claim_of(owner: str, target: Target, staff: StaffSlot, expires_at: datetime | None) -> claim_rule.Claim:
    start = target.start
    end = start + timedelta(minutes=target.duration)
    return claim_rule.Claim(owner, start, end, expires_at=expires_at, before=staff.before, after=staff.after)


def _place_claiming(
    company_id: int,
    picked: Picked,
    entry: dict[str, Any],
    asks: Sequence[holds.HoldAsk],
    hold_seconds: int,
    basket_id: str,
    basket_write: Any,
    check: bool = True,  # False only for the control run of the concurrency proof
) -> None:
    """The item's hold and its time claim on the person or resource, in ONE transaction.

    The claim's owner is the basket item and it lapses with the hold (a lapsed hold frees
    the time with no write). ``time_claims.claim`` checks and retries on the claim-day
    versions; the seat take runs the transaction."""
    staff = picked.staff
    assert staff is not None
    expires = clock.utcnow() + timedelta(seconds=hold_seconds + HOLD_CLAIM_MARGIN)
    new = _claim_of(str(entry["id"]), picked.targets[0], staff, expires)
    entry["claim_days"] = [day.isoformat() for day in claim_rule.days(new.busy)]

    def run(build: time_claims.Writes) -> None:
        def extra(tx: Transaction, placed: list[Hold]) -> None:
            basket_write(tx, placed)
            build(tx)

        holds.place_many(company_id, asks, hold_seconds, basket_id=basket_id, extra_writes=extra)

    time_claims.claim(staff.resource_id, company_id, new, lambda _tx: None, run=run, check=check)


def _release_item_time(tx: Transaction, entry: Mapping[str, Any]) -> None:
    """Inside the item's removal: its time is free again (idempotent)."""
    staff = StaffSlot.of(entry)
    if staff is not None and entry.get("claim_days"):
        time_claims.release(tx, staff.resource_id, str(entry["id"]), list(entry["claim_days"]))


def _convert_item_time(tx: Transaction, entry: Mapping[str, Any], booking: Booking, target: Target) -> int:
    """Inside checkout: the item's claim becomes the booking's (no expiry), day by day.

    No version condition: the checkout converts the hold only while it is live, and the
    item's claim outlives the hold, so no one else can hold that time now. Returns the
    writes added."""
    staff = StaffSlot.of(entry)
    if staff is None or not entry.get("claim_days"):
        return 0
    days = list(entry["claim_days"])
    kept = claim_rule.as_entry(_claim_of(booking.booking_id, target, staff, None))
    claim_days.hand_over(tx, staff.resource_id, str(entry["id"]), booking.booking_id, kept, days)
    return len(days)


def _take_over_time(company_id: int, line: _Line, booking: Booking, target: Target, writes: list[Any]) -> int:
    """The booking names its person or resource and holds the item's claimed time from now on."""
    from chalicelib.services.catalogue import resources

    staff = line.picked.staff
    assert staff is not None
    booking.resource = resources.summary(resources.get(company_id, staff.resource_id, include_deleted=True))
    booking.claim_days = list(line.entry.get("claim_days") or [])
    writes.append(lambda tx: _convert_item_time(tx, line.entry, booking, target))
    return len(booking.claim_days)


def remove_item(company_id: int, basket_id: str, item_id: str) -> Basket:
    """Release the item's holds (their spaces are free at once) and drop it from the basket."""
    basket = get(company_id, basket_id)
    entries = {str(entry["id"]): entry for entry in items_of(basket)}
    if item_id not in entries:
        raise NotFound("no such item in this basket", field="item_id")
    if basket.status != BasketStatus.OPEN:
        raise Conflict("this basket has been checked out", code=ErrorCode.BASKET_CHECKED_OUT, field="Auth-Token")
    entry = entries[item_id]
    now = clock.now()
    live = [hold for hold in holds_of([entry]).values() if holds.is_live(hold, now)]

    def build(tx: Transaction) -> None:
        for hold in live:
            holds.end_released(tx, hold, now)
        _release_item_time(tx, entry)
        tx.update(
            basket,
            actions=[Basket.items[item_id].remove(), Basket.hold_count.add(-len(entry["hold_ids"]))],
            condition=(Basket.status == BasketStatus.OPEN) & Basket.items[item_id].exists(),
        )

    transact(
        build, lambda _: Conflict("the basket changed meanwhile; read it and retry", code=ErrorCode.BASKET_CHANGED)
    )
    return get(company_id, basket_id)


def keep_alive(company_id: int, basket_id: str) -> Basket:
    """Extend every hold of the basket by the company's hold time, at most MAX_EXTENSIONS times."""
    basket = get(company_id, basket_id)
    if basket.status != BasketStatus.OPEN:
        raise Conflict("this basket has been checked out", code=ErrorCode.BASKET_CHECKED_OUT, field="Auth-Token")
    found = list(holds_of(items_of(basket)).values())
    if not found:
        raise ValidationFailed("the basket is empty", field="items", code=ErrorCode.EMPTY_BASKET)
    hold_seconds = companies.company_for_sale(company_id).hold_time or 900
    holds.extend_many(found, hold_seconds, "Auth-Token")
    return get(company_id, basket_id)


# --- checkout --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineIn:
    """Checkout input for one basket item (answers per booking, or per ticket)."""

    answers: Sequence[Mapping[str, Any]] = ()
    tickets: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class CheckoutIn:
    client: Mapping[str, Any] | None
    client_id: int | None
    answers: Sequence[Mapping[str, Any]]  # for every item not named in ``lines``
    lines: Mapping[str, LineIn]


@dataclass
class _Line:
    entry: dict[str, Any]
    picked: Picked
    priced: pricing.Line
    holds: list[Hold]


def checkout(company_id: int, basket_id: str, given: CheckoutIn) -> Purchase:
    basket = get(company_id, basket_id)
    if basket.status != BasketStatus.OPEN:
        raise Conflict(
            "this basket has already been checked out", code=ErrorCode.BASKET_CHECKED_OUT, field="Auth-Token"
        )
    entries = items_of(basket)
    if not entries:
        raise ValidationFailed("the basket is empty", field="items", code=ErrorCode.EMPTY_BASKET)
    unknown = set(given.lines) - {str(entry["id"]) for entry in entries}
    if unknown:
        raise ValidationFailed(f"no item {sorted(unknown)[0]!r} in this basket", field="items")
    held = holds_of(entries)
    moment = clock.now()
    now = clock.utcnow()
    lines: list[_Line] = []
    for index, entry in enumerate(entries):
        line_holds = [held[hold_id] for hold_id in entry["hold_ids"] if hold_id in held]
        if len(line_holds) != len(entry["hold_ids"]) or not all(holds.is_live(h, moment) for h in line_holds):
            raise Conflict(
                "a hold in the basket has expired; add the item again",
                code=ErrorCode.HOLD_EXPIRED,
                field=f"items.{index}",
                extra={"item_id": entry["id"]},
            )
        picked = _picked_again(company_id, entry)
        rules = picked.rules
        check_bookable(rules, picked.first_start, now, int(entry["num_book"]))
        line_in = given.lines.get(str(entry["id"]), LineIn(answers=given.answers))
        questions = _questions(company_id, rules.detail_group_id)
        priced = pricing.check_line(
            questions,
            unit_price=rules.price,
            quantity=int(entry["num_book"]),
            answers=line_in.answers,
            tickets=line_in.tickets,
            per_ticket=rules.questions_per_ticket,
            email_per_ticket=rules.email_per_ticket,
            where=f"items.{index}",
        )
        lines.append(_Line(entry, picked, priced, line_holds))
    client = _client(company_id, given)
    email = client.email.lower()
    counts = _booker_counts(company_id, lines, email, now)
    return _commit(company_id, basket, lines, client, counts, moment)


def _picked_again(company_id: int, entry: Mapping[str, Any]) -> Picked:
    """The item's chain and events, or service, as they are now (a deleted one cannot be bought)."""
    if entry.get("kind") == "slot":
        start = db.parse_iso(str(entry["datetime"]))
        slot = slots.find(company_id, int(entry["service_id"]), start, int(entry["duration"]))
        return _slot_picked(slot, StaffSlot.of(entry))
    chain = events.chain_for_sale(company_id, int(entry["event_chain_id"]))
    found = [events.event_for_sale(company_id, int(event_id)) for event_id in entry["event_ids"]]
    return _event_picked(chain, found, bool(entry.get("course")))


def _questions(company_id: int, group_id: int | None) -> list[dict[str, Any]]:
    if group_id is None:
        return []
    group = catalogue.question_group_for_sale(company_id, group_id)
    return [plain(question) for question in group.questions]


def _client(company_id: int, given: CheckoutIn) -> Client:
    if (given.client is None) == (given.client_id is None):
        raise ValidationFailed("give the client, or a client_id", field="client")
    if given.client_id is not None:
        try:
            return catalogue.get_client(company_id, given.client_id)
        except NotFound:
            raise NotFound("client not found", field="client_id") from None
    assert given.client is not None
    client, _created = catalogue.upsert_client(company_id, dict(given.client))
    return client


def _booker_counts(company_id: int, lines: Sequence[_Line], email: str, now: datetime) -> dict[str, tuple[int, int]]:
    """Per unit: (spaces this checkout adds, the rule's maximum), checked against what the booker holds."""
    wanted: dict[str, tuple[int, int]] = {}
    for line in lines:
        rules = line.picked.rules
        spaces, _limit = wanted.get(line.picked.unit, (0, rules.max_num_bookings))
        wanted[line.picked.unit] = (spaces + int(line.entry["num_book"]), rules.max_num_bookings)
    for line in lines:
        spaces, _limit = wanted[line.picked.unit]
        already = _booker_spaces(company_id, line.picked.unit, email)
        check_bookable(line.picked.rules, line.picked.first_start, now, spaces, already)
    return wanted


def _booker_spaces(company_id: int, unit: str, email: str) -> int:
    try:
        found = BookerCount.get(
            keys.booker_count_pk(company_id, unit, email), keys.booker_count_sk(unit, email), consistent_read=True
        )
    except ItemNotFound:
        return 0
    return found.spaces


def _count_update(tx: Transaction, company_id: int, unit: str, email: str, spaces: int, limit: int | None) -> None:
    """Add (or with a negative number, give back) a booker's spaces; with a limit, refuse past it."""
    counter = BookerCount(keys.booker_count_pk(company_id, unit, email), keys.booker_count_sk(unit, email))
    condition = None
    if limit is not None:
        condition = BookerCount.spaces.does_not_exist() | (BookerCount.spaces <= limit - spaces)
    tx.update(
        counter,
        actions=[
            BookerCount.spaces.add(spaces),
            BookerCount.company_id.set(company_id),
            BookerCount.kind.set(BookerCount),  # the discriminator, for an item this update creates
        ],
        condition=condition,
        return_values="ALL_OLD",
    )


def _customer(client: Client) -> dict[str, Any]:
    details = plain(client.details)
    name = " ".join(part for part in (details.get("first_name"), details.get("last_name")) if part)
    customer = {"id": str(client.client_id), "name": name or client.email, "email": client.email}
    if details.get("phone") or details.get("mobile"):
        customer["phone"] = details.get("phone") or details.get("mobile")
    return customer


def _split(total: int, parts: int) -> list[int]:
    """A course line's price over its bookings (the remainder on the first)."""
    share, rest = divmod(total, parts)
    return [share + (rest if index == 0 else 0) for index in range(parts)]


def _commit(
    company_id: int,
    basket: Basket | None,
    lines: Sequence[_Line],
    client: Client,
    counts: Mapping[str, tuple[int, int]],
    moment: float,
) -> Purchase:
    purchase_id = str(uuid.uuid4())
    long_id = random_secrets.token_urlsafe(24)
    customer = _customer(client)
    writes: list[Any] = []
    stored_lines: list[dict[str, Any]] = []
    booking_ids: list[str] = []
    items = FIXED_CHECKOUT_ITEMS + len(counts)
    for line in lines:
        target_of = {target.capacity_id: target for target in line.picked.targets}
        prices = _split(line.priced.total, len(line.holds))
        made: list[dict[str, Any]] = []
        for hold, price in zip(line.holds, prices, strict=True):
            target = target_of.get(hold.capacity_id)
            if target is None:  # the event was moved or the slot re-timed since the hold
                raise Conflict(
                    "an item in the basket changed; add it again", code=ErrorCode.HOLD_EXPIRED, field="items"
                )
            start = target.start
            end = start + timedelta(minutes=target.duration)
            new = bookings.NewBooking(
                graph="instant",
                event={
                    "start": db.iso(start),
                    "end": db.iso(end),
                    "what": line.picked.name,
                    "description": line.picked.description or None,
                    **target.ids,
                    "purchase_id": purchase_id,
                },
                customer=customer,
            )
            booking, write = bookings.from_hold(company_id, new, hold, moment)
            writes.append(write)
            items += bookings.ITEMS_PER_HELD_BOOKING - 1 + len(capacity.from_list(hold.seat_shards))
            if line.picked.staff is not None:
                items += _take_over_time(company_id, line, booking, target, writes)
            booking_ids.append(booking.booking_id)
            made.append(
                {
                    "id": booking.booking_id,
                    **target.ids,
                    "datetime": db.iso(start),
                    "end_datetime": db.iso(end),
                    "duration": target.duration,
                    "quantity": hold.seats,
                    "price": price,
                }
            )
        stored_lines.append(
            {
                "item_id": line.entry["id"],
                "kind": line.picked.kind,
                "unit": line.picked.unit,
                **{key: value for key, value in line.picked.ref.items() if key not in ("event_ids", "course")},
                "name": line.picked.name,
                "course": line.picked.course,
                "num_book": int(line.entry["num_book"]),
                "unit_price": line.priced.unit_price,
                "total": line.priced.total,
                "answers": [answer.as_dict() for answer in line.priced.answers],
                "tickets": [
                    {"email": ticket.email, "answers": [answer.as_dict() for answer in ticket.answers]}
                    for ticket in line.priced.tickets
                ],
                "bookings": made,
            }
        )
    if items > capacity.MAX_TRANSACTION_ITEMS:
        raise ValidationFailed(
            f"this checkout needs {items} writes, more than one transaction takes; split the basket", field="items"
        )
    purchase = Purchase(
        keys.purchase_pk(purchase_id),
        keys.PURCHASE_SK,
        purchase_id=purchase_id,
        long_id=long_id,
        company_id=company_id,
        basket_id=basket.basket_id if basket else None,
        client=_client_snapshot(client),
        client_id=client.client_id,
        booking_ids=booking_ids,
        lines=stored_lines,
        total_price=sum(line.priced.total for line in lines),
        created_at=db.iso(clock.utcnow()),
    )
    link = PurchaseLink(
        keys.purchase_long_pk(long_id), keys.PURCHASE_LONG_SK, purchase_id=purchase_id, company_id=company_id
    )
    email = client.email.lower()

    def build(tx: Transaction) -> None:
        for write in writes:
            write(tx)
        tx.save(purchase, condition=Purchase.pk.does_not_exist())
        tx.save(link, condition=PurchaseLink.pk.does_not_exist())
        if basket is not None:
            tx.update(
                basket,
                actions=[Basket.status.set(BasketStatus.CHECKED_OUT), Basket.purchase_id.set(purchase_id)],
                condition=Basket.status == BasketStatus.OPEN,
                return_values="ALL_OLD",
            )
        for unit, (spaces, limit) in counts.items():
            _count_update(tx, company_id, unit, email, spaces, limit)
        outbox.add(tx, "purchase.completed", company_id, purchase_id, snapshot(purchase))

    transact(build, lambda refused: _why_refused(refused, basket, counts))
    observability.count(Metric.BOOKINGS_CREATED, len(booking_ids))
    return purchase


def _why_refused(refused: Refusal, basket: Basket | None, counts: Mapping[str, tuple[int, int]]) -> Exception:
    failed = refused.keys
    pks = {key[0] for key in failed if key}
    sks = {key[1] for key in failed if key}
    if basket is not None and basket.pk in pks:
        return Conflict(
            "this basket has already been checked out", code=ErrorCode.BASKET_CHECKED_OUT, field="Auth-Token"
        )
    if any(sk.startswith("BOOKERCOUNT#") for sk in sks):
        limits = {limit for _spaces, limit in counts.values()}
        return ValidationFailed(
            "at most the allowed spaces per booker; this booker already holds some",
            field="num_book",
            code=ErrorCode.MAX_NUM_BOOKINGS_EXCEEDED,
            extra={"max_num_bookings": min(limits)},
        )
    if basket is None:
        return OFFER_ENDED
    return Conflict("a hold in the basket has expired; add the item again", code=ErrorCode.HOLD_EXPIRED, field="items")


OFFER_ENDED = Conflict("the offer has lapsed or been booked", code=ErrorCode.HOLD_EXPIRED, field="reservation_id")
CLIENT_FIELDS = ("email", "first_name", "last_name", "phone", "mobile")


def book_offer(company_id: int, hold_id: str) -> Booking:
    """A waitlist offer booked by its customer (the offer's one-click link). A v2 group's is a
    seat booking of the group; an event's or a service slot's (BookingBug) is a purchase, so
    its booker has a long_id, the purchase's cancel windows and its calendar file."""
    hold = holds.get(company_id, hold_id)
    if hold.owner_booking_id or waitlist.offer_entry_id(hold) is None:
        return bookings.book_offer(company_id, hold_id)
    purchase = buy_offer(company_id, hold)
    return purchase_bookings(purchase)[purchase.booking_ids[0]]


def buy_offer(company_id: int, hold: Hold) -> Purchase:
    """An event's or a slot's offer bought: a checkout of one line made of the offer's hold,
    with no basket (the hold never was in one), for the customer who queued. Once: the hold
    converts by compare-and-set in the purchase's transaction (409 ``hold_expired`` after)."""
    moment = clock.now()
    if not holds.is_live(hold, moment):
        raise OFFER_ENDED
    details = plain(hold.details)
    if details.get("event_id") is not None:
        event = events.event_for_sale(company_id, int(details["event_id"]))
        picked = _event_picked(events.chain_for_sale(company_id, int(event.chain_id)), [event], False)
    else:
        info = dict(details.get("event_info") or {})
        start = db.parse_iso(str(info["start"]))
        picked = _slot_picked(slots.find(company_id, int(info["service_id"]), start, int(info["duration"])))
    rules = picked.rules
    # The offer's link carries no answers: a question the event requires refuses it (422).
    priced = pricing.check_line(
        _questions(company_id, rules.detail_group_id),
        unit_price=rules.price,
        quantity=int(hold.seats),
        answers=(),
        tickets=(),
        per_ticket=rules.questions_per_ticket,
        email_per_ticket=rules.email_per_ticket,
        where="reservation_id",
    )
    customer = dict(details.get("customer") or {})
    given = {name: customer[name] for name in CLIENT_FIELDS if customer.get(name)}
    client = _client(company_id, CheckoutIn(client=given, client_id=None, answers=(), lines={}))
    line = _Line({"id": hold.hold_id, "num_book": int(hold.seats)}, picked, priced, [hold])
    counts = _booker_counts(company_id, [line], client.email.lower(), clock.utcnow())
    return _commit(company_id, None, [line], client, counts, moment)


def _client_snapshot(client: Client) -> dict[str, Any]:
    details = plain(client.details)
    return {"id": client.client_id, "email": client.email, **{k: v for k, v in details.items() if v is not None}}


def snapshot(purchase: Purchase) -> dict[str, Any]:
    """The purchase as its outbox events report it."""
    return {
        "id": purchase.purchase_id,
        "long_id": purchase.long_id,
        "status": purchase.status,
        "total_price": purchase.total_price,
        "client_id": purchase.client_id,
        "booking_ids": list(purchase.booking_ids),
        "created_at": purchase.created_at,
    }


# --- purchases and cancelling ----------------------------------------------------------------------


def get_purchase(company_id: int, purchase_id: str) -> Purchase:
    key = (keys.purchase_pk(purchase_id), keys.PURCHASE_SK)
    return _owned(Purchase, key, company_id, "purchase", "purchase_id")


def by_long_id(company_id: int, long_id: str) -> Purchase:
    if not long_id or len(long_id) > 100:
        raise NotFound("purchase not found", field="long_id")
    key = (keys.purchase_long_pk(long_id), keys.PURCHASE_LONG_SK)
    link = _owned(PurchaseLink, key, company_id, "purchase", "long_id")
    return get_purchase(company_id, link.purchase_id)


def purchase_bookings(purchase: Purchase) -> dict[str, Booking]:
    if not purchase.booking_ids:
        return {}
    db.ensure_bound()
    found = Booking.batch_get(
        [(keys.booking_pk(b), keys.BOOKING_SK) for b in purchase.booking_ids], consistent_read=True
    )
    return {booking.booking_id: booking for booking in found}


def cancel(company_id: int, purchase: Purchase, *, by_admin: bool) -> Purchase:
    """Cancel a purchase: a booker while every line's min_cancel allows, an admin any time.

    First the purchase (compare-and-set ``completed`` -> ``cancelled``, the booker's
    counters given back, ``purchase.cancelled``), then each booking through the
    engine (compare-and-set on its state; its seats are released in that transaction).
    A repeat resumes what is left, so every space is freed exactly once.
    """
    now = clock.utcnow()
    if purchase.status == PurchaseStatus.COMPLETED:
        if not by_admin:
            for line in purchase.lines:
                stored = plain(line)
                first = min(db.parse_iso(str(b["datetime"])) for b in stored["bookings"])
                check_cancellable(line_rules(company_id, stored), first, now)
        _cancel_purchase(company_id, purchase, now)
    action = "cancel" if by_admin else "cancel_by_customer"
    for booking in purchase_bookings(purchase).values():
        if booking.state in bookings.SEAT_HOLDING_STATES:
            # Conflict: cancelled meanwhile by another request, whose transaction gave the seats back
            with contextlib.suppress(Conflict):
                bookings.act(company_id, booking.booking_id, action, {})
    return get_purchase(company_id, purchase.purchase_id)


def _cancel_purchase(company_id: int, purchase: Purchase, now: datetime) -> None:
    email = str(plain(purchase.client).get("email", "")).lower()
    given_back: dict[str, int] = {}
    for line in purchase.lines:
        stored = plain(line)
        given_back[str(stored["unit"])] = given_back.get(str(stored["unit"]), 0) + int(stored["num_book"])

    def build(tx: Transaction) -> None:
        tx.update(
            purchase,
            actions=[Purchase.status.set(PurchaseStatus.CANCELLED), Purchase.cancelled_at.set(db.iso(now))],
            condition=Purchase.status == PurchaseStatus.COMPLETED,
            return_values="ALL_OLD",
        )
        for unit, spaces in given_back.items():
            _count_update(tx, company_id, unit, email, -spaces, None)
        outbox.add(
            tx,
            "purchase.cancelled",
            company_id,
            purchase.purchase_id,
            snapshot(purchase) | {"status": PurchaseStatus.CANCELLED.value},
        )

    # Refused: another request cancelled it first; the bookings are resumed below.
    transact(build, lambda _: None)
