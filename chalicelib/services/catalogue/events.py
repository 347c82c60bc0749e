"""Event groups, event chains (sessions) and their events (bookable occurrences).

A chain's schedule expands (``domain/recurrence.py``) into events; each event's seats
are its own capacity (``CAP#EVENT-<id>``) opened in the transaction that writes the
event, so seats change only through ``services/capacity.py``. Editing a chain diffs
the new expansion against the existing events by start: kept events keep their id,
new ones are created, and one that would be dropped or shrunk below what is booked
or held is refused with 409 naming it. Transactions carry at most 100 items; a
chain too big for one is written in several, events first and the chain last (an
event whose chain does not exist is never listed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import clock, recurrence
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.domain.event_rules import BookingRules
from chalicelib.domain.recurrence import Occurrence, Repeat, Schedule, Slot
from chalicelib.services.catalogue import catalogue
from chalicelib.services.messaging import outbox
from chalicelib.services.selling import capacity, holds, waitlist
from chalicelib.store import db, keys, warm
from chalicelib.store.errors import ItemNotFound, refused
from chalicelib.store.models import Event, EventChain, EventGroup, plain_map
from chalicelib.store.pages import Page, query_all, query_page
from chalicelib.store.transact import OnConditionFailed, Transaction, transact

SESSION_TYPES = {"event": 0, "course": 1, "recurring_event": 2}
MAX_SHARDS = 32  # 4,000 basket bookings/s need 20 (docs/performance.md); a create packs 3 events a transaction
MAX_RANGE_DAYS = 93  # events listing: the widest date range one request may ask for
TRANSACTION_ITEMS = 100

# Fields a chain takes from a create or update spec, as stored.
_CHAIN_FIELDS = (
    "name",
    "description",
    "long_description",
    "session_type",
    "repeat",
    "start_date",
    "end_date",
    "time",
    "duration",
    "slots",
    "group",
    "event_group_id",
    "spaces",
    "shards",
    "price",
    "max_num_bookings",
    "min_advance",
    "max_advance",
    "min_cancel",
    "ticket_type",
    "detail_group_id",
    "ask_address",
    "disabled",
    "extra",
)
_SCHEDULE_FIELDS = frozenset({"repeat", "start_date", "end_date", "time", "duration", "slots", "max_advance"})


# --- reads -----------------------------------------------------------------------------------


def company_zone(company_id: int) -> ZoneInfo:
    """The company's zone, as read at most ``warm.SECONDS`` ago: every basket answer shows local times."""
    from chalicelib.services.identity import companies

    return ZoneInfo(companies.company_for_sale(company_id).timezone)


def get_event(company_id: int, event_id: int) -> Event:
    db.ensure_bound()
    try:
        event = Event.get(keys.company_pk(company_id), keys.event_sk(event_id))
    except ItemNotFound:
        raise NotFound("event not found", field="event_id") from None
    if event.deleted:
        raise NotFound("event not found", field="event_id")
    return event


def get_chain(company_id: int, chain_id: int) -> EventChain:
    db.ensure_bound()
    try:
        return EventChain.get(keys.company_pk(company_id), keys.chain_sk(chain_id))
    except ItemNotFound:
        raise NotFound("event chain not found", field="event_chain_id") from None


def event_for_sale(company_id: int, event_id: int) -> Event:
    """``get_event``, as read at most ``warm.SECONDS`` ago by this process (the basket's path)."""
    return warm.read(company_id, f"event {event_id}", lambda: get_event(company_id, event_id))


def chain_for_sale(company_id: int, chain_id: int) -> EventChain:
    """``get_chain``, as read at most ``warm.SECONDS`` ago by this process (the basket's path)."""
    return warm.read(company_id, f"chain {chain_id}", lambda: get_chain(company_id, chain_id))


