"""The webhook sender: events from the webhook queue become signed POSTs, retried for about three days.

An event message fans out to the company's subscribed webhooks: one delivery item
per (webhook, event), created put-if-absent, so an event the queue hands over twice
is still one delivery. Every attempt is claimed with compare-and-set on the
delivery's attempt number (a duplicated message cannot run it twice), signed with
Standard Webhooks headers (the same ``webhook-id`` on every attempt), logged, and
on failure re-queued with a ``not_before``: SQS delays at most 900 s, so a longer
wait is re-delayed hop by hop. Nothing sleeps. After the last attempt the message
goes to the dead-letter queue and the delivery says ``failed``.
"""

from __future__ import annotations

import functools
import http.client
import json
import math
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import ErrorCode, NotFound, ValidationFailed
from chalicelib.observability import get_logger
from chalicelib.services.messaging import fanout, webhooks
from chalicelib.store import db
from chalicelib.store.models import Webhook, WebhookDelivery

STALE_CLAIM_SECONDS = 120.0  # a claimed attempt with no result after this was lost with its process
MAX_RESPONSE_BYTES = 65_536
ATTEMPT = "attempt"


class RetryLater(Exception):
    """The message must come back (another copy holds the attempt and has not finished it)."""


# --- the handler ---------------------------------------------------------------------------------


def handle_messages(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """An SQS batch: every message handled (in parallel: each POST may take 10 s); failures reported."""
    db.ensure_bound()

    def one(record: Mapping[str, Any]) -> str | None:
        try:
            handle(str(record.get("body") or ""))
        except Exception as error:
            if not isinstance(error, RetryLater):
                get_logger().exception("webhook message failed; it will be retried")
            return str(record.get("messageId"))
        return None

    if len(records) <= 1:
        failed = [one(record) for record in records]
    else:
        with ThreadPoolExecutor(max_workers=min(10, len(records))) as pool:
            failed = list(pool.map(one, records))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed if message_id]}


def handle(body: str) -> None:
    try:
        message = json.loads(body)
    except ValueError:
        get_logger().error("webhook message is not JSON; dropped")
        return
    if message.get("kind") == ATTEMPT:
        run_attempt(message)
    elif "id" in message and "type" in message:
        fan_out(message)
    else:
        get_logger().error("webhook message of unknown shape; dropped")


def wants(webhook: Webhook, event_type: str) -> bool:
    return bool(webhook.enabled) and event_type in list(webhook.events)


def fan_out(event: dict[str, Any]) -> int:
    """Create this event's deliveries and run their first attempts; returns how many were new."""
    notify = event.get("notify")
    if notify is not None and "trigger_webhook" not in notify:
        return 0  # the action ran with trigger_webhook disabled
    body = json.dumps(
        {
            "id": event["id"],
            "type": event["type"],
            "timestamp": event["occurred_at"],
            "company_id": event["company_id"],
            "data": event.get("data") or {},
        },
        separators=(",", ":"),
    )
    created = 0
    for webhook in webhooks.of_company(int(event["company_id"])):
        if not wants(webhook, event["type"]):
            continue
        # Created with attempt 1 claimed; a duplicate's copy must claim it (and finds it taken).
        fresh = webhooks.new_delivery(webhook, event, body, claimed_at=clock.now())
        created += fresh is not None
        run_attempt(attempt_message(webhook, event["id"], 1, None), webhook=webhook, created=fresh)
    return created


def attempt_message(
    webhook: Webhook, event_id: str, attempt: int, not_before: float | None, first: int = 1
) -> dict[str, Any]:
    """``first``: the attempt that began this series (a replay begins a fresh schedule)."""
    return {
        "kind": ATTEMPT,
        "company_id": int(webhook.company_id),
        "webhook_id": int(webhook.webhook_id),
        "event_id": event_id,
        "attempt": attempt,
        "not_before": not_before,
        "first": first,
    }


def _requeue(message: dict[str, Any], not_before: float) -> None:
    delay = math.ceil(max(0.0, not_before - clock.now()))
    fanout.transport().webhooks.send(json.dumps(message), min(rules.SQS_MAX_DELAY_SECONDS, delay))


