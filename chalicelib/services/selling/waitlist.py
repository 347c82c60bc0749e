"""Waitlists: customers queued for a full capacity (an event, a service slot, a v2 group).

One partition per capacity (``WAIT#<capacity>``), entries in join order by their sort
key (the join time leads the entry id), so the queue is FIFO with no key shared by a
company or the deployment. An entry is ``waiting`` until seats free: the transaction
that frees them (``holds.give_back``) reads the head, places an offer hold for it and
moves it to ``offered`` by compare-and-set here. The offer ends ``booked`` (the hold
was converted) or ``lapsed`` (the hold expired, and the seats went to the next in the
same transaction); a customer may ``leave`` while waiting or offered.

This module knows the queue, not holds: what ends an offer's hold is passed in
(``release_offer``), as the seat ledger is passed ``reclaim``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound
from chalicelib.services.messaging import outbox
from chalicelib.services.selling import capacity
from chalicelib.store import db, keys
from chalicelib.store.models import Hold, WaitlistEntry, plain_map
from chalicelib.store.transact import Transaction, reread_on_refusal, transact

RETENTION_SECONDS = 7 * 86_400  # an entry out of the queue is kept a week, then TTL
MAX_OFFERS_PER_CHANGE = 10  # 3 items per offer; the rest of a big release is simply freed


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LAPSED = "lapsed"
    LEFT = "left"


class Promotion(StrEnum):
    """When freed seats reach the queue.

    Always inside the transaction that frees them, except in the race test's control
    run (:attr:`AFTERWARDS`: released first, offered by a later transaction), which must
    let outside bookers take offered seats to show the test can see that race.
    """

    IN_TRANSACTION = "in_transaction"
    AFTERWARDS = "afterwards"


@dataclass(frozen=True)
class Queue:
    """A capacity's waitlist and what it belongs to."""

    company_id: int
    capacity_id: str
    shards: int
    owner_booking_id: str | None = None  # a v2 group
    event_id: int | None = None  # a BookingBug event
    event_info: Mapping[str, Any] | None = None  # what and when (start, end, what), for emails


def _entry_id() -> str:
    # Join time in microseconds, fixed width, first: key order is join order.
    return f"{int(clock.now() * 1_000_000):017d}-{uuid.uuid4().hex[:12]}"


def _entries(capacity_id: str) -> Iterator[WaitlistEntry]:
    db.ensure_bound()
    for item in WaitlistEntry.query(
        keys.waitlist_pk(capacity_id),
        WaitlistEntry.sk.startswith(keys.WAITLIST_ENTRY_PREFIX),
        consistent_read=True,
    ):
        if isinstance(item, WaitlistEntry):
            yield item


def snapshot(entry: WaitlistEntry) -> dict[str, Any]:
    customer = plain_map(entry.customer)
    data: dict[str, Any] = {
        "id": entry.entry_id,
        "status": str(entry.status),
        "state": str(entry.status),  # what the emails read
        "seats": int(entry.seats),
        "customer": customer,
        "customers": [customer],
        "event_info": plain_map(entry.event_info),
        "joined_at": entry.joined_at,
        "owner_booking_id": entry.owner_booking_id,
        "event_id": int(entry.event_id) if entry.event_id is not None else None,
    }
    if entry.hold_id:
        data["offer"] = {"reservation_id": entry.hold_id, "offered_at": entry.offered_at}
    return data


def _customer_email(customer: Any) -> str:
    return str(plain_map(customer).get("email") or "").strip().lower()


def join(queue: Queue, customer: Mapping[str, Any], seats: int, offer_seconds: int) -> WaitlistEntry:
    """Queue a customer for ``seats``: only when they are not free (409 ``spaces_left``),
    once per customer email while waiting or offered (409 ``already_waiting``)."""
    free = capacity.read(queue.capacity_id, queue.shards)
    if not free.open:
        raise Conflict("the group takes no more seats", code=ErrorCode.GROUP_CLOSED)
    if free.available >= seats:
        raise Conflict(f"{free.available} seats are free: book them instead", code=ErrorCode.SPACES_LEFT, field="seats")
    email = _customer_email(customer)
    if email and queued(queue.capacity_id, email) is not None:
        raise Conflict("this customer is already on the waitlist", code=ErrorCode.ALREADY_WAITING, field="customer")
    entry_id = _entry_id()
    entry = WaitlistEntry(
        keys.waitlist_pk(queue.capacity_id),
        keys.waitlist_sk(entry_id),
        entry_id=entry_id,
        company_id=queue.company_id,
        capacity_id=queue.capacity_id,
        owner_booking_id=queue.owner_booking_id,
        event_id=queue.event_id,
        customer=dict(customer),
        event_info=dict(queue.event_info or {}),
        seats=seats,
        status=EntryStatus.WAITING.value,
        offer_seconds=offer_seconds,
        joined_at=db.iso(clock.utcnow()),
    )

    def build(tx: Transaction) -> None:
        tx.save(entry, condition=WaitlistEntry.pk.does_not_exist())
        outbox.add(tx, "waitlist.joined", queue.company_id, entry_id, snapshot(entry))

    transact(build)
    return entry


def get(company_id: int, capacity_id: str, entry_id: str) -> WaitlistEntry:
    entry = db.company_item(WaitlistEntry, keys.waitlist_pk(capacity_id), keys.waitlist_sk(entry_id), company_id)
    if entry is None:
        raise NotFound("waitlist entry not found", field="entry_id")
    return entry