def chain_events(company_id: int, chain_id: int) -> list[Event]:
    """A chain's live events by start (one Query on gsi2)."""
    get_chain(company_id, chain_id)
    found = Event.children.query(keys.chain_events(chain_id))
    return [e for e in found if isinstance(e, Event) and e.company_id == company_id and not e.deleted]


def rules(chain: EventChain) -> BookingRules:
    return BookingRules(
        disabled=bool(chain.disabled),
        max_num_bookings=chain.max_num_bookings,
        min_advance_minutes=chain.min_advance,
        max_advance_days=None if chain.max_advance is None else chain.max_advance,
        min_cancel_days=chain.min_cancel,
        ticket_type=chain.ticket_type,
        course=chain.session_type == 1,
        price=chain.price,
        detail_group_id=None if chain.detail_group_id is None else chain.detail_group_id,
    )


def start_of(event: Event) -> datetime:
    """The event's start as an aware UTC datetime."""
    return db.parse_iso(event.start_at)


def availability(event: Event) -> dict[str, Any]:
    """Seat counts as BookingBug shows them; lapsed holds never count (capacity.read)."""
    seats = capacity.read(event.capacity_id, event.shards)
    left = max(seats.available, 0)
    return {
        "num_spaces": seats.capacity,
        "spaces_booked": seats.booked,
        "spaces_reserved": seats.held,  # live basket holds
        "spaces_held": 0,  # no admin hold feature; BookingBug's field, kept for clients
        "spaces_blocked": 0 if seats.open else left,
        "spaces_wait": waitlist.length(event.capacity_id),  # customers queued for a space
        "spaces_left": left if seats.open else 0,
        "bookable": bool(seats.open and left > 0 and not event.deleted),
    }


def list_chains(company_id: int, page: int, per_page: int, *, admin: bool) -> Page[EventChain]:
    visible = None if admin else EventChain.disabled == False  # noqa: E712
    return query_page(EventChain, keys.company_pk(company_id), keys.CHAIN_PREFIX, page, per_page, visible)


def list_events(
    company_id: int,
    start: datetime,
    end: datetime,
    page: int,
    per_page: int,
    *,
    event_group_id: int | None = None,
    event_chain_id: int | None = None,
) -> Page[Event]:
    """Events starting in [start, end): a Query on gsi1 (or gsi2 for one chain), never a Scan."""
    if end <= start:
        raise ValidationFailed("end_date is before start_date", field="end_date", code=ErrorCode.INVALID_RANGE)
    if end - start > timedelta(days=MAX_RANGE_DAYS + 1):
        raise ValidationFailed(
            f"ask for at most {MAX_RANGE_DAYS} days of events at a time",
            field="end_date",
            code=ErrorCode.RANGE_TOO_WIDE,
        )
    bounds = (db.iso(start), db.iso(end))
    group_filter = Event.event_group_id == event_group_id if event_group_id is not None else None
    if event_chain_id is not None:
        get_chain(company_id, event_chain_id)
        return query_page(
            Event,
            keys.chain_events(event_chain_id),
            "",
            page,
            per_page,
            group_filter,
            index=Event.children,
            sort_key_between=bounds,
        )
    return query_page(
        Event,
        keys.company_events(company_id),
        "",
        page,
        per_page,
        group_filter,
        index=Event.listing,
        sort_key_between=bounds,
    )


# --- event groups --------------------------------------------------------------------------


def create_event_group(
    company_id: int, name: str, description: str = "", extra: Mapping[str, Any] | None = None
) -> EventGroup:
    db.ensure_bound()
    group_id = db.allocate_ids()
    group = EventGroup(
        keys.company_pk(company_id),
        keys.event_group_sk(group_id),
        company_id=company_id,
        group_id=group_id,
        name=name,
        description=description,
        extra=dict(extra or {}),
    )
    group.save(condition=EventGroup.pk.does_not_exist())
    return group


