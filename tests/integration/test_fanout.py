"""The fan-out end to end on DynamoDB Local: API -> outbox -> stream -> publisher -> queue ->
signed webhook at a real HTTP server (verified with the independent ``standardwebhooks``
package), retries through the queue's delays (travelled through, not waited), the
dead-letter queue, replays, emails as .eml files, and a failing publish; and the local
dispatcher losing nothing across its restarts (events written before it started or while it
was stopped, pending retries, a message being handled when it died)."""

from __future__ import annotations

import email
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from chalicelib.domain import clock as system_clock
from chalicelib.domain import webhooks as rules
from chalicelib.services.messaging import fanout
from chalicelib.settings import reset_settings
from devtools.dispatcher import Dispatcher
from tests.conftest import Api, Tenant, make_tenant
from tests.receivers import Received, receiver

pytestmark = pytest.mark.integration

EVENT = {"start": "2031-03-01T10:00:00+00:00", "end": "2031-03-01T11:00:00+00:00", "what": "Massage"}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}


class Clock:
    """Time for the fan-out (queue delays, retry schedule); the test moves it forward."""

    def __init__(self) -> None:
        self.at = time.time()

    def __call__(self) -> float:
        return self.at

    def travel(self, to: float) -> None:
        self.at = max(self.at, to)


@pytest.fixture
def clock() -> Iterator[Clock]:
    travelling = Clock()
    system_clock.set_clock(travelling)
    yield travelling
    system_clock.set_clock(None)


@pytest.fixture
def mail_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAIL_DIR", str(tmp_path / "mail"))
    reset_settings()
    return tmp_path / "mail"


