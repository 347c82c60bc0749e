"""Deleting a booking (Timekit ``DELETE /v2/bookings/{id}``).

Only a booking that has come to rest in a terminal state (cancelled, declined,
completed, unpaid, ...) can be deleted: such a booking holds no seats and no time
any more, so removing its record cannot change any capacity. A live booking is a
409 ``booking_active`` naming the actions that would end it (cancel first).

The booking item goes in one transaction, compare-and-set on the version read,
with its ``booking.deleted`` outbox event, any time entry a completed booking still
holds (its past time: released so claim-day items stay small) and its first log
items; log items beyond one transaction go after, by batch (a crash in between
leaves unreachable log items under a key nobody reads, never a booking without a
history).
"""

from __future__ import annotations

from chalicelib.domain.errors import Conflict, ErrorCode, PreconditionFailed
from chalicelib.domain.graphs import GRAPHS
from chalicelib.services.messaging import outbox
from chalicelib.services.selling import bookings, time_claims
from chalicelib.store import keys
from chalicelib.store.models import Booking, BookingLog
from chalicelib.store.transact import Transaction, transact

LOGS_IN_TRANSACTION = 80  # booking + outbox + claim days (a week at most) + these stay under 100


def delete(company_id: int, booking_id: str, *, if_match: int | None = None) -> None:
    booking = bookings.get(company_id, booking_id)
    version = int(booking.version)
    if if_match is not None and if_match != version:
        raise PreconditionFailed(f"the booking is at version {version}, not {if_match}", field="If-Match")
    graph = GRAPHS[booking.graph]
    if booking.state not in graph.terminal_states:
        raise Conflict(
            f"the booking is {booking.state}; end it (cancel, decline, complete) before deleting it",
            code=ErrorCode.BOOKING_ACTIVE,
            extra={"state": booking.state, "possible_actions": graph.possible_actions(booking.state)},
        )
    if graph.name == "group_owner":
        _no_live_seats(booking)
    log_keys = [keys.log_sk(number) for number in range(1, booking.log_count + 1)]
    first, rest = log_keys[:LOGS_IN_TRANSACTION], log_keys[LOGS_IN_TRANSACTION:]
    payload = bookings.snapshot(booking)

    def writes(tx: Transaction) -> None:
        # PynamoDB adds the version condition itself: this is compare-and-set on the read.
        tx.delete(booking, condition=Booking.state == booking.state)
        outbox.add(tx, "booking.deleted", company_id, booking_id, payload)
        time_claims.release_booking(tx, booking)
        for sk in first:
            tx.delete(BookingLog(booking.pk, sk))

    transact(
        writes,
        lambda _: Conflict("the booking changed meanwhile; read it and retry", code=ErrorCode.STATE_CONFLICT),
    )
    if rest:
        with BookingLog.batch_write() as batch:
            for sk in rest:
                batch.delete(BookingLog(booking.pk, sk))


def _no_live_seats(owner: Booking) -> None:
    """A group's record goes only after its seat bookings have ended too (their lineage points at it)."""
    for seat in bookings.seat_bookings(owner):
        if seat.state not in GRAPHS[seat.graph].terminal_states:
            raise Conflict(
                "the group still has live seat bookings; they end with the group's cancel",
                code=ErrorCode.BOOKING_ACTIVE,
                extra={"state": owner.state, "seat_booking_id": seat.booking_id},
            )