def get_event_group(company_id: int, group_id: int) -> EventGroup:
    db.ensure_bound()
    try:
        return EventGroup.get(keys.company_pk(company_id), keys.event_group_sk(group_id))
    except ItemNotFound:
        raise NotFound("event group not found", field="event_group_id") from None


def list_event_groups(company_id: int, page: int, per_page: int) -> Page[EventGroup]:
    return query_page(EventGroup, keys.company_pk(company_id), keys.EVENT_GROUP_PREFIX, page, per_page)


def update_event_group(company_id: int, group_id: int, fields: Mapping[str, Any]) -> EventGroup:
    group = get_event_group(company_id, group_id)
    for name in ("name", "description", "extra"):
        if fields.get(name) is not None:
            setattr(group, name, fields[name])
    if refused(group.save):  # compare-and-set on version
        raise Conflict("the event group changed meanwhile; read it and retry", code=ErrorCode.VERSION_CONFLICT)
    return group


def delete_event_group(company_id: int, group_id: int) -> EventGroup:
    group = get_event_group(company_id, group_id)
    users = [c.chain_id for c in _all_chains(company_id) if c.event_group_id == group_id]
    if users:
        raise Conflict(
            f"event chains {users} are in this group; move them first",
            field="event_group_id",
            code=ErrorCode.EVENT_GROUP_IN_USE,
            extra={"event_chain_ids": users},
        )
    group.delete()
    return group


def _all_chains(company_id: int) -> list[EventChain]:
    return query_all(EventChain, keys.company_pk(company_id), keys.CHAIN_PREFIX)


# --- specs and defaults ----------------------------------------------------------------------


def session_defaults(session_type: int, now_local: datetime) -> dict[str, Any]:
    """Seed 001's defaults for a new session of each type (``POST sessions.xml?type=``)."""
    start = (now_local + timedelta(days=7)).date()
    common = {"start_date": start, "time": now_local.strftime("%H:%M"), "min_cancel": 5, "session_type": session_type}
    if session_type == 0:
        return {**common, "name": "My Event", "end_date": start, "repeat": 0, "duration": 120}
    if session_type == 1:
        return {**common, "name": "My Course", "end_date": start, "repeat": 6, "duration": 60}
    return {**common, "name": "My Recurring Event", "repeat": 1, "duration": 60, "max_advance": 60}


def parse_date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{field} must be a date (YYYY-MM-DD)", field=field) from None


def parse_time(value: Any, field: str) -> time:
    if isinstance(value, time):
        return value
    text = str(value).strip()
    hours, sep, minutes = text.partition(":")
    digits = sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2
    if digits and int(hours) < 24 and int(minutes) < 60:
        return time(int(hours), int(minutes))
    raise ValidationFailed(f"{field} must be a time (HH:MM)", field=field)


def _slot(raw: Mapping[str, Any], defaults: EventChain, index: int) -> dict[str, Any]:
    day = parse_date(raw.get("date"), f"slots.{index}.date")
    at = (
        parse_time(raw["time"], f"slots.{index}.time")
        if raw.get("time") is not None
        else parse_time(defaults.time, "time")
    )
    duration = int(raw["duration"]) if raw.get("duration") is not None else defaults.duration
    if not 0 < duration <= 7 * 24 * 60:
        raise ValidationFailed("a slot lasts 1 minute to 7 days", field=f"slots.{index}.duration")
    return {"date": day.isoformat(), "time": at.strftime("%H:%M"), "duration": duration}


def _apply(chain: EventChain, spec: Mapping[str, Any]) -> None:
    """Copy the given fields onto the chain (dates and times normalised), then check it."""
    for name in _CHAIN_FIELDS:
        if name not in spec or name == "slots":
            continue
        value = spec[name]
        if value is None and name not in ("end_date", "max_advance", "event_group_id", "detail_group_id"):
            continue
        if name in ("start_date", "end_date") and value is not None:
            value = parse_date(value, name).isoformat()
        elif name == "time":
            value = parse_time(value, name).strftime("%H:%M")
        elif name == "extra":
            value = dict(value)
        setattr(chain, name, value)
    if spec.get("slots") is not None:
        chain.slots = [_slot(raw, chain, i) for i, raw in enumerate(spec["slots"])]
    _check(chain)