@pytest.fixture
def start_dispatcher(
    local_api: Api, ddb_endpoint: str, ddb_table: str, mail_dir: Path, tmp_path: Path
) -> Iterator[Callable[[], Dispatcher]]:
    """Starts a dispatcher on the test's table and state file: call it again for a restart."""

    def start() -> Dispatcher:
        client = boto3.client("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
        streams = boto3.client("dynamodbstreams", endpoint_url=ddb_endpoint, region_name="us-east-1")
        return Dispatcher(client, streams, ddb_table, tmp_path / "fanout.sqlite3").install()

    yield start
    fanout.use_transport(None)


@pytest.fixture
def dispatcher(start_dispatcher: Callable[[], Dispatcher]) -> Dispatcher:
    return start_dispatcher()


@pytest.fixture
def company(local_api: Api) -> Tenant:
    return make_tenant(local_api, "Hooks")


def _subscribe(api: Api, tenant: Tenant, url: str, events: list[str] | None = None) -> dict[str, Any]:
    reply = api.post("/v2/webhooks", {"url": url, "events": events or ["booking.created"]}, tenant.v2)
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


def _book(api: Api, tenant: Tenant, graph: str = "instant") -> str:
    reply = api.post("/v2/bookings", {"graph": graph, "event": EVENT, "customer": CUSTOMER}, tenant.v2)
    assert reply.status == 201, reply.body
    return str(reply.body["data"]["id"])


def _signed_by(secret: str, hit: Received) -> bool:
    """The independent implementation's signature for this request is among those sent."""
    at = datetime.fromtimestamp(int(hit.headers["webhook-timestamp"]), UTC)
    expected = StandardWebhook(secret).sign(hit.headers["webhook-id"], at, hit.body.decode())
    return expected in hit.headers["webhook-signature"].split(" ")


def test_a_booking_reaches_a_real_receiver_signed_and_emails_are_written(
    local_api: Api, company: Tenant, dispatcher: Dispatcher, mail_dir: Path
) -> None:
    with receiver() as hook:
        webhook = _subscribe(local_api, company, hook.url)
        assert webhook["secret"].startswith("whsec_")
        booking_id = _book(local_api, company)
        dispatcher.drain()
    assert len(hook.received) == 1
    hit = hook.received[0]
    payload = StandardWebhook(webhook["secret"]).verify(hit.body, hit.headers)  # raises unless valid and fresh
    assert payload["type"] == "booking.created" and payload["data"]["id"] == booking_id
    assert payload["company_id"] == company.id
    log = local_api.get(f"/v2/webhooks/{webhook['id']}/deliveries", company.v2).body["data"]
    assert [(d["status"], d["id"]) for d in log] == [("delivered", hit.headers["webhook-id"])]
    assert log[0]["attempts"][0]["status_code"] == 200
    # instant's confirm notifies owner and customer: two emails, one each
    mails = [email.message_from_bytes(p.read_bytes()) for p in sorted(mail_dir.glob("*.eml"))]
    assert sorted(m["To"] for m in mails) == sorted([company.admin_email, CUSTOMER["email"]])
    assert all("Massage" in str(m["Subject"]) for m in mails)


def test_500_three_times_then_200_is_delivered_on_the_fourth_attempt(
    local_api: Api, company: Tenant, dispatcher: Dispatcher, clock: Clock
) -> None:
    with receiver([500, 500, 500, 200]) as hook:
        webhook = _subscribe(local_api, company, hook.url)
        _book(local_api, company)
        dispatcher.drain(travel=clock.travel)
    assert len(hook.received) == 4
    assert len({hit.headers["webhook-id"] for hit in hook.received}) == 1
    assert all(_signed_by(webhook["secret"], hit) for hit in hook.received)
    stamps = [int(hit.headers["webhook-timestamp"]) for hit in hook.received]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 0.8 * sum(rules.nominal_delay(n) for n in (1, 2, 3))
    [delivery] = local_api.get(f"/v2/webhooks/{webhook['id']}/deliveries", company.v2).body["data"]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    assert [a["outcome"] for a in delivery["attempts"]] == ["retry_scheduled"] * 3 + ["delivered"]


def test_a_receiver_down_for_good_ends_in_the_dead_letter_queue_and_can_be_replayed(
    local_api: Api, company: Tenant, dispatcher: Dispatcher, clock: Clock
) -> None:
    with receiver() as gone:
        url = gone.url
    webhook = _subscribe(local_api, company, url)  # nothing listens there any more
    _book(local_api, company)
    started = clock()
    dispatcher.drain(travel=clock.travel)
    assert 2.4 * 86_400 < clock() - started < 3.6 * 86_400  # about three days of retries
    [dead] = [json.loads(body) for body in dispatcher.queues["webhooks-dlq"].bodies()]
    [delivery] = local_api.get(f"/v2/webhooks/{webhook['id']}/deliveries", company.v2).body["data"]
    assert dead["event_id"] == delivery["event_id"] and "dead_lettered_at" in dead
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == rules.MAX_ATTEMPTS
    assert delivery["attempts"][-1]["outcome"] == "dead_lettered"
    assert all(a["status_code"] is None and a["error"] for a in delivery["attempts"])
    with receiver([500]) as back:
        moved = local_api.put(f"/v2/webhooks/{webhook['id']}", {"url": back.url}, company.v2)
        assert moved.status == 200
        replay = f"/v2/webhooks/{webhook['id']}/deliveries/{delivery['id']}/replay"
        assert local_api.post(replay, {}, company.v2).status == 202
        assert local_api.post(replay, {}, company.v2).status == 409  # still being attempted
        dispatcher.drain(travel=clock.travel)
    # the replay fails once and is retried on a fresh schedule, not dead-lettered at once
    assert [hit.headers["webhook-id"] for hit in back.received] == [delivery["id"]] * 2
    [after] = local_api.get(f"/v2/webhooks/{webhook['id']}/deliveries", company.v2).body["data"]
    assert after["status"] == "delivered" and len(after["attempts"]) == rules.MAX_ATTEMPTS + 2
    assert [a["outcome"] for a in after["attempts"][-2:]] == ["retry_scheduled", "delivered"]


def test_a_failed_publish_is_retried_and_nothing_is_lost_or_published_under_another_id(
    local_api: Api, company: Tenant, dispatcher: Dispatcher, ddb_table: str
) -> None:
    published: list[str] = []
    failures = {"left": 2}
    real = dispatcher.transport.publish

    def flaky(message: dict[str, Any]) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("SNS is unavailable (injected)")
        published.append(message["id"])
        real(message)

    dispatcher.transport.publish = flaky
    first = _book(local_api, company, "confirm_decline")
    local_api.put(f"/v2/bookings/{first}/confirm", {}, company.v2)
    _book(local_api, company)
    dispatcher.poll_stream()
    assert published == [] and failures["left"] == 1  # the first event failed: nothing after it went out
    dispatcher.poll_stream()
    assert published == [] and failures["left"] == 0  # read again from that record, failed again
    dispatcher.drain()
    client = boto3.client("dynamodb", endpoint_url=dispatcher.client.meta.endpoint_url, region_name="us-east-1")
    outbox = [
        item["event_id"]["S"]
        for page in client.get_paginator("scan").paginate(TableName=ddb_table)
        for item in page["Items"]
        if item["kind"]["S"] == "outbox"
    ]
    assert len(outbox) == 3
    assert sorted(published) == sorted(outbox)  # every event once, each under its outbox id


def test_a_twice_delivered_event_is_one_delivery_and_one_post(
    local_api: Api, company: Tenant, dispatcher: Dispatcher
) -> None:
    with receiver() as hook:
        webhook = _subscribe(local_api, company, hook.url)
        _book(local_api, company)
        dispatcher.poll_stream()
        [body] = dispatcher.queues["webhooks"].bodies()
        dispatcher.queues["webhooks"].send(body)  # SNS/SQS at-least-once: the same event again
        dispatcher.drain()
    assert len(hook.received) == 1
    deliveries = local_api.get(f"/v2/webhooks/{webhook['id']}/deliveries", company.v2).body["data"]
    assert len(deliveries) == 1 and len(deliveries[0]["attempts"]) == 1


def test_a_rotated_secret_signs_beside_the_old_one_during_the_grace_period(
    local_api: Api, company: Tenant, dispatcher: Dispatcher
) -> None:
    with receiver() as hook:
        webhook = _subscribe(local_api, company, hook.url)
        rotated = local_api.post(f"/v2/webhooks/{webhook['id']}/secret", {"grace_seconds": 3600}, company.v2)
        assert rotated.status == 200 and rotated.body["data"]["secret"] != webhook["secret"]
        _book(local_api, company)
        dispatcher.drain()
    [hit] = hook.received
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    for secret in (webhook["secret"], rotated.body["data"]["secret"]):
        StandardWebhook(secret).verify(hit.body, hit.headers)


# --- the local dispatcher loses nothing across restarts ------------------------------------------


def _delivered_ids(hook: Any) -> list[str]:
    return [json.loads(hit.body)["data"]["id"] for hit in hook.received]


def _record_publishes(dispatcher: Dispatcher) -> list[str]:
    """The subject ids of what ``dispatcher`` publishes from now on, in order (still published)."""
    published: list[str] = []
    real = dispatcher.transport.publish

    def watch(message: dict[str, Any]) -> None:
        published.append(message["data"]["id"])
        real(message)

    dispatcher.transport.publish = watch
    return published


def test_an_event_written_before_the_dispatcher_starts_is_delivered(
    local_api: Api, company: Tenant, start_dispatcher: Callable[[], Dispatcher]
) -> None:
    with receiver() as hook:
        _subscribe(local_api, company, hook.url)
        booking_id = _book(local_api, company)  # the API answers before the dispatcher runs (make run's start)
        start_dispatcher().drain()
    assert _delivered_ids(hook) == [booking_id]


def test_events_written_while_the_dispatcher_is_stopped_are_delivered_after_its_restart_and_once(
    local_api: Api, company: Tenant, start_dispatcher: Callable[[], Dispatcher]
) -> None:
    with receiver() as hook:
        _subscribe(local_api, company, hook.url)
        before = _book(local_api, company)
        start_dispatcher().drain()
        fanout.use_transport(None)  # stopped
        during = [_book(local_api, company), _book(local_api, company)]
        again = start_dispatcher()
        published = _record_publishes(again)
        again.drain()
    assert sorted(_delivered_ids(hook)) == sorted([before, *during])  # each once (a batch posts in parallel)
    assert published == during  # resumed after its saved position: the event before was not read again


def test_a_pending_retry_survives_a_restart_and_is_delivered(
    local_api: Api, company: Tenant, start_dispatcher: Callable[[], Dispatcher], clock: Clock
) -> None:
    with receiver([500]) as hook:
        webhook = _subscribe(local_api, company, hook.url)
        _book(local_api, company)
        first = start_dispatcher()
        first.drain()  # attempt 1 fails; attempt 2 waits in the queue for its delay
        assert len(hook.received) == 1 and len(first.queues["webhooks"]) == 1
        fanout.use_transport(None)  # make run stopped
        start_dispatcher().drain(travel=clock.travel)
    assert len(hook.received) == 2
    [delivery] = local_api.get(f"/v2/webhooks/{webhook['id']}/deliveries", company.v2).body["data"]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]


