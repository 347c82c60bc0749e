"""Customer action links (Timekit's ``external_action``): one signed link, one action, once.

The link's signature is checked by :mod:`chalicelib.services.identity.customer_links`; here
the action runs as the customer (the windows bind it) with the link's used-marker written
put-if-absent in the action's own transaction: a second use, even a concurrent one, changes
nothing.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.errors import Conflict, ErrorCode
from chalicelib.domain.windows import Actor
from chalicelib.services.identity.customer_links import ActionLink
from chalicelib.services.selling import bookings
from chalicelib.store import db, keys
from chalicelib.store.errors import ItemNotFound
from chalicelib.store.models import Booking, UsedLink
from chalicelib.store.transact import Transaction


def is_spent(link: ActionLink) -> bool:
    """Whether the link's action has run (its used-marker exists)."""
    try:
        UsedLink.get(keys.used_link_pk(link.link_id), keys.USED_LINK_SK, consistent_read=True)
    except ItemNotFound:
        return False
    return True


def _refuse_used() -> Conflict:
    return Conflict("this link has already been used", field="signature", code=ErrorCode.LINK_USED)


def marker(link: ActionLink, now: datetime) -> UsedLink:
    """The item that spends ``link``; kept (TTL) while the link could still be presented."""
    item = UsedLink(
        keys.used_link_pk(link.link_id),
        keys.USED_LINK_SK,
        company_id=link.company_id,
        booking_id=link.booking_id,
        action=link.action,
        used_at=db.iso(now),
    )
    item.ttl = link.expires_at
    return item


def perform(link: ActionLink, now: datetime) -> Booking:
    """Run the link's action once, as the customer."""
    db.ensure_bound()
    if is_spent(link):
        raise _refuse_used()
    spent = marker(link, now)

    def mark_used(tx: Transaction) -> None:
        tx.save(spent, condition=UsedLink.pk.does_not_exist())

    try:
        return bookings.act(link.company_id, link.booking_id, link.action, {}, actor=Actor.CUSTOMER, also=mark_used)
    except Conflict as refused:
        if refused.code == "state_conflict" and is_spent(link):
            raise _refuse_used() from None  # a concurrent use of the same link won
        raise