def _check(chain: EventChain) -> None:
    if chain.session_type not in (0, 1, 2):
        raise ValidationFailed("type is 0 (event), 1 (course) or 2 (recurring event)", field="type")
    if chain.repeat not in {r.value for r in Repeat}:
        raise ValidationFailed("repeat is one of seed 001's codes 0..8", field="repeat")
    if chain.session_type == 0 and chain.repeat not in (Repeat.NONE, Repeat.CUSTOM):
        raise ValidationFailed("a one-off event does not repeat; make it a recurring event", field="repeat")
    if chain.session_type == 0 and chain.repeat == Repeat.CUSTOM and len(chain.slots) > 1:
        raise ValidationFailed("a one-off event has one slot", field="slots")
    if not 1 <= chain.shards <= MAX_SHARDS:
        raise ValidationFailed(f"shards is 1..{MAX_SHARDS}", field="shards")
    if chain.spaces < 1:
        raise ValidationFailed("spaces is at least 1", field="spaces")
    if chain.max_num_bookings < 1:
        raise ValidationFailed("max_num_bookings is at least 1", field="max_num_bookings")
    if chain.ticket_type not in (0, 1, 2, 3):
        raise ValidationFailed("ticket_type is 0..3", field="ticket_type")


def _check_references(company_id: int, chain: EventChain) -> None:
    if chain.event_group_id is not None:
        try:
            group = get_event_group(company_id, chain.event_group_id)
        except NotFound:
            raise ValidationFailed("no such event group", field="event_group_id") from None
        if not chain.group:
            chain.group = group.name
    if chain.detail_group_id is not None:
        catalogue.require_question_group(company_id, chain.detail_group_id)


def schedule_of(chain: EventChain) -> Schedule:
    """The chain's schedule; a custom chain without slots has one at its start date and time."""
    repeat = Repeat(chain.repeat)
    start = parse_date(chain.start_date, "start_date")
    at = parse_time(chain.time, "time")
    slots = tuple(
        Slot(parse_date(raw["date"], "slots"), parse_time(raw["time"], "slots"), int(raw["duration"]))
        for raw in (plain_map(s) for s in chain.slots)
    )
    if repeat is Repeat.CUSTOM and not slots:
        slots = (Slot(start, at, chain.duration),)
    return Schedule(
        repeat=repeat,
        start_date=start,
        time=at,
        duration=chain.duration,
        end_date=None if chain.end_date is None else parse_date(chain.end_date, "end_date"),
        max_advance_days=None if chain.max_advance is None else chain.max_advance,
        slots=slots,
    )


# --- writes ----------------------------------------------------------------------------------


@dataclass
class _Op:
    items: int
    write: Callable[[Transaction], None]


def _commit(ops: Sequence[_Op], on_condition_failed: OnConditionFailed | None = None) -> None:
    """Pack the writes into as few transactions as fit (<= 100 items each), in order."""
    batch: list[_Op] = []
    size = 0
    for op in ops:
        if batch and size + op.items > TRANSACTION_ITEMS:
            _run(batch, on_condition_failed)
            batch, size = [], 0
        batch.append(op)
        size += op.items
    if batch:
        _run(batch, on_condition_failed)


def _run(batch: Sequence[_Op], on_condition_failed: OnConditionFailed | None) -> None:
    def build(tx: Transaction) -> None:
        for op in batch:
            op.write(tx)

    transact(build, on_condition_failed)
    warm.forget_all()  # this process reads its own catalogue writes (edits are rare: all is cheap)