def test_a_message_being_handled_when_the_dispatcher_died_comes_back_after_the_visibility_timeout(
    local_api: Api, company: Tenant, start_dispatcher: Callable[[], Dispatcher], clock: Clock
) -> None:
    with receiver() as hook:
        _subscribe(local_api, company, hook.url)
        booking_id = _book(local_api, company)
        dying = start_dispatcher()
        dying.poll_stream()
        [taken] = dying.queues["webhooks"].receive()  # received, then the process dies before handling it
        assert taken.receives == 1
        fanout.use_transport(None)
        again = start_dispatcher()
        again.drain()
        assert hook.received == []  # still hidden: its handler may be running somewhere
        again.drain(travel=clock.travel)
    assert _delivered_ids(hook) == [booking_id]
    assert len(again.queues["webhooks"]) == 0


def test_the_dispatcher_carries_on_after_dynamodb_local_restarts_and_delivers_what_was_written_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mail_dir: Path
) -> None:
    from botocore.config import Config
    from chalice.test import Client

    from app import app
    from chalicelib.store import db, schema
    from devtools.ddb_local import DynamoDBLocal, free_port
    from tests.conftest import _use_table

    ddb = DynamoDBLocal(free_port(), tmp_path / "db")  # persistent, as make run's
    ddb.start()
    try:
        _use_table(monkeypatch, "restarts", ddb.endpoint)
        schema.create_table_if_absent(ddb.client(), "restarts")
        once = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=5)
        client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1", config=once)
        streams = boto3.client("dynamodbstreams", endpoint_url=ddb.endpoint, region_name="us-east-1", config=once)
        dispatcher = Dispatcher(client, streams, "restarts", tmp_path / "fanout.sqlite3").install()
        published = _record_publishes(dispatcher)
        with Client(app, stage_name="local") as chalice, receiver() as hook:
            api = Api(chalice)
            tenant = make_tenant(api, "Restarts")
            _subscribe(api, tenant, hook.url)
            first = _book(api, tenant)
            dispatcher.drain()
            second = _book(api, tenant)  # written, not yet read, when DynamoDB Local dies
            ddb.stop()
            with pytest.raises(Exception, match="connect"):
                dispatcher.poll_stream()
            ddb.start()
            third = _book(api, tenant)
            dispatcher.drain()
        assert published == [first, second, third]  # each once, in order
        assert sorted(_delivered_ids(hook)) == sorted([first, second, third])
    finally:
        fanout.use_transport(None)
        ddb.stop()
        monkeypatch.undo()
        reset_settings()
        db._bound_to = None
