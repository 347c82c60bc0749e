"""The webhook sender: events from the webhook queue become signed POSTs, retried for about three days.

An event message fans out to the company's subscribed webhooks: one delivery item
per (webhook, event), created put-if-absent, so an event the queue hands over twice
is still one delivery. Every attempt is claimed with compare-and-set on the
delivery's attempt number (a duplicated message cannot run it twice), signed with
Standard Webhooks headers (the same ``webhook-id`` on every attempt), logged, and
on failure re-queued with a ``not_before``: SQS delays at most 900 s, so a longer
wait is re-delayed hop by hop. Nothing sleeps. After the last attempt the message
goes to the dead-letter queue and the delivery says ``failed``.

The bookkeeping is done per queue batch, not per delivery (:func:`fan_out`): one read of
each company's subscriptions, the new deliveries created together, the POSTs side by side,
the first results written together; docs/architecture.md ("The fan-out") says why each
step keeps the guarantees above.
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
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from chalicelib import observability
from chalicelib.domain import clock
from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import ErrorCode, NotFound, ValidationFailed
from chalicelib.observability import Metric, get_logger
from chalicelib.services.messaging import fanout, webhooks
from chalicelib.store import db
from chalicelib.store.models import Webhook, WebhookDelivery

# A claimed attempt with no result after this was lost with its process: longer than
# deliver_webhooks' timeout (300 s), so no claim goes stale while its process may still send it.
STALE_CLAIM_SECONDS = 330.0
MAX_RESPONSE_BYTES = 65_536
ATTEMPT = "attempt"
BATCH_WORKERS = 32  # a batch's POSTs in flight together (each may take up to 10 s)
CREATE_ITEMS = 100  # new deliveries a transaction (DynamoDB's most): a batch's transactions run together


class RetryLater(Exception):
    """The message must come back (another copy holds the attempt and has not finished it)."""


# --- the handler ---------------------------------------------------------------------------------


def handle_messages(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """An SQS batch through Powertools' BatchProcessor: the batch's bookkeeping is done together
    (:func:`deliver_batch`), then each failed message is reported, and only it comes back."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    db.ensure_bound()
    failures = deliver_batch([(str(record.get("messageId")), str(record.get("body") or "")) for record in records])

    def one(record: SQSRecord) -> None:
        failure = failures.get(record.message_id)
        if failure is not None:
            raise failure

    # An all-failed batch is reported like any other, not raised: the queue retries each message.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response({"Records": records}, one, processor))


def handle(body: str) -> None:
    """One message: a batch of one (its failure raised)."""
    failure = deliver_batch([("message", body)]).get("message")
    if failure is not None:
        raise failure


def deliver_batch(messages: Sequence[tuple[str, str]]) -> dict[str, Exception]:
    """(message id, body) of a batch: events fan out together, attempt messages run side by side.
    Returns the messages that must come back, with why (a malformed message is dropped, not failed)."""
    events: dict[str, dict[str, Any]] = {}
    carriers: dict[str, list[str]] = {}  # event id -> its messages: a duplicate in one batch fans out once
    attempts: list[tuple[str, dict[str, Any]]] = []
    for message_id, body in messages:
        message = _parse(body)
        if message is None:
            continue
        if message.get("kind") == ATTEMPT:
            attempts.append((message_id, message))
        else:
            events.setdefault(str(message["id"]), message)
            carriers.setdefault(str(message["id"]), []).append(message_id)
    failures: dict[str, Exception] = {}
    with ThreadPoolExecutor(max_workers=BATCH_WORKERS) as pool:
        running = [(message_id, pool.submit(_attempt_or_error, message)) for message_id, message in attempts]
        try:
            failed_events = fan_out(list(events.values()), pool)
        except Exception as unexpected:  # fan_out reports its failures; anything else: the events come again
            get_logger().exception("webhook fan-out failed; the batch's events will be retried")
            failed_events = dict.fromkeys(events, unexpected)
        for event_id, error in failed_events.items():
            failures.update({message_id: error for message_id in carriers[event_id]})
        for message_id, future in running:
            if (failed := future.result()) is not None:
                failures[message_id] = failed
    return failures


def _parse(body: str) -> dict[str, Any] | None:
    try:
        message = json.loads(body)
    except ValueError:
        get_logger().error("webhook message is not JSON; dropped")
        return None
    if isinstance(message, dict) and (
        message.get("kind") == ATTEMPT or ("id" in message and "type" in message and _whole(message.get("company_id")))
    ):
        return message
    get_logger().error("webhook message of unknown shape; dropped")
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _attempt_or_error(message: dict[str, Any], webhook: Webhook | None = None) -> Exception | None:
    try:
        run_attempt(message, webhook)
    except Exception as error:
        if not isinstance(error, RetryLater):
            get_logger().exception("webhook message failed; it will be retried")
        return error
    return None


def wants(webhook: Webhook, event_type: str) -> bool:
    return bool(webhook.enabled) and event_type in list(webhook.events)


