"""The booking engine: bookings follow graphs; every change is one transaction.

Create and act both plan with the pure :mod:`chalicelib.domain.transitions`, then
write the booking (compare-and-set on state and version), its log item, its
outbox event and any seat change together, or nothing.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib import observability
from chalicelib.domain import clock, windows
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, PreconditionFailed, ValidationFailed
from chalicelib.domain.graphs import GRAPHS, Graph, Seats, Step
from chalicelib.domain.seats import ENFORCED, SeatRule, ShardSeats
from chalicelib.domain.time_claims import TimeTaken
from chalicelib.domain.transitions import Due, LogEntry, Plan, next_timer, plan
from chalicelib.domain.windows import Actor
from chalicelib.observability import Metric
from chalicelib.services.messaging import calendars, outbox
from chalicelib.services.selling import capacity, holds, time_claims, waitlist
from chalicelib.services.selling.waitlist import Promotion
from chalicelib.store import db, keys, pages, warm
from chalicelib.store.errors import ItemNotFound
from chalicelib.store.expressions import Condition, UpdateAction
from chalicelib.store.models import Booking, BookingLog, Hold, plain, plain_map
from chalicelib.store.transact import Refusal, Runner, Transaction, transact

SEAT_HOLDING_STATES = frozenset({"confirmed", "tentative", "paid"})
CASCADE_BATCH = 25  # seat bookings per transaction: 3 items each plus shard updates stay under 100
CASCADE_BUDGET = 40  # batches one request runs before leaving the rest to the sweeper
MAX_SHARDS = 16
# A reschedule tells both sides, as the graphs' reschedule_by_customer action does.
_RESCHEDULE_NOTIFY = (Step.NOTIFY_OWNER_BY_EMAIL.value, Step.NOTIFY_CUSTOMER_BY_EMAIL.value, Step.TRIGGER_WEBHOOK.value)


@dataclass(frozen=True)
class NewBooking:
    graph: str
    action: str | None = None
    event: Mapping[str, Any] = field(default_factory=dict)
    customer: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    owner_booking_id: str | None = None
    seats: int = 1
    reservation_id: str | None = None
    time: time_claims.TimeAsk | None = None  # claim the event's time on a resource
    project_id: str | None = None  # the booking page (Timekit project) it came through


def _graph(booking: Booking) -> Graph:
    return GRAPHS[booking.graph]


def _when(text: str | None) -> datetime | None:
    return db.parse_iso(text) if text else None


# --- reading -------------------------------------------------------------------------------------


def get(company_id: int, booking_id: str, *, consistent: bool = True) -> Booking:
    db.ensure_bound()
    try:
        booking = Booking.get(keys.booking_pk(booking_id), keys.BOOKING_SK, consistent_read=consistent)
    except ItemNotFound:
        raise NotFound("booking not found", field="id") from None
    if booking.company_id != company_id:
        raise NotFound("booking not found", field="id")  # another company's booking does not exist for you
    return booking


def logs(booking: Booking) -> list[dict[str, Any]]:
    if booking.fresh_logs is not None:
        return list(booking.fresh_logs)  # a booking just created: its only log is the one we wrote
    entries: list[dict[str, Any]] = []
    items = BookingLog.query(booking.pk, BookingLog.sk.startswith(keys.LOG_PREFIX), consistent_read=True)
    for item in sorted(items, key=lambda log: log.seq):
        for entry in item.entries:
            entries.append({**plain(entry), "created_at": item.created_at})
    return entries


def seat_bookings(owner: Booking) -> Iterator[Booking]:
    """A group's seat bookings, oldest first: one Query per capacity shard's partition (their
    first pages read side by side)."""
    db.ensure_bound()
    partitions = range(shard_count(owner))
    streams = [Booking.children.query(keys.owner_seats(owner.booking_id, n)) for n in partitions]
    for item in pages.merge_partitions(streams, "gsi2sk", newest_first=False):
        if isinstance(item, Booking):
            yield item


# --- creating ------------------------------------------------------------------------------------


def _new_item(company_id: int, new: NewBooking, graph: Graph, state: str, timer: Due | None, now: datetime) -> Booking:
    booking_id = str(uuid.uuid4())
    created = db.iso(now)
    customer = dict(new.customer)
    if customer:
        customer.setdefault("id", str(uuid.uuid4()))
    booking = Booking(
        keys.booking_pk(booking_id),
        keys.BOOKING_SK,
        booking_id=booking_id,
        company_id=company_id,
        graph=graph.name,
        state=state,
        created_at=created,
        updated_at=created,
        event=dict(new.event),
        customer=customer,
        settings=dict(new.settings),
        options=dict(new.options),
        seats=0,
        log_count=1,
        gsi1pk=keys.company_bookings(company_id, keys.spread(booking_id, keys.BOOKING_LISTING_PARTITIONS)),
        gsi1sk=f"{created}#{booking_id}",
        project_id=new.project_id,
    )
    if new.event.get("start"):
        booking.start_at = db.iso(db.parse_iso(str(new.event["start"])))
        booking.end_at = db.iso(db.parse_iso(str(new.event["end"])))
    _set_timer(booking, timer)
    return booking


def _set_timer(booking: Booking, timer: Due | None) -> None:
    if timer is None:
        booking.timer_action = booking.xpk = booking.xsk = None
        return
    booking.timer_action = timer.action
    booking.xpk = keys.expiry_partition(booking.pk)
    booking.xsk = f"{db.iso(timer.at)}#{booking.pk}"


def _log_item(booking: Booking, number: int, entries: tuple[LogEntry, ...], now: datetime) -> BookingLog:
    return BookingLog(
        booking.pk,
        keys.log_sk(number),
        seq=number,
        entries=[
            {
                "description": entry.description,
                "success": entry.success,
                "state": entry.state,
                "data": dict(entry.data or {}),
            }
            for entry in entries
        ],
        created_at=db.iso(now),
    )


def create(company_id: int, new: NewBooking, *, actor: Actor = Actor.STAFF, rule: SeatRule = ENFORCED) -> Booking:
    graph = GRAPHS.get(new.graph)
    if graph is None:
        raise ValidationFailed(f"unknown graph {new.graph!r}", field="graph")
    if new.action and new.action != graph.create.name:
        raise ValidationFailed(f"a {graph.name} booking starts with the action {graph.create.name!r}", field="action")
    if new.time is not None and graph.capacity != "none":
        # Not yet: a group's time on a resource would also have to move with the group.
        raise ValidationFailed(f"a {graph.name} booking does not claim a resource's time", field=new.time.field)
    if graph.capacity != "seat" and new.owner_booking_id:
        raise ValidationFailed(f"a {graph.name} booking takes no seats of a group", field="related.owner_booking_id")
    now = clock.utcnow()
    owner: Booking | None = None
    reserved: Hold | None = None
    event = dict(new.event)
    if graph.capacity == "none" and new.reservation_id:
        # A reservation of time becomes this booking: its time, whatever else the body says.
        reserved = holds.get(company_id, new.reservation_id)
        event = {**event, **time_claims.reserved_event(reserved)}
    if graph.capacity == "seat":
        # A plain seat take may read the owner as remembered (store/warm.py): the shards'
        # condition decides, and a refusal by a closed shard reads it afresh (_take_seats).
        remembered = not new.reservation_id
        owner = reservable_owner(company_id, new.owner_booking_id, now, actor=actor, remembered=remembered)
        event = plain(owner.event)
    else:
        _check_event(event, now)
    end = _when(str(event["end"])) if event.get("end") else None
    first = plan(
        graph,
        "initialized",
        new.action or graph.create.name,
        now=now,
        end=end,
        settings=new.settings,
        options=new.options,
    )
    booking = _new_item(company_id, replace(new, event=event), graph, first.to_state, first.timer, now)
    log = _log_item(booking, 1, first.logs, now)

    def base_writes(tx: Transaction) -> None:
        tx.save(booking, condition=Booking.pk.does_not_exist())
        tx.save(log, condition=BookingLog.pk.does_not_exist())
        outbox.add(
            tx,
            first.event_type,
            company_id,
            booking.booking_id,
            snapshot(booking),
            notify=first.notify,
            message=first.message,
        )

    if reserved is not None:
        _convert_time_hold(booking, reserved, base_writes)
    elif new.time is not None and graph.capacity == "none":
        time_claims.claim_for_booking(booking, new.time, base_writes)
    elif first.seats is Seats.OPEN:
        _open_group(booking, new.settings, base_writes)
    elif first.seats is Seats.TAKE:
        assert owner is not None
        try:
            _take_seats(booking, owner, new, base_writes, rule)
        except capacity.NoSpaceLeft as refused:
            if refused.closed:
                # The group stopped taking seats (cancelled, completed) since it was read: say so.
                reservable_owner(company_id, owner.booking_id, now, actor=actor)
            raise
    else:
        transact(base_writes)
    booking.fresh_logs = [{**plain(entry), "created_at": log.created_at} for entry in log.entries]
    observability.count(Metric.BOOKINGS_CREATED)
    return booking


def book_offer(company_id: int, hold_id: str) -> Booking:
    """A v2 group's waitlist offer booked by its customer: a seat booking of the group made
    of the offer's hold, for the customer who queued. Once: the hold converts by
    compare-and-set, so a second click is 409 ``hold_expired``. (An event's or a slot's
    offer is bought as a purchase: ``baskets.book_offer``.)"""
    hold = holds.get(company_id, hold_id)
    if waitlist.offer_entry_id(hold) is None or not hold.owner_booking_id:
        raise NotFound("no such waitlist offer", field="reservation_id")
    details = plain_map(hold.details)
    new = NewBooking(
        graph=str(details.get("graph") or "group_customer"),
        customer=dict(details.get("customer") or {}),
        owner_booking_id=hold.owner_booking_id,
        reservation_id=hold.hold_id,
    )
    return create(company_id, new, actor=Actor.CUSTOMER)


def _check_event(event: Mapping[str, Any], now: datetime) -> None:
    start, end = event.get("start"), event.get("end")
    if not start or not end:
        raise ValidationFailed(
            "event.start and event.end are required", field="event.start" if not start else "event.end"
        )
    if db.parse_iso(str(end)) <= db.parse_iso(str(start)):
        raise ValidationFailed("event.end must be after event.start", field="event.end")
    windows.check_future(db.parse_iso(str(start)), now, field="event.start")


def _open_group(booking: Booking, settings: Mapping[str, Any], base_writes: Any) -> None:
    max_seats = settings.get("max_seats")
    if not isinstance(max_seats, int) or max_seats < 1:
        raise ValidationFailed("settings.max_seats is required for a group_owner booking", field="settings.max_seats")
    shards = int(settings.get("capacity_shards") or 1)
    if not 1 <= shards <= min(MAX_SHARDS, max_seats):
        raise ValidationFailed(
            f"settings.capacity_shards must be 1..{MAX_SHARDS} and <= max_seats", field="settings.capacity_shards"
        )
    booking.capacity_id = booking.booking_id
    booking.max_seats = max_seats
    booking.settings = {**dict(settings), "capacity_shards": shards}

    def writes(tx: Transaction) -> None:
        capacity.open_capacity(tx, booking.booking_id, booking.company_id, max_seats, shards)
        base_writes(tx)

    transact(writes)


def reservable_owner(
    company_id: int,
    owner_booking_id: str | None,
    now: datetime | None = None,
    *,
    actor: Actor = Actor.STAFF,
    remembered: bool = False,
) -> Booking:
    """The open group a seat booking or reservation is for (404, 422 or 409 otherwise).

    A customer books inside the group's booking window; the owner and admins any time
    before the start. ``remembered``: the owner as this process read it at most
    ``warm.SECONDS`` ago (a flash sale's seat bookings all read the same owner). Only for
    a caller whose write is conditional on the group's shards being open: a group that
    stops taking seats closes its shards in the same transaction (cancel, complete), so
    a stale "tentative" here cannot let a seat in; its start and windows may be that old.
    """
    now = now or clock.utcnow()
    if not owner_booking_id:
        raise ValidationFailed("related.owner_booking_id is required", field="related.owner_booking_id")
    try:
        if remembered:
            owner = warm.read(
                company_id, f"group {owner_booking_id}", lambda: get(company_id, owner_booking_id, consistent=False)
            )
        else:
            owner = get(company_id, owner_booking_id, consistent=False)
    except NotFound:
        raise NotFound("the group booking was not found", field="related.owner_booking_id") from None
    if owner.graph != "group_owner":
        raise ValidationFailed(
            "related.owner_booking_id must be a group_owner booking", field="related.owner_booking_id"
        )
    if owner.state != "tentative":
        raise Conflict(
            f"the group is {owner.state}; it takes no more bookings",
            code=ErrorCode.GROUP_CLOSED,
            field="related.owner_booking_id",
        )
    start = _when(owner.start_at)
    if start is not None:
        if start <= now:
            raise Conflict(
                "the group has already started", code=ErrorCode.GROUP_STARTED, field="related.owner_booking_id"
            )
        rules = windows.group_windows(plain(owner.settings))
        windows.check_booking(rules, start, now, actor, subject="this group", field="related.owner_booking_id")
    return owner


def _take_seats(booking: Booking, owner: Booking, new: NewBooking, base_writes: Any, rule: SeatRule) -> None:
    assert owner.capacity_id is not None
    booking.owner_booking_id = owner.booking_id
    booking.capacity_id = owner.capacity_id
    booking.gsi2sk = booking.gsi1sk
    shards = int(plain(owner.settings).get("capacity_shards") or 1)
    if new.reservation_id:
        _convert_hold(booking, new, base_writes)
        return
    booking.seats = new.seats

    def writes(tx: Transaction, shard_seats: ShardSeats) -> None:
        booking.seat_shards = capacity.as_list(shard_seats)
        booking.gsi2pk = keys.owner_seats(owner.booking_id, keys.first_shard(list(shard_seats)))
        base_writes(tx)

    capacity.take(owner.capacity_id, new.seats, shards, writes, reclaim=holds.reclaim_lapsed, rule=rule)


def _convert_time_hold(booking: Booking, hold: Hold, base_writes: Any) -> None:
    try:
        _take_over(hold, booking, base_writes, lambda writes: time_claims.convert_hold(booking, hold, writes))
    except TimeTaken:
        # Our own reservation's time, taken by a concurrent conversion of it: say so.
        if not holds.is_live(holds.get(booking.company_id, hold.hold_id)):
            raise Conflict(
                "the reservation has expired or ended", code=ErrorCode.HOLD_EXPIRED, field="reservation_id"
            ) from None
        raise


def _convert_hold(booking: Booking, new: NewBooking, base_writes: Any) -> None:
    assert new.reservation_id is not None
    hold: Hold = holds.get(booking.company_id, new.reservation_id)
    if hold.owner_booking_id != booking.owner_booking_id:
        raise ValidationFailed("the reservation belongs to another group", field="reservation_id")
    booking.seats = hold.seats
    taken = capacity.from_list(hold.seat_shards)
    booking.seat_shards = capacity.as_list(taken)
    booking.gsi2pk = keys.owner_seats(str(hold.owner_booking_id), keys.first_shard(list(taken)))
    _take_over(hold, booking, base_writes)


def _take_over(hold: Hold, booking: Booking, base_writes: Any, using: Runner | None = None) -> None:
    """The booking replaces a live hold in one transaction (``using``), compare-and-set on the hold."""
    now = clock.now()
    if not holds.is_live(hold, now):
        raise Conflict("the reservation has expired", code=ErrorCode.HOLD_EXPIRED, field="reservation_id")
    booking.reservation_id = hold.hold_id

    def writes(tx: Transaction) -> None:
        holds.convert(tx, hold, now)
        base_writes(tx)

    transact(
        writes,
        lambda _: Conflict("the reservation has expired or ended", code=ErrorCode.HOLD_EXPIRED, field="reservation_id"),
        using=using,
    )


def from_hold(company_id: int, new: NewBooking, hold: Hold, now: float) -> tuple[Booking, Any]:
    """A confirmed booking made of a live hold on a capacity it does not own (an event's).

    Returns the booking and ``writes(tx)`` for the caller's transaction (a checkout of
    several): the hold ends converted (compare-and-set on it being live), its seats go
    from held to booked, and the booking, its log and its outbox event are written.
    The booking refers to the capacity, so cancelling it releases the seats once.
    """
    graph = GRAPHS[new.graph]
    if graph.capacity != "none":
        raise ValueError("only a graph without its own capacity books on an event's")
    moment = clock.utcnow()
    first = plan(
        graph,
        "initialized",
        graph.create.name,
        now=moment,
        end=_when(str(new.event["end"])) if new.event.get("end") else None,
        settings=new.settings,
        options=new.options,
    )
    if first.to_state not in SEAT_HOLDING_STATES:
        raise ValueError(f"a {graph.name} booking does not rest holding seats")
    booking = _new_item(company_id, new, graph, first.to_state, first.timer, moment)
    booking.capacity_id = hold.capacity_id
    booking.seats = hold.seats
    booking.seat_shards = capacity.as_list(capacity.from_list(hold.seat_shards))
    booking.reservation_id = hold.hold_id
    log = _log_item(booking, 1, first.logs, moment)

    def writes(tx: Transaction) -> None:
        holds.convert(tx, hold, now)
        tx.save(booking, condition=Booking.pk.does_not_exist())
        tx.save(log, condition=BookingLog.pk.does_not_exist())
        outbox.add(tx, first.event_type, company_id, booking.booking_id, snapshot(booking))

    booking.fresh_logs = [{**plain(entry), "created_at": log.created_at} for entry in log.entries]
    return booking, writes


ITEMS_PER_HELD_BOOKING = 5  # hold, shard (one unless split), booking, log, outbox event


def holds_seats_elsewhere(booking: Booking) -> bool:
    """A booking with seats on a capacity it neither owns nor takes from a group (an event's)."""
    return bool(booking.capacity_id) and _graph(booking).capacity == "none"


def _releases_seats(booking: Booking, step: Plan) -> bool:
    if step.seats is Seats.RELEASE:
        return True
    # An event's booking gives its seats back when it stops holding them (cancelled,
    # declined, moved away), not when it completes: the event is over then.
    return (
        holds_seats_elsewhere(booking)
        and step.from_state in SEAT_HOLDING_STATES
        and step.to_state not in SEAT_HOLDING_STATES
        and step.to_state != "completed"
    )


# --- acting --------------------------------------------------------------------------------------


def act(
    company_id: int,
    booking_id: str,
    action_name: str,
    options: Mapping[str, Any],
    *,
    if_match: int | None = None,
    actor: Actor = Actor.STAFF,
    also: Callable[[Transaction], None] | None = None,
    promotion: Promotion = Promotion.IN_TRANSACTION,
) -> Booking:
    """Run ``action_name``; ``also`` adds writes to its transaction (a customer link's used-marker).
    ``promotion`` is the race test's control switch (see ``waitlist.Promotion``)."""
    booking = get(company_id, booking_id)
    if if_match is not None and if_match != int(booking.version):
        raise PreconditionFailed(f"the booking is at version {int(booking.version)}, not {if_match}", field="If-Match")
    return _apply(booking, action_name, options, by_timer=False, actor=actor, also=also, promotion=promotion)


def _apply(
    booking: Booking,
    action_name: str,
    options: Mapping[str, Any],
    *,
    by_timer: bool,
    actor: Actor = Actor.STAFF,
    also: Callable[[Transaction], None] | None = None,
    promotion: Promotion = Promotion.IN_TRANSACTION,
) -> Booking:
    graph = _graph(booking)
    now = clock.utcnow()
    settings = plain(booking.settings)
    step = plan(
        graph,
        booking.state,
        action_name,
        now=now,
        end=_when(booking.end_at),
        settings=settings,
        options=options,
        by_timer=by_timer,
    )
    _check_rules(booking, step, options, now, actor)
    actions: list[UpdateAction] = [
        Booking.state.set(step.to_state),
        Booking.updated_at.set(db.iso(now)),
        Booking.log_count.add(1),
    ]
    _set_timer(booking, step.timer)
    actions += _timer_actions(booking)
    if step.action.needs == "pay":
        actions.append(Booking.payment.set({"payment_id": str(options["pay"]["payment_id"]), "paid_at": db.iso(now)}))
    log = _log_item(booking, booking.log_count + 1, step.logs, now)
    after = _after(booking, step.to_state, now)

    def writes(tx: Transaction) -> None:
        # A fresh list each attempt: PynamoDB appends the version increment to the list it is given.
        tx.update(booking, actions=list(actions), condition=Booking.state == step.from_state, return_values="ALL_OLD")
        tx.save(log, condition=BookingLog.pk.does_not_exist())
        outbox.add(
            tx,
            step.event_type,
            booking.company_id,
            booking.booking_id,
            after,
            notify=step.notify,
            message=step.message,
        )
        if _releases_seats(booking, step) and booking.capacity_id:
            # The waitlist's head is offered the seats in this very transaction.
            holds.give_back(
                tx, int(booking.company_id), booking.capacity_id, _seat_shards(booking), promotion=promotion
            )
        if step.seats in (Seats.CLOSE, Seats.END) and booking.capacity_id:
            # A group that stops taking seats says so on its shards: their condition, not a
            # read of the owner, is what refuses a seat booking racing the change.
            capacity.close(tx, booking.capacity_id, shard_count(booking))
        if time_claims.releases_time(booking, step.from_state, step.to_state):
            time_claims.release_booking(tx, booking)
        if also is not None:
            also(tx)

    _run_cas(booking, writes)
    if graph.capacity == "owner":
        warm.forget(int(booking.company_id))  # this process reads its own group's changes at once
    if promotion is Promotion.AFTERWARDS and _releases_seats(booking, step) and booking.capacity_id:
        holds.promote_afterwards(int(booking.company_id), booking.capacity_id, shard_count(booking), int(booking.seats))
    if step.seats is Seats.CLOSE:
        return cascade_owner_cancel(get(booking.company_id, booking.booking_id))
    return get(booking.company_id, booking.booking_id)


def _after(booking: Booking, state: str, now: datetime) -> dict[str, Any]:
    """The booking as its outbox event reports it once ``state`` is reached."""
    graph = _graph(booking)
    return {
        **snapshot(booking),
        "state": state,
        "completed": graph.is_completed(state),
        "possible_actions": graph.possible_actions(state),
        "updated_at": db.iso(now),
    }


def _timer_actions(booking: Booking) -> list[UpdateAction]:
    if booking.timer_action is None:
        return [Booking.timer_action.remove(), Booking.xpk.remove(), Booking.xsk.remove()]
    return [
        Booking.timer_action.set(booking.timer_action),
        Booking.xpk.set(booking.xpk or ""),
        Booking.xsk.set(booking.xsk or ""),
    ]


def _check_rules(booking: Booking, step: Plan, options: Mapping[str, Any], now: datetime, actor: Actor) -> None:
    if step.action.needs == "pay":
        pay = options.get("pay")
        if not isinstance(pay, Mapping) or not isinstance(pay.get("payment_id"), str) or not pay["payment_id"]:
            raise ValidationFailed("pay.payment_id is required", field="pay.payment_id")
    start = _when(booking.start_at)
    if step.action.name == "cancel_by_customer" and booking.owner_booking_id and start is not None:
        rules = windows.group_windows(_owner_settings(booking))
        windows.check_cancel(rules, start, now, actor, subject="this booking", field=None)


def _owner_settings(booking: Booking) -> dict[str, Any]:
    try:
        owner = Booking.get(keys.booking_pk(booking.owner_booking_id or ""), keys.BOOKING_SK)
    except ItemNotFound:
        return {}
    return dict(plain(owner.settings))


def _seat_shards(booking: Booking) -> dict[str, int]:
    return capacity.from_list(booking.seat_shards)


def shard_count(booking: Booking) -> int:
    return int(plain(booking.settings).get("capacity_shards") or 1)


# --- the owner's cancellation, in batches ----------------------------------------------------------


def cascade_owner_cancel(owner: Booking, budget: int | None = None) -> Booking:
    """Cancel every seat booking of a cancelling group, in idempotent batches.

    Resumable: each batch is compare-and-set on every seat booking it moves, so a
    rerun (the sweeper, a retry) only picks up what is left. The owner stays
    ``cancelling`` until no seat is booked, then becomes ``cancelled``.
    """
    assert owner.capacity_id is not None
    for _ in range(CASCADE_BUDGET if budget is None else budget):
        batch = [seat for seat in seat_bookings(owner) if seat.state in SEAT_HOLDING_STATES][:CASCADE_BATCH]
        if not batch:
            if capacity.read(owner.capacity_id, shard_count(owner)).booked == 0:
                return _finish_owner_cancel(owner)
            time.sleep(0.2)  # a seat booking too new for the index yet; look again
            continue

        def writes(tx: Transaction, seats: list[Booking] = batch) -> None:
            _cancel_seats(tx, owner, seats)

        # Refused: a seat changed under us (its booker cancelled): read again and retry.
        transact(writes, lambda _: None)
    return _schedule_resume(owner)


def _cancel_seats(tx: Transaction, owner: Booking, seats: list[Booking]) -> None:
    now = clock.utcnow()
    released: dict[str, int] = defaultdict(int)
    for seat in seats:
        step = plan(_graph(seat), seat.state, "cancel_by_owner", now=now, end=None, settings={}, options={})
        _set_timer(seat, step.timer)
        tx.update(
            seat,
            actions=[
                Booking.state.set(step.to_state),
                Booking.updated_at.set(db.iso(now)),
                Booking.log_count.add(1),
                *_timer_actions(seat),
            ],
            condition=Booking.state == seat.state,
            return_values="ALL_OLD",
        )
        tx.save(_log_item(seat, seat.log_count + 1, step.logs, now), condition=BookingLog.pk.does_not_exist())
        outbox.add(
            tx,
            step.event_type,
            seat.company_id,
            seat.booking_id,
            _after(seat, step.to_state, now),
            notify=step.notify,
        )
        for shard, count in _seat_shards(seat).items():
            released[shard] += count
    assert owner.capacity_id is not None
    capacity.release(tx, owner.capacity_id, released)


def _finish_owner_cancel(owner: Booking) -> Booking:
    now = clock.utcnow()
    entries = (
        LogEntry("Every seat booking is cancelled", "cancelling"),
        LogEntry("Changed state to: cancelled", "cancelled"),
    )
    owner.timer_action = owner.xpk = owner.xsk = None

    def writes(tx: Transaction) -> None:
        tx.update(
            owner,
            actions=[
                Booking.state.set("cancelled"),
                Booking.updated_at.set(db.iso(now)),
                Booking.log_count.add(1),
                *_timer_actions(owner),
            ],
            condition=Booking.state == "cancelling",
            return_values="ALL_OLD",
        )
        tx.save(_log_item(owner, owner.log_count + 1, entries, now), condition=BookingLog.pk.does_not_exist())
        outbox.add(
            tx,
            "booking.cancelled",
            owner.company_id,
            owner.booking_id,
            _after(owner, "cancelled", now),
        )

    transact(writes, lambda _: None)  # refused: another run finished it first
    return get(owner.company_id, owner.booking_id)


def _schedule_resume(owner: Booking) -> Booking:
    """Leave the rest to the sweeper: the owner is due now with the cancel timer."""
    due = db.iso(clock.utcnow())
    owner.update(
        actions=[
            Booking.timer_action.set("cancel"),
            Booking.xpk.set(keys.expiry_partition(owner.pk)),
            Booking.xsk.set(f"{due}#{owner.pk}"),
        ],
        condition=Booking.state == "cancelling",
    )
    return get(owner.company_id, owner.booking_id)


# --- timers (run by the sweeper) ---------------------------------------------------------------------


def run_timer(booking: Booking) -> Booking | None:
    """Apply the booking's due timer once; None when it had already moved on."""
    if booking.timer_action == "cancel" and booking.state == "cancelling":
        return cascade_owner_cancel(booking)
    if booking.timer_action is None:
        return None
    try:
        return _apply(booking, booking.timer_action, {}, by_timer=True)
    except Conflict:
        return None  # another sweeper or a caller got there first


# --- rescheduling --------------------------------------------------------------------------------------


def reschedule(
    company_id: int, booking_id: str, start: str, end: str, message: str | None, resource_id: int | None = None
) -> Booking:
    """Move a booking in time, keeping lineage.

    A group moves in place (its seats follow it); any other booking is replaced by
    a new one in the same state (``rescheduled_from``), the old one ending in its
    graph's rescheduled state (``rescheduled_to``).
    """
    booking = get(company_id, booking_id)
    graph = _graph(booking)
    if holds_seats_elsewhere(booking):
        raise Conflict(
            "a booking of an event keeps the event's time; cancel it and book another occurrence",
            code=ErrorCode.ACTION_NOT_ALLOWED,
        )
    if booking.state not in graph.reschedulable:
        raise Conflict(
            f"a {graph.name} booking in state {booking.state} cannot be rescheduled",
            code=ErrorCode.ACTION_NOT_ALLOWED,
            extra={"possible_actions": graph.possible_actions(booking.state), "state": booking.state},
        )
    event = {**plain(booking.event), "start": start, "end": end}
    now = clock.utcnow()
    _check_event(event, now)
    moved = LogEntry(
        f"Rescheduled from {booking.start_at} - {booking.end_at} to {db.iso(db.parse_iso(start))} - "
        f"{db.iso(db.parse_iso(end))}",
        booking.state,
        data={"message": message} if message else None,
    )
    if graph.capacity == "owner":
        return _move_in_place(booking, event, moved, now)
    return _replace(booking, graph, event, moved, now, resource_id)


def _said(moved: LogEntry) -> str | None:
    """The message given with a reschedule, for its emails."""
    message = (moved.data or {}).get("message")
    return str(message) if message else None


def _move_in_place(booking: Booking, event: dict[str, Any], moved: LogEntry, now: datetime) -> Booking:
    start, end = db.iso(db.parse_iso(event["start"])), db.iso(db.parse_iso(event["end"]))
    after = {**snapshot(booking), "event_info": _event_info(event)}

    def writes(tx: Transaction) -> None:
        tx.update(
            booking,
            actions=[
                Booking.event.set(event),
                Booking.start_at.set(start),
                Booking.end_at.set(end),
                Booking.updated_at.set(db.iso(now)),
                Booking.log_count.add(1),
            ],
            condition=Booking.state == booking.state,
            return_values="ALL_OLD",
        )
        tx.save(_log_item(booking, booking.log_count + 1, (moved,), now), condition=BookingLog.pk.does_not_exist())
        outbox.add(
            tx,
            "booking.rescheduled",
            booking.company_id,
            booking.booking_id,
            after,
            notify=_RESCHEDULE_NOTIFY,
            message=_said(moved),
        )

    _run_cas(booking, writes)
    warm.forget(int(booking.company_id))  # a group moved: this process books against its new time at once
    return get(booking.company_id, booking.booking_id)


def _replace(
    booking: Booking, graph: Graph, event: dict[str, Any], moved: LogEntry, now: datetime, resource_id: int | None
) -> Booking:
    settings = plain(booking.settings)
    new = NewBooking(
        graph=graph.name,
        event=event,
        customer=plain(booking.customer),
        settings=settings,
        options=plain(booking.options),
        project_id=booking.project_id,
    )
    # The successor rests where the old booking rested, with that state's timer at the new times.
    timer = next_timer(graph, booking.state, now=now, end=db.parse_iso(event["end"]), settings=settings)
    successor = _new_item(booking.company_id, new, graph, booking.state, timer, now)
    successor.rescheduled_from = booking.booking_id
    # One calendar event through the lineage: same UID, a SEQUENCE above the one it replaces.
    successor.ical_uid = calendars.calendar_uid(booking)
    successor.ical_sequence_base = calendars.calendar_sequence(booking) + 1
    ended = graph.rescheduled_state
    booking.timer_action = booking.xpk = booking.xsk = None
    entries = (moved, LogEntry(f"Changed state to: {ended}", ended, data={"rescheduled_to": successor.booking_id}))
    born = (LogEntry(f"Rescheduled from booking {booking.booking_id}", booking.state),)

    def writes(tx: Transaction) -> None:
        tx.update(
            booking,
            actions=[
                Booking.state.set(ended),
                Booking.rescheduled_to.set(successor.booking_id),
                Booking.updated_at.set(db.iso(now)),
                Booking.log_count.add(1),
                *_timer_actions(booking),
            ],
            condition=Booking.state == booking.state,
            return_values="ALL_OLD",
        )
        tx.save(_log_item(booking, booking.log_count + 1, entries, now), condition=BookingLog.pk.does_not_exist())
        tx.save(successor, condition=Booking.pk.does_not_exist())
        tx.save(_log_item(successor, 1, born, now), condition=BookingLog.pk.does_not_exist())
        outbox.add(
            tx,
            "booking.rescheduled",
            booking.company_id,
            booking.booking_id,
            {**snapshot(booking), "state": ended, "rescheduled_to": successor.booking_id},
            notify=_RESCHEDULE_NOTIFY,
            message=_said(moved),
        )

    if booking.claim_days:
        # The new time is claimed and the old released in this same transaction, or nothing changes.
        _run_cas(booking, writes, using=lambda build: time_claims.move_booking(booking, successor, resource_id, build))
    else:
        _run_cas(booking, writes)
    return successor


def _run_cas(booking: Booking, writes: Any, using: Runner | None = None) -> None:
    """Run a transaction whose booking update is compare-and-set; a lost race is a 409."""

    def lost(_: Refusal) -> Conflict:
        current = get(booking.company_id, booking.booking_id)
        return Conflict(
            f"the booking changed meanwhile; it is now {current.state}",
            code=ErrorCode.STATE_CONFLICT,
            extra={"state": current.state, "possible_actions": _graph(current).possible_actions(current.state)},
        )

    transact(writes, lost, using=using)


# --- the shape clients and webhooks see -------------------------------------------------------------


def _event_info(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: event.get(key)
        for key in ("start", "end", "what", "where", "description", "calendar_id")
        if event.get(key) is not None
    }


def snapshot(booking: Booking) -> dict[str, Any]:
    """The booking as the API shows it (without logs or includes); also the outbox payload."""
    graph = _graph(booking)
    data: dict[str, Any] = {
        "id": booking.booking_id,
        "graph": booking.graph,
        "state": booking.state,
        "completed": graph.is_completed(booking.state),
        "possible_actions": graph.possible_actions(booking.state),
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
        "attributes": {"event_info": _event_info(plain(booking.event))},
        "customers": [plain(booking.customer)] if plain(booking.customer) else [],
    }
    if booking.owner_booking_id:
        data["related"] = {"owner_booking_id": booking.owner_booking_id, "seats": booking.seats}
    for name in ("rescheduled_from", "rescheduled_to", "reservation_id"):
        if getattr(booking, name):
            data[name] = getattr(booking, name)
    if booking.payment:
        data["payment"] = plain(booking.payment)
    if booking.resource:
        data["resource"] = plain(booking.resource)
    if booking.project_id:
        data["project_id"] = booking.project_id
    return data


def group_booking(booking: Booking) -> dict[str, int] | None:
    if booking.graph != "group_owner" or booking.capacity_id is None:
        return None
    seats = capacity.read(booking.capacity_id, shard_count(booking))
    return {
        "max_seats": booking.max_seats or 0,
        "current_seats": seats.booked,
        "held_seats": seats.held,
        "available_seats": max(seats.available, 0),
        "waitlist_length": waitlist.length(booking.capacity_id),
    }


def group_queue(owner: Booking) -> waitlist.Queue:
    """A group's waitlist: its capacity, and what the offer's email says about it."""
    return waitlist.Queue(
        int(owner.company_id),
        owner.capacity_id or "",
        shard_count(owner),
        owner_booking_id=owner.booking_id,
        event_info=_event_info(plain_map(owner.event)),
    )


def view(booking: Booking) -> dict[str, Any]:
    data = snapshot(booking)
    group = group_booking(booking)
    if group is not None:
        data["attributes"]["group_booking"] = group
    return data


def condition_for(filters: Mapping[str, str]) -> Condition | None:
    condition: Condition | None = None
    for name, value in filters.items():
        attribute = {
            "graph": Booking.graph,
            "state": Booking.state,
            "resource.id": Booking.resource["id"],
            "customer.email": Booking.customer["email"],
            "customer.name": Booking.customer["name"],
            "customer.phone": Booking.customer["phone"],
            "project.id": Booking.project_id,
        }[name]
        clause = attribute == value
        condition = clause if condition is None else condition & clause
    return condition
