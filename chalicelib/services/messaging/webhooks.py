"""Webhook subscriptions of a company, their secrets, and their delivery log.

Subscriptions live in the company's partition (``CO#<id>`` / ``WEBHOOK#<id>``), so
another company's id is simply not found. URLs are checked when subscribed (and
again at every delivery, after DNS): https and public addresses outside the local stage.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import Conflict, ErrorCode, NotFound, ValidationFailed
from chalicelib.services.messaging.fanout_wiring import EVENT_TYPES
from chalicelib.settings import get_settings
from chalicelib.store import db, keys, pages, transact
from chalicelib.store.errors import ItemNotFound, refused
from chalicelib.store.expressions import UpdateAction
from chalicelib.store.models import Webhook, WebhookDelivery

DEFAULT_GRACE_SECONDS = 86_400
LOG_LIMIT = 50  # attempts kept per delivery (13 scheduled, plus replays)
DELIVERY_TTL_SECONDS = 30 * 86_400
BATCH_WRITE_ITEMS = 25  # DynamoDB's limits: items in one BatchWriteItem
TRANSACTION_ITEMS = 100  # and in one TransactWriteItems

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the check refuses the URL if any is not allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver: Resolver = resolve


def set_resolver(resolver: Resolver | None) -> None:
    """Tests resolve names without DNS."""
    global _resolver
    _resolver = resolver or resolve


def is_local_stage() -> bool:
    return get_settings().stage == "local"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    address: str  # the checked address to connect to (never resolved again: no DNS rebinding)


def check_url(url: str) -> None:
    """At subscription: the URL's shape, and outside the local stage its addresses (after DNS).
    The local stage allows any address, so it does not resolve until delivery."""
    if is_local_stage():
        rules.check_url_shape(url, local=True)
    else:
        check_target(url)


def check_target(url: str) -> Target:
    """Refuse a URL the stage does not allow (ValidationFailed, field ``url``)."""
    local = is_local_stage()
    scheme, host, port = rules.check_url_shape(url, local=local)
    address = rules.check_addresses(_resolver(host, port), local=local)
    return Target(scheme, host, port, address)


def _check_events(events: Sequence[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}", field="events")
    return list(dict.fromkeys(events))


def create(company_id: int, url: str, events: Sequence[str], enabled: bool) -> Webhook:
    db.ensure_bound()
    check_url(url)
    webhook_id = db.allocate_ids()
    now = db.iso(clock.utcnow())
    webhook = Webhook(
        keys.company_pk(company_id),
        keys.webhook_sk(webhook_id),
        company_id=company_id,
        webhook_id=webhook_id,
        url=url,
        events=_check_events(events),
        enabled=enabled,
        secret=rules.new_secret(),
        created_at=now,
        updated_at=now,
    )
    webhook.save(condition=Webhook.pk.does_not_exist())
    return webhook


def get(company_id: int, webhook_id: int) -> Webhook:
    db.ensure_bound()
    try:
        return Webhook.get(keys.company_pk(company_id), keys.webhook_sk(webhook_id), consistent_read=True)
    except ItemNotFound:
        raise NotFound("webhook not found", field="webhook_id") from None


def of_company(company_id: int) -> list[Webhook]:
    db.ensure_bound()
    items = Webhook.query(keys.company_pk(company_id), Webhook.sk.startswith(keys.WEBHOOK_PREFIX))
    return [item for item in items if isinstance(item, Webhook)]


def update(
    company_id: int, webhook_id: int, *, url: str | None, events: Sequence[str] | None, enabled: bool | None
) -> Webhook:
    webhook = get(company_id, webhook_id)
    if url is not None:
        check_url(url)
        webhook.url = url
    if events is not None:
        webhook.events = _check_events(events)
    if enabled is not None:
        webhook.enabled = enabled
    webhook.updated_at = db.iso(clock.utcnow())
    _save_versioned(webhook)
    return webhook


def delete(company_id: int, webhook_id: int) -> None:
    webhook = get(company_id, webhook_id)
    webhook.delete()  # its deliveries expire by TTL; pending retries find no webhook and stop


def rotate_secret(company_id: int, webhook_id: int, grace_seconds: int) -> Webhook:
    """A new secret; the old one keeps signing (a second signature) for ``grace_seconds``."""
    webhook = get(company_id, webhook_id)
    if grace_seconds > 0:
        webhook.old_secret = webhook.secret
        webhook.old_secret_expires_at = int(clock.now()) + grace_seconds
    else:
        webhook.old_secret = None
        webhook.old_secret_expires_at = None
    webhook.secret = rules.new_secret()
    webhook.updated_at = db.iso(clock.utcnow())
    _save_versioned(webhook)
    return webhook


def signing_secrets(webhook: Webhook, at: float) -> list[str]:
    live = [webhook.secret]
    if webhook.old_secret and webhook.old_secret_expires_at and at < float(webhook.old_secret_expires_at):
        live.append(webhook.old_secret)
    return live


def _save_versioned(webhook: Webhook) -> None:
    if refused(webhook.save):  # the version attribute makes this compare-and-set
        raise Conflict("the webhook changed meanwhile; read it again", code=ErrorCode.VERSION_CONFLICT)


def view(webhook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": webhook.webhook_id,
        "url": webhook.url,
        "events": list(webhook.events),
        "enabled": bool(webhook.enabled),
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
    }
    if webhook.old_secret_expires_at and webhook.old_secret and clock.now() < float(webhook.old_secret_expires_at):
        data["old_secret_expires_at"] = db.iso_epoch(float(webhook.old_secret_expires_at))
    if with_secret:
        data["secret"] = webhook.secret
    return data


# --- deliveries ------------------------------------------------------------------------------------


def deliveries(company_id: int, webhook_id: int, limit: int) -> list[WebhookDelivery]:
    """The newest ``limit`` deliveries: one Query per delivery partition (each one page of at
    most ``limit``, read side by side by ``pages.merge_partitions``), merged newest first."""
    get(company_id, webhook_id)  # 404 unless it is the caller's
    streams = [
        WebhookDelivery.listing.query(partition, scan_index_forward=False, limit=limit, page_size=limit)
        for partition in keys.webhook_delivery_partitions(webhook_id)
    ]
    merged = pages.merge_partitions(streams, "gsi1sk", newest_first=True)
    return [item for item in itertools.islice(merged, limit) if isinstance(item, WebhookDelivery)]


def get_delivery(company_id: int, webhook_id: int, delivery_id: str) -> WebhookDelivery:
    get(company_id, webhook_id)
    delivery = load_delivery(webhook_id, delivery_id)
    if delivery is None or int(delivery.company_id) != company_id:
        raise NotFound("delivery not found", field="delivery_id")
    return delivery


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.event_id,
        "webhook_id": delivery.webhook_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": [{key: value for key, value in dict(entry).items() if value is not None} for entry in delivery.log],
        "next_attempt_at": db.iso_epoch(float(delivery.next_attempt_at)) if delivery.next_attempt_at else None,
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
    }


def _delivery_item(webhook: Webhook, event: dict[str, Any], body: str, claimed_at: float | None) -> WebhookDelivery:
    now = db.iso(clock.utcnow())
    partition = keys.delivery_partition(event["id"])  # the table's and the listing's alike
    return WebhookDelivery(
        keys.webhook_pk(webhook.webhook_id, partition),
        keys.delivery_sk(event["id"]),
        webhook_id=webhook.webhook_id,
        company_id=webhook.company_id,
        event_id=event["id"],
        event_type=event["type"],
        body=body,
        status="pending",
        attempts=0 if claimed_at is None else 1,
        claimed_at=None if claimed_at is None else int(claimed_at),
        created_at=now,
        updated_at=now,
        gsi1pk=keys.webhook_deliveries(webhook.webhook_id, partition),
        gsi1sk=f"{event['occurred_at']}#{event['id']}",
        ttl=int(clock.now()) + DELIVERY_TTL_SECONDS,
    )


def new_delivery(
    webhook: Webhook, event: dict[str, Any], body: str, claimed_at: float | None = None
) -> WebhookDelivery | None:
    """Create the (webhook, event) delivery unless it exists: None for a duplicated event.

    With ``claimed_at`` the new delivery is created with its first attempt already claimed
    (one write instead of two on the common path)."""
    delivery = _delivery_item(webhook, event, body, claimed_at)
    if refused(lambda: delivery.save(condition=WebhookDelivery.pk.does_not_exist())):
        return None
    return delivery


NewDelivery = tuple[Webhook, dict[str, Any], str]  # (webhook, event, body)


def new_deliveries(
    planned: Sequence[NewDelivery], claimed_at: float, *, if_absent: bool = True
) -> list[WebhookDelivery | None]:
    """:func:`new_delivery` for a batch's (webhook, event) pairs, each with attempt 1 claimed: None
    where the delivery exists already (a duplicated event), in the order given.

    Up to 100 puts-if-absent in one TransactWriteItems instead of one round trip each. The
    transaction is only the carrier (each put stands alone): when some already exist it is
    refused as a whole, naming them, and the others are written again without them. Pairs
    must be distinct (one transaction cannot write an item twice). ``if_absent=False`` drops
    the condition: only the race tests' control run, which must then send twice.
    """
    items = [_delivery_item(webhook, event, body, claimed_at) for webhook, event, body in planned]
    created: list[WebhookDelivery | None] = []
    for start in range(0, len(items), TRANSACTION_ITEMS):
        created.extend(_put_if_absent(items[start : start + TRANSACTION_ITEMS], if_absent))
    return created


def _put_if_absent(items: list[WebhookDelivery], if_absent: bool) -> list[WebhookDelivery | None]:
    pending = list(range(len(items)))
    while pending:
        refusals: list[transact.Refusal] = []

        def build(tx: transact.Transaction, writing: list[int] = pending) -> None:
            for n in writing:
                tx.save(items[n], condition=WebhookDelivery.pk.does_not_exist() if if_absent else None)

        if transact.transact(build, on_condition_failed=refusals.append):
            break
        existing = {pending[position] for position in refusals[0].positions}
        if not existing:  # refused without naming an item: not expected, and must not loop
            raise refusals[0].error
        pending = [n for n in pending if n not in existing]
    written = set(pending)
    return [item if n in written else None for n, item in enumerate(items)]


def load_delivery(webhook_id: int, event_id: str) -> WebhookDelivery | None:
    """The (webhook, event) delivery, one consistent GetItem at the key its event id spreads to.

    Until devtools/migrate_spread_keys.py has run, a delivery written before the spread keys is
    still under ``WEBHOOK#<id>``: looked for there only when the first read finds nothing."""
    db.ensure_bound()
    partition = keys.delivery_partition(event_id)
    places = [keys.webhook_pk(webhook_id, partition)] + ([keys.webhook_pk(webhook_id)] if partition else [])
    for pk in places:
        try:
            return WebhookDelivery.get(pk, keys.delivery_sk(event_id), consistent_read=True)
        except ItemNotFound:
            continue
    return None