def run_attempt(
    message: dict[str, Any], *, webhook: Webhook | None = None, created: WebhookDelivery | None = None
) -> None:
    """One attempt. ``created``: the delivery this process just created with attempt 1 claimed;
    ``webhook``: the subscription the caller just read."""
    now = clock.now()
    not_before = message.get("not_before")
    if not_before is not None and now < float(not_before) - 1:
        _requeue(message, float(not_before))  # longer than one SQS delay: another hop
        return
    attempt = int(message["attempt"])
    webhook_id, event_id = int(message["webhook_id"]), str(message["event_id"])
    delivery = created or webhooks.load_delivery(webhook_id, event_id)
    if delivery is None or delivery.status != "pending":
        return  # expired, or already delivered / given up
    if webhook is None:
        try:
            webhook = webhooks.get(int(message["company_id"]), webhook_id)
        except NotFound:
            _close(delivery, attempt, "webhook deleted")
            return
    if not webhook.enabled:
        _close(delivery, attempt, "webhook disabled")
        return
    if created is None and not webhooks.claim(delivery, attempt, now, STALE_CLAIM_SECONDS):
        current = webhooks.load_delivery(webhook_id, event_id)
        unfinished = current is not None and current.status == "pending" and int(current.attempts) == attempt
        if unfinished and current is not None and not any(int(e["attempt"]) == attempt for e in current.log):
            raise RetryLater  # its holder may still be sending; look again after the visibility timeout
        return  # a duplicate: that attempt ran
    status_code, error, latency_ms = post(webhook, delivery, now)
    entry: dict[str, Any] = {
        "attempt": attempt,
        "at": db.iso_epoch(now),
        "status_code": status_code,
        "latency_ms": latency_ms,
        "error": error,
    }
    if status_code is not None and 200 <= status_code < 300:
        webhooks.record_attempt(delivery, {**entry, "outcome": "delivered"}, "delivered", None)
        return
    first = int(message.get("first") or 1)
    if attempt - first + 1 >= rules.MAX_ATTEMPTS:
        dead = {**attempt_message(webhook, event_id, 1, None), "dead_lettered_at": db.iso_epoch(now)}
        fanout.transport().webhook_dlq.send(json.dumps(dead))
        webhooks.record_attempt(delivery, {**entry, "outcome": "dead_lettered"}, "failed", None)
        get_logger().warning(
            "webhook delivery dead-lettered after its last attempt",
            extra={"webhook_id": webhook_id, "event_id": event_id, "attempts": attempt},
        )
        return
    next_at = now + rules.retry_delay(attempt - first + 1)
    _requeue(attempt_message(webhook, event_id, attempt + 1, next_at, first), next_at)
    webhooks.record_attempt(delivery, {**entry, "outcome": "retry_scheduled"}, "pending", next_at)


def _close(delivery: WebhookDelivery, attempt: int, reason: str) -> None:
    entry = {"attempt": attempt, "at": db.iso_epoch(clock.now()), "error": reason, "outcome": "abandoned"}
    webhooks.record_attempt(delivery, entry, "failed", None)


def replay(company_id: int, webhook_id: int, delivery_id: str) -> WebhookDelivery:
    """Send a finished delivery again now (same body, same webhook-id), on a fresh retry schedule."""
    from chalicelib.domain.errors import Conflict

    delivery = webhooks.get_delivery(company_id, webhook_id, delivery_id)
    if delivery.status == "pending":
        raise Conflict("the delivery is still being attempted", code=ErrorCode.DELIVERY_PENDING, field="delivery_id")
    webhook = webhooks.get(company_id, webhook_id)
    attempt = webhooks.reopen(delivery)
    message = attempt_message(webhook, delivery.event_id, attempt, None, first=attempt)
    fanout.transport().webhooks.send(json.dumps(message))
    return delivery


# --- one POST --------------------------------------------------------------------------------------


def headers(webhook: Webhook, delivery: WebhookDelivery, at: float) -> dict[str, str]:
    timestamp = int(at)
    secrets = webhooks.signing_secrets(webhook, at)
    return {
        "Content-Type": "application/json",
        "User-Agent": "booking-engine-webhooks/1",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": rules.signature_header(secrets, delivery.event_id, timestamp, delivery.body.encode()),
    }


def post(webhook: Webhook, delivery: WebhookDelivery, at: float) -> tuple[int | None, str | None, int]:
    """(status code, error, latency in ms): the URL is checked again after DNS and the checked address used."""
    started = time.perf_counter()
    try:
        target = webhooks.check_target(webhook.url)
    except ValidationFailed as refused:
        return None, f"refused: {refused.message}", 0
    request = urllib.request.Request(
        webhook.url, data=delivery.body.encode(), headers=headers(webhook, delivery, at), method="POST"
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _Http(target.address), _Https(target.address), _NoRedirects()
    )
    status: int | None = None
    error: str | None = None
    try:
        with opener.open(request, timeout=rules.TIMEOUT_SECONDS) as response:
            response.read(MAX_RESPONSE_BYTES)
            status = int(response.status)
    except urllib.error.HTTPError as failed:
        status = int(failed.code)
        failed.close()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as failed:
        reason = getattr(failed, "reason", failed)
        error = (
            "timeout" if isinstance(reason, (TimeoutError, socket.timeout)) else f"{type(reason).__name__}: {reason}"
        )
    return status, error, round((time.perf_counter() - started) * 1000)


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, *, address: str, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(self, host: str, *, address: str, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are for the URL's host name, the connection to the address we checked.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _Http(urllib.request.HTTPHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self._address = address

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_PinnedHttp, address=self._address), req)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # loading the CA bundle costs tens of ms: once per process


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, address: str) -> None:
        self._tls = _tls_context()
        super().__init__(context=self._tls)
        self._address = address

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_PinnedHttps, address=self._address), req, context=self._tls)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx, a failed attempt), never followed: it could point inside the network."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