def _out_of_queue(status: EntryStatus) -> list[Any]:
    return [WaitlistEntry.status.set(status), WaitlistEntry.ttl.set(int(clock.now()) + RETENTION_SECONDS)]


def leave(entry: WaitlistEntry, *, release_offer: Callable[[Transaction, str], None]) -> WaitlistEntry:
    """Out of the queue, compare-and-set on the status read; an offer's hold ends in the same
    transaction (``release_offer(tx, hold_id)``, which passes its seats to the next in line)."""
    if entry.status not in (EntryStatus.WAITING, EntryStatus.OFFERED):
        raise Conflict(f"the entry is {entry.status}", code=ErrorCode.WAITLIST_LEFT, field="entry_id")
    was = entry.status

    def build(tx: Transaction) -> None:
        tx.update(entry, actions=_out_of_queue(EntryStatus.LEFT), condition=WaitlistEntry.status == was)
        if was == EntryStatus.OFFERED and entry.hold_id:
            release_offer(tx, entry.hold_id)
        outbox.add(tx, "waitlist.left", int(entry.company_id), entry.entry_id, snapshot(entry) | {"status": "left"})

    transact(
        build,
        lambda _: Conflict("the entry changed meanwhile", code=ErrorCode.WAITLIST_LEFT, field="entry_id"),
    )
    entry.status = EntryStatus.LEFT
    return entry


def head(capacity_id: str, seats: int) -> list[WaitlistEntry]:
    """The waiting entries, first first, that ``seats`` freed seats serve: strictly in order,
    so an entry wanting more than is left stops the offers (the rest is freed)."""
    served: list[WaitlistEntry] = []
    left = seats
    for entry in _entries(capacity_id):
        if entry.status != EntryStatus.WAITING:
            continue
        if int(entry.seats) > left or len(served) == MAX_OFFERS_PER_CHANGE:
            break
        served.append(entry)
        left -= int(entry.seats)
        if left == 0:
            break
    return served


def live_entries(capacity_id: str) -> list[WaitlistEntry]:
    """Waiting and offered entries, in join order."""
    return [e for e in _entries(capacity_id) if e.status in (EntryStatus.WAITING, EntryStatus.OFFERED)]


def length(capacity_id: str) -> int:
    """How many are waiting (offered entries are out of the count: they hold their seats)."""
    db.ensure_bound()
    return int(
        WaitlistEntry.count(
            keys.waitlist_pk(capacity_id),
            WaitlistEntry.sk.startswith(keys.WAITLIST_ENTRY_PREFIX),
            filter_condition=WaitlistEntry.status == EntryStatus.WAITING,
            consistent_read=True,
        )
    )


def queued(capacity_id: str, email: str) -> WaitlistEntry | None:
    """The customer's live entry (waiting or offered), if any: BookingBug's ``on_waitlist``."""
    wanted = _customer_email({"email": email})
    return next((e for e in live_entries(capacity_id) if _customer_email(e.customer) == wanted), None)


def offer(tx: Transaction, entry: WaitlistEntry, hold: Hold) -> None:
    """Inside the freeing transaction: the entry is offered ``hold``, compare-and-set on it still
    waiting. Two freeing transactions may read the same head; the loser re-reads (its refusal
    is marked stale), so no entry gets two offers and none is skipped."""
    tx.update(
        entry,
        actions=[
            WaitlistEntry.status.set(EntryStatus.OFFERED),
            WaitlistEntry.hold_id.set(hold.hold_id),
            WaitlistEntry.offered_at.set(db.iso(clock.utcnow())),
        ],
        condition=WaitlistEntry.status == EntryStatus.WAITING,
        return_values="ALL_OLD",
    )
    reread_on_refusal(tx, (str(entry.pk), str(entry.sk)))
    payload = snapshot(entry) | {
        "status": EntryStatus.OFFERED.value,
        "offer": {
            "reservation_id": hold.hold_id,
            "seats": int(hold.seats),
            "expires_at": db.iso_epoch(hold.expires_at),
        },
    }
    outbox.add(tx, "waitlist.offered", int(entry.company_id), entry.entry_id, payload, notify=OFFER_NOTIFY)


OFFER_NOTIFY = ("notify_customer_by_email", "trigger_webhook")


def settle(tx: Transaction, hold: Hold, status: EntryStatus) -> None:
    """Inside the transaction that ends an offer's hold: its entry is ``booked`` or ``lapsed``
    (while the hold is live its entry is offered it, so the condition only guards that)."""
    entry_id = offer_entry_id(hold)
    if entry_id is None:
        raise ValueError("the hold is not a waitlist offer")
    entry = WaitlistEntry(keys.waitlist_pk(hold.capacity_id), keys.waitlist_sk(entry_id))
    tx.update(
        entry,
        actions=_out_of_queue(status),
        condition=(WaitlistEntry.status == EntryStatus.OFFERED) & (WaitlistEntry.hold_id == hold.hold_id),
    )
    outbox.add(
        tx,
        f"waitlist.{status.value}",
        int(hold.company_id),
        entry_id,
        {"id": entry_id, "status": status.value, "offer": {"reservation_id": hold.hold_id}},
    )


def offer_entry_id(hold: Hold) -> str | None:
    """The waitlist entry a hold was offered to, if it is an offer."""
    found = plain_map(hold.details).get("waitlist_entry_id")
    return str(found) if found else None