def claim(delivery: WebhookDelivery, attempt: int, at: float, stale_after: float) -> bool:
    """Take attempt number ``attempt`` (compare-and-set): False when another copy of the message has it."""
    condition = (WebhookDelivery.attempts == attempt - 1) | (
        (WebhookDelivery.attempts == attempt) & (WebhookDelivery.claimed_at < at - stale_after)
    )
    actions: list[UpdateAction] = [WebhookDelivery.attempts.set(attempt), WebhookDelivery.claimed_at.set(int(at))]
    return not refused(
        lambda: delivery.update(actions=actions, condition=condition & (WebhookDelivery.status == "pending"))
    )


def _logged(delivery: WebhookDelivery, entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [*delivery.log, entry][-LOG_LIMIT:]


def record_attempt(delivery: WebhookDelivery, entry: dict[str, Any], status: str, next_at: float | None) -> None:
    """The attempt's result, in one write: appended to the log (the log trimmed to its last
    ``LOG_LIMIT`` in the same write, from the claimed copy read just before, when it is full)."""
    full = len(delivery.log) + 1 > LOG_LIMIT
    actions: list[UpdateAction] = [
        WebhookDelivery.log.set(_logged(delivery, entry) if full else WebhookDelivery.log.append([entry])),
        WebhookDelivery.status.set(status),
        WebhookDelivery.updated_at.set(db.iso(clock.utcnow())),
    ]
    actions.append(
        WebhookDelivery.next_attempt_at.set(int(next_at))
        if next_at is not None
        else WebhookDelivery.next_attempt_at.remove()
    )
    delivery.update(actions=actions)


Result = tuple[WebhookDelivery, dict[str, Any], str, float | None]  # (delivery, log entry, status, next attempt)


def record_first_results(results: Sequence[Result]) -> list[Exception | None]:
    """The first attempts' results of deliveries this process has just created (attempt 1 claimed,
    the claim still fresh), 25 to a BatchWriteItem: per result None, or the error of its write.

    Whole items are put, unconditionally: no other copy may touch a delivery while its claim
    is fresh, and this process holds the only other state it has (the new item itself). The
    caller falls back to :func:`record_attempt` once a claim could have gone stale.
    """
    errors: list[Exception | None] = [None] * len(results)
    for start in range(0, len(results), BATCH_WRITE_ITEMS):
        chunk = range(start, min(start + BATCH_WRITE_ITEMS, len(results)))
        try:
            with WebhookDelivery.batch_write() as batch:
                for n in chunk:
                    delivery, entry, status, next_at = results[n]
                    delivery.log = _logged(delivery, entry)
                    delivery.status = status
                    delivery.updated_at = db.iso(clock.utcnow())
                    delivery.next_attempt_at = None if next_at is None else int(next_at)
                    batch.save(delivery)
        except Exception as error:  # this chunk's results are unknown: their messages come again
            for n in chunk:
                errors[n] = error
    return errors


def reopen(delivery: WebhookDelivery) -> int:
    """A replay: the delivery is pending again; returns the attempt number to run next."""
    attempt = delivery.attempts + 1
    delivery.update(
        actions=[
            WebhookDelivery.status.set("pending"),
            WebhookDelivery.updated_at.set(db.iso(clock.utcnow())),
        ]
    )
    return attempt