def signed_body(event: Mapping[str, Any]) -> str:
    """What every attempt of the event's deliveries sends (and signs)."""
    return json.dumps(
        {
            "id": event["id"],
            "type": event["type"],
            "timestamp": event["occurred_at"],
            "company_id": event["company_id"],
            "data": event.get("data") or {},
        },
        separators=(",", ":"),
    )


def fan_out(events: Sequence[dict[str, Any]], pool: ThreadPoolExecutor) -> dict[str, Exception]:
    """Create the events' deliveries and run their first attempts; returns the events that failed.

    The bookkeeping per batch rather than per delivery: one read of each company's
    subscriptions, one check of each target URL, the new deliveries created put-if-absent
    (attempt 1 claimed) in transactions of up to 100 submitted together, each transaction's
    POSTs started as soon as it commits, and the first results written 25 at a time as their
    POSTs finish: DynamoDB's work overlaps the POSTs instead of preceding them.
    """
    failures: dict[str, Exception] = {}

    def fail(event_ids: Iterable[str], error: Exception, what: str) -> None:
        get_logger().error("webhook fan-out failed; the events will be retried", extra={"step": what}, exc_info=error)
        failures.update({event_id: error for event_id in event_ids})

    # The action may have run with trigger_webhook disabled.
    wanted = [e for e in events if e.get("notify") is None or "trigger_webhook" in e["notify"]]
    companies = sorted({int(event["company_id"]) for event in wanted})
    subscriptions: dict[int, list[Webhook]] = {}
    for company, found in zip(companies, pool.map(_subscriptions_or_error, companies), strict=True):
        if isinstance(found, Exception):
            fail((str(e["id"]) for e in wanted if int(e["company_id"]) == company), found, "subscriptions")
        else:
            subscriptions[company] = found
    planned: list[webhooks.NewDelivery] = []
    for event in wanted:
        body = signed_body(event)
        hooks = subscriptions.get(int(event["company_id"]), [])
        planned.extend((webhook, event, body) for webhook in hooks if wants(webhook, event["type"]))
    # Each distinct URL is checked once a batch (DNS, then its addresses), in the pool; every
    # POST to it connects to the address that check pinned.
    urls = sorted({str(webhook.url) for webhook, _event, _body in planned})
    checking = {url: pool.submit(check, url) for url in urls}
    claimed_at = clock.now()
    creating: dict[Future[Any], list[webhooks.NewDelivery]] = {
        pool.submit(webhooks.new_deliveries, planned[start : start + CREATE_ITEMS], claimed_at): planned[
            start : start + CREATE_ITEMS
        ]
        for start in range(0, len(planned), CREATE_ITEMS)
    }
    firsts: dict[Future[Any], dict[str, Any]] = {}
    again: list[tuple[dict[str, Any], Future[Exception | None]]] = []
    ready: list[tuple[dict[str, Any], webhooks.Result]] = []
    recording: list[tuple[list[dict[str, Any]], Future[list[Exception | None]]]] = []

    def record(chunk: list[tuple[dict[str, Any], webhooks.Result]]) -> None:
        results = [result for _event, result in chunk]
        recording.append(([event for event, _result in chunk], pool.submit(_record_firsts, results, claimed_at)))

    def created(chunk: list[webhooks.NewDelivery], done: Future[Any]) -> list[Future[Any]]:
        """A committed transaction's POSTs, submitted (new deliveries have attempt 1 claimed; a
        duplicated event's copy must claim it, and finds it taken)."""
        try:
            fresh_ones: list[WebhookDelivery | None] = done.result()
        except Exception as error:
            fail({str(event["id"]) for _webhook, event, _body in chunk}, error, "creating deliveries")
            return []
        started: list[Future[Any]] = []
        for (webhook, event, _body), fresh in zip(chunk, fresh_ones, strict=True):
            if fresh is None:
                message = attempt_message(webhook, event["id"], 1, None)
                again.append((event, pool.submit(_attempt_or_error, message, webhook)))
            else:
                sending = pool.submit(_first_attempt, webhook, fresh, claimed_at, checking[str(webhook.url)])
                firsts[sending] = event
                started.append(sending)
        return started

    waiting: set[Future[Any]] = set(creating)
    while waiting:
        finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
        for done in finished:
            if done in creating:
                waiting.update(created(creating[done], done))
                continue
            try:
                ready.append((firsts[done], done.result()))
            except Exception as unsent:  # its retry could not be queued: the event comes again
                fail([str(firsts[done]["id"])], unsent, "after its first attempt")
            if len(ready) == webhooks.BATCH_WRITE_ITEMS:
                record(ready)
                ready = []
    if ready:
        record(ready)
    for chunk_events, recorded in recording:
        for event, unrecorded in zip(chunk_events, recorded.result(), strict=True):
            if unrecorded is not None:
                fail([str(event["id"])], unrecorded, "recording first attempts")
    for event, ran in again:
        if (failed := ran.result()) is not None:
            failures[str(event["id"])] = failed
    return failures


def _subscriptions_or_error(company_id: int) -> list[Webhook] | Exception:
    try:
        return webhooks.of_company(company_id)
    except Exception as error:
        return error