def _new_event(chain: EventChain, event_id: int, occurrence: Occurrence) -> Event:
    start = db.iso(occurrence.start_utc)
    return Event(
        keys.company_pk(chain.company_id),
        keys.event_sk(event_id),
        company_id=chain.company_id,
        event_id=event_id,
        chain_id=chain.chain_id,
        event_group_id=chain.event_group_id,
        start_at=start,
        duration=occurrence.duration,
        spaces=chain.spaces,
        shards=chain.shards,
        gsi1pk=keys.company_events(chain.company_id),
        gsi1sk=keys.event_start_sk(start, event_id),
        gsi2pk=keys.chain_events(chain.chain_id),
        gsi2sk=keys.event_start_sk(start, event_id),
    )


def _open_event(event: Event) -> _Op:
    def write(tx: Transaction) -> None:
        tx.save(event, condition=Event.pk.does_not_exist())
        capacity.open_capacity(tx, event.capacity_id, event.company_id, event.spaces, event.shards)

    return _Op(1 + event.shards, write)


def _remove_event(event: Event) -> _Op:
    """Soft delete (bookings may still name it) and close its seats, only while none are taken."""

    def write(tx: Transaction) -> None:
        capacity.retire(tx, event.capacity_id, event.shards)
        tx.update(
            event,
            actions=[
                Event.deleted.set(True),
                Event.gsi1pk.remove(),
                Event.gsi1sk.remove(),
                Event.gsi2pk.remove(),
                Event.gsi2sk.remove(),
            ],
            condition=Event.deleted == False,  # noqa: E712
        )

    return _Op(1 + event.shards, write)


def snapshot(chain: EventChain) -> dict[str, Any]:
    return {"id": chain.chain_id, "name": chain.name, "session_type": chain.session_type}


def create_chain(company_id: int, spec: Mapping[str, Any]) -> tuple[EventChain, list[Event]]:
    """Create a chain from ``spec`` (the stored field names; dates and times as ISO text or
    objects; ``type`` in ``session_type``) and its events, each with its capacity."""
    zone = company_zone(company_id)
    if not spec.get("name"):
        raise ValidationFailed("name is required", field="name")
    if spec.get("start_date") is None:
        raise ValidationFailed("start_date is required", field="start_date")
    chain = EventChain(keys.company_pk(company_id), "pending", company_id=company_id, chain_id=0)
    chain.time = clock.utcnow().astimezone(zone).strftime("%H:%M")  # seed 001: "time at creation of session"
    chain.created_at = db.iso(clock.utcnow())
    _apply(chain, spec)
    _check_references(company_id, chain)
    occurrences = recurrence.expand(schedule_of(chain), zone)
    first = db.allocate_ids(1 + len(occurrences))
    chain.chain_id = first
    chain.sk = keys.chain_sk(first)
    events = [_new_event(chain, first + 1 + i, occurrence) for i, occurrence in enumerate(occurrences)]

    def write_chain(tx: Transaction) -> None:
        tx.save(chain, condition=EventChain.pk.does_not_exist())
        payload = snapshot(chain) | {"event_ids": [e.event_id for e in events]}
        outbox.add(tx, "event_chain.created", company_id, str(first), payload)

    _commit([*(_open_event(e) for e in events), _Op(2, write_chain)])
    return chain, events


def _local_slot(event: Event, zone: ZoneInfo) -> dict[str, Any]:
    local = start_of(event).astimezone(zone)
    return {"date": local.date().isoformat(), "time": local.strftime("%H:%M"), "duration": event.duration}


def _taken(event: Event) -> int:
    """Seats booked or held on a live hold (lapsed holds are reclaimed first, so they never block)."""
    seats = capacity.read(event.capacity_id, event.shards)
    if seats.held:
        holds.reclaim_lapsed(event.capacity_id, range(event.shards))
        seats = capacity.read(event.capacity_id, event.shards)
    return seats.booked + seats.held


def _refuse(blocked: Iterable[tuple[Event, int]], what: str, zone: ZoneInfo) -> None:
    blocked = list(blocked)
    if not blocked:
        return
    names = ", ".join(
        f"event {e.event_id} at {start_of(e).astimezone(zone).isoformat()} ({n} booked or held)" for e, n in blocked
    )
    raise Conflict(
        f"{what}: {names}",
        field="slots",
        code=ErrorCode.SLOT_HAS_BOOKINGS,
        extra={"event_ids": [e.event_id for e, _n in blocked]},
    )


def update_chain(company_id: int, chain_id: int, spec: Mapping[str, Any]) -> tuple[EventChain, list[Event]]:
    """Change fields, the schedule and the spaces; see the module docstring for what is refused."""
    zone = company_zone(company_id)
    chain = get_chain(company_id, chain_id)
    existing = chain_events(company_id, chain_id)
    old_group = chain.event_group_id
    if spec.get("slots") is not None and "repeat" not in spec:
        spec = {**spec, "repeat": int(Repeat.CUSTOM)}  # seed 001: custom slots replace the schedule
    _apply(chain, spec)
    _check_references(company_id, chain)
    if "shards" in spec and chain.shards != (existing[0].shards if existing else chain.shards):
        raise ValidationFailed("shards cannot change once events exist", field="shards")
    if _SCHEDULE_FIELDS & {name for name, value in spec.items() if value is not None or name == "end_date"}:
        wanted = {db.iso(o.start_utc): o for o in recurrence.expand(schedule_of(chain), zone)}
    else:
        wanted = {e.start_at: Occurrence(start_of(e).astimezone(zone), e.duration) for e in existing}
    by_start = {e.start_at: e for e in existing}
    dropped = [e for e in existing if e.start_at not in wanted]
    _refuse(((e, n) for e in dropped if (n := _taken(e)) > 0), "these events have bookings and cannot be dropped", zone)
    spaces = chain.spaces
    resized = [e for e in existing if e.start_at in wanted and e.spaces != spaces]
    _refuse(
        ((e, n) for e in resized if (n := _taken(e)) > spaces),
        f"spaces cannot go below what is booked ({spaces} asked)",
        zone,
    )
    added_starts = [start for start in wanted if start not in by_start]
    first = db.allocate_ids(len(added_starts)) if added_starts else 0
    added = [_new_event(chain, first + i, wanted[start]) for i, start in enumerate(added_starts)]
    ops = [_remove_event(e) for e in dropped]
    kept: list[Event] = []
    for start, event in by_start.items():
        if start not in wanted:
            continue
        kept.append(event)
        duration = wanted[start].duration
        group = None if chain.event_group_id is None else chain.event_group_id
        if event.spaces != spaces or event.duration != duration or group != old_group:
            ops.append(_change_event(event, spaces=spaces, duration=duration, group=group))
    ops.extend(_open_event(e) for e in added)

    def write_chain(tx: Transaction) -> None:
        tx.save(chain)  # compare-and-set on the version read
        outbox.add(tx, "event_chain.updated", company_id, str(chain_id), snapshot(chain))

    _commit_edit([_Op(2, write_chain), *ops])
    return chain, sorted([*kept, *added], key=lambda e: e.start_at)


def _change_event(event: Event, *, spaces: int, duration: int, group: int | None) -> _Op:
    resize = event.spaces != spaces
    event.spaces, event.duration, event.event_group_id = spaces, duration, group

    grows = max(spaces - int(event.spaces), 0)

    def write(tx: Transaction) -> None:
        if resize:
            _resize(tx, event, spaces)
        tx.save(event)  # compare-and-set on the version read

    return _Op(1 + (event.shards + _offer_items(grows) if resize else 0), write)


def _resize(tx: Transaction, event: Event, spaces: int) -> None:
    """Resize the event's capacity; added spaces go to its waitlist first, in this transaction."""

    def offer(tx: Transaction, grown: Mapping[str, int]) -> Mapping[str, int]:
        return holds.offer_seats(tx, event.company_id, event.capacity_id, grown)

    capacity.resize(tx, event.capacity_id, event.shards, spaces, offer=offer)