def _first_attempt(
    webhook: Webhook, fresh: WebhookDelivery, claimed_at: float, checked: Future[Checked]
) -> webhooks.Result:
    message = attempt_message(webhook, fresh.event_id, 1, None)
    sent = post(webhook, fresh, claimed_at, checked.result())  # submitted before any POST: never waits on one
    entry, status, next_at = conclude(webhook, fresh, message, claimed_at, sent)
    return fresh, entry, status, next_at


def _record_firsts(results: Sequence[webhooks.Result], claimed_at: float) -> list[Exception | None]:
    """Per first result, None or the error of its write."""
    if clock.now() - claimed_at < STALE_CLAIM_SECONDS / 2:
        return webhooks.record_first_results(results)
    # The POSTs took long: a claim may have gone stale and been taken over, so no blind whole-item puts.
    return [_record_or_error(result) for result in results]


def _record_or_error(result: webhooks.Result) -> Exception | None:
    try:
        webhooks.record_attempt(*result)
    except Exception as error:
        return error
    return None


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


def run_attempt(message: dict[str, Any], webhook: Webhook | None = None) -> None:
    """One claimed attempt, sent and recorded. ``webhook``: the subscription the caller just read."""
    now = clock.now()
    not_before = message.get("not_before")
    if not_before is not None and now < float(not_before) - 1:
        _requeue(message, float(not_before))  # longer than one SQS delay: another hop
        return
    attempt = int(message["attempt"])
    webhook_id, event_id = int(message["webhook_id"]), str(message["event_id"])
    delivery = webhooks.load_delivery(webhook_id, event_id)
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
    if not webhooks.claim(delivery, attempt, now, STALE_CLAIM_SECONDS):
        current = webhooks.load_delivery(webhook_id, event_id)
        unfinished = current is not None and current.status == "pending" and int(current.attempts) == attempt
        if unfinished and current is not None and not any(int(e["attempt"]) == attempt for e in current.log):
            raise RetryLater  # its holder may still be sending; look again after the visibility timeout
        return  # a duplicate: that attempt ran
    webhooks.record_attempt(delivery, *conclude(webhook, delivery, message, now, post(webhook, delivery, now)))


def conclude(
    webhook: Webhook,
    delivery: WebhookDelivery,
    message: dict[str, Any],
    now: float,
    sent: tuple[int | None, str | None, int],
) -> tuple[dict[str, Any], str, float | None]:
    """What a sent attempt leads to: (its log entry, the delivery's status, the next attempt's
    time); a failure's next attempt is queued here (or its dead letter sent) before it is recorded."""
    status_code, error, latency_ms = sent
    attempt, event_id = int(message["attempt"]), delivery.event_id
    entry: dict[str, Any] = {
        "attempt": attempt,
        "at": db.iso_epoch(now),
        "status_code": status_code,
        "latency_ms": latency_ms,
        "error": error,
    }
    if status_code is not None and 200 <= status_code < 300:
        return {**entry, "outcome": "delivered"}, "delivered", None
    observability.count(Metric.WEBHOOK_DELIVERY_FAILURES)
    first = int(message.get("first") or 1)
    if attempt - first + 1 >= rules.MAX_ATTEMPTS:
        dead = {**attempt_message(webhook, event_id, 1, None), "dead_lettered_at": db.iso_epoch(now)}
        fanout.transport().webhook_dlq.send(json.dumps(dead))
        get_logger().warning(
            "webhook delivery dead-lettered after its last attempt",
            extra={"webhook_id": int(webhook.webhook_id), "event_id": event_id, "attempts": attempt},
        )
        return {**entry, "outcome": "dead_lettered"}, "failed", None
    next_at = now + rules.retry_delay(attempt - first + 1)
    _requeue(attempt_message(webhook, event_id, attempt + 1, next_at, first), next_at)
    return {**entry, "outcome": "retry_scheduled"}, "pending", next_at


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


@dataclass(frozen=True)
class Checked:
    """A URL checked (its shape, then every address it resolves to): the opener that connects to
    the checked address, or why it is refused. Made once a batch for each distinct URL."""

    opener: urllib.request.OpenerDirector | None
    refused: str | None = None


def check(url: str) -> Checked:
    try:
        target = webhooks.check_target(url)
    except ValidationFailed as refused:
        return Checked(None, f"refused: {refused.message}")
    return Checked(
        urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _Http(target.address), _Https(target.address), _NoRedirects()
        )
    )


def post(
    webhook: Webhook, delivery: WebhookDelivery, at: float, checked: Checked | None = None
) -> tuple[int | None, str | None, int]:
    """(status code, error, latency in ms): the URL is checked after DNS (now, or by the caller in
    ``checked`` for its batch) and the checked address used."""
    started = time.perf_counter()
    checked = checked or check(webhook.url)
    if checked.opener is None:
        return None, checked.refused, 0
    opener = checked.opener
    request = urllib.request.Request(
        webhook.url, data=delivery.body.encode(), headers=headers(webhook, delivery, at), method="POST"
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