def _offer_items(grows: int) -> int:
    # An offer writes its hold, its entry and its event: three items.
    return 3 * min(grows, waitlist.MAX_OFFERS_PER_CHANGE)


def _commit_edit(ops: Sequence[_Op]) -> None:
    _commit(
        ops,
        lambda _: Conflict(
            "seats or the chain changed while it was edited (a booking arrived?); read it and retry",
            code=ErrorCode.VERSION_CONFLICT,
        ),
    )


def delete_chain(company_id: int, chain_id: int) -> EventChain:
    """Delete a chain and its events; refused (409 naming them) while any has bookings or holds."""
    zone = company_zone(company_id)
    chain = get_chain(company_id, chain_id)
    existing = chain_events(company_id, chain_id)
    _refuse(((e, n) for e in existing if (n := _taken(e)) > 0), "these events have bookings", zone)

    def write_chain(tx: Transaction) -> None:
        tx.delete(chain)  # compare-and-set on the version read
        outbox.add(tx, "event_chain.deleted", company_id, str(chain_id), snapshot(chain))

    _commit_edit([*(_remove_event(e) for e in existing), _Op(2, write_chain)])
    return chain


def update_event(company_id: int, event_id: int, fields: Mapping[str, Any]) -> Event:
    """Move or resize one slot (``date``, ``time``, ``duration``, ``spaces``).

    Moving an event with bookings or holds is refused (its bookers booked that time).
    The chain becomes a custom one listing its events as slots, so a later edit of the
    chain does not move the slot back.
    """
    zone = company_zone(company_id)
    event = get_event(company_id, event_id)
    chain = get_chain(company_id, event.chain_id)
    current = _local_slot(event, zone)
    day = parse_date(fields["date"], "date") if fields.get("date") is not None else date.fromisoformat(current["date"])
    at = parse_time(fields["time"], "time") if fields.get("time") is not None else parse_time(current["time"], "time")
    duration = int(fields.get("duration") or event.duration)
    if not 0 < duration <= 7 * 24 * 60:
        raise ValidationFailed("a slot lasts 1 minute to 7 days", field="duration")
    spaces = int(fields.get("spaces") or event.spaces)
    if spaces < 1:
        raise ValidationFailed("spaces is at least 1", field="spaces")
    start = db.iso(recurrence.localise(day, at, zone).astimezone(UTC))
    taken = _taken(event) if (start != event.start_at or spaces < event.spaces) else 0
    if start != event.start_at and taken:
        _refuse([(event, taken)], "an event with bookings cannot move", zone)
    if taken > spaces:
        _refuse([(event, taken)], f"spaces cannot go below what is booked ({spaces} asked)", zone)
    others = [e for e in chain_events(company_id, chain.chain_id) if e.event_id != event_id]
    if any(e.start_at == start for e in others):
        raise Conflict("another event of this session starts then", field="time", code=ErrorCode.DUPLICATE_SLOT)
    resize = spaces != event.spaces
    grows = max(spaces - event.spaces, 0)
    event.start_at, event.duration, event.spaces = start, duration, spaces
    event.gsi1sk = event.gsi2sk = keys.event_start_sk(start, event_id)
    slots = sorted([_local_slot(e, zone) for e in [*others, event]], key=lambda s: (s["date"], s["time"]))
    chain.repeat, chain.slots = int(Repeat.CUSTOM), slots

    def write(tx: Transaction) -> None:
        if resize:
            _resize(tx, event, spaces)
        tx.save(event)
        tx.save(chain)
        outbox.add(tx, "event.updated", company_id, str(event_id), {"id": event_id, "start": start})

    _commit_edit([_Op(3 + event.shards + _offer_items(grows), write)])
    return event
