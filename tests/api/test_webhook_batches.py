"""The webhook sender's batches (moto): each step of the bookkeeping done once per batch, and the
guarantees kept through it (one delivery per (webhook, event), the same webhook-id when an
attempt comes again, every attempt logged, only the failed messages reported)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.services.messaging import delivery, fanout, webhooks
from chalicelib.store.models import Webhook
from devtools.local_queues import FanoutState, LocalQueue, local_transport
from tests.conftest import Api, Tenant, make_tenant
from tests.receivers import Receiver, receiver
from tests.webhook_batches import dynamodb_calls, event_message, records


@dataclass
class Queues:
    transport: fanout.Transport
    webhooks: LocalQueue


@pytest.fixture
def queues(tmp_path: Path) -> Iterator[Queues]:
    transport, local = local_transport(FanoutState(tmp_path / "fanout.sqlite3"))
    fanout.use_transport(transport)
    yield Queues(transport, local["webhooks"])
    fanout.use_transport(None)


def _subscribe(company_id: int, *hooks: Receiver) -> list[Webhook]:
    return [webhooks.create(company_id, hook.url, ["booking.created"], True) for hook in hooks]


def _ids(hook: Receiver) -> list[str]:
    return [hit.headers["webhook-id"] for hit in hook.received]


def _delivery(hook: Webhook, event: dict[str, Any]) -> Any:
    found = webhooks.load_delivery(int(hook.webhook_id), event["id"])
    assert found is not None
    return found


def test_a_batch_reads_each_companys_subscriptions_once_and_writes_its_deliveries_together(
    api: Api, tenant: Tenant, queues: Queues
) -> None:
    other = make_tenant(api, "Other")
    with receiver() as a, receiver() as b, receiver() as c, receiver() as d:
        hooks = _subscribe(tenant.id, a, b, c)
        [other_hook] = _subscribe(other.id, d)
        ours = [event_message(tenant.id) for _ in range(8)]
        theirs = [event_message(other.id) for _ in range(2)]
        with dynamodb_calls() as calls:
            result = delivery.handle_messages(records(*ours, *theirs))
    assert result == {"batchItemFailures": []}
    # One Query per company, not per event; 26 new deliveries in one transaction; their results
    # 25 to a BatchWriteItem; no write per delivery.
    assert calls == {"Query": 2, "TransactWriteItems": 1, "BatchWriteItem": 2}
    for receiving in (a, b, c):
        assert sorted(_ids(receiving)) == sorted(event["id"] for event in ours)
    assert sorted(_ids(d)) == sorted(event["id"] for event in theirs)
    for hook, event in [(h, e) for h in hooks for e in ours] + [(other_hook, e) for e in theirs]:
        stored = _delivery(hook, event)
        assert stored.status == "delivered" and int(stored.attempts) == 1
        assert [(e["attempt"], e["status_code"], e["outcome"]) for e in stored.log] == [(1, 200, "delivered")]


def test_the_same_event_twice_in_one_batch_is_one_delivery_and_one_post(tenant: Tenant, queues: Queues) -> None:
    twice, once = event_message(tenant.id), event_message(tenant.id)
    with receiver() as a, receiver() as b:
        hooks = _subscribe(tenant.id, a, b)
        result = delivery.handle_messages(records(twice, once, twice))
    assert result == {"batchItemFailures": []}
    for receiving in (a, b):
        assert sorted(_ids(receiving)) == sorted([twice["id"], once["id"]])
    for hook in hooks:
        assert len(_delivery(hook, twice).log) == 1


def test_an_event_delivered_in_an_earlier_batch_is_left_out_and_the_rest_of_the_batch_written(
    tenant: Tenant, queues: Queues
) -> None:
    earlier, new = event_message(tenant.id), event_message(tenant.id)
    with receiver() as a, receiver() as b:
        hooks = _subscribe(tenant.id, a, b)
        assert delivery.handle_messages(records(earlier)) == {"batchItemFailures": []}
        with dynamodb_calls() as calls:
            result = delivery.handle_messages(records(earlier, new))
    assert result == {"batchItemFailures": []}
    # Refused once naming the earlier event's deliveries, then written without them.
    assert calls["TransactWriteItems"] == 2
    for receiving in (a, b):
        assert sorted(_ids(receiving)) == sorted([earlier["id"], new["id"]])
    for hook in hooks:
        assert [e["outcome"] for e in _delivery(hook, earlier).log] == ["delivered"]
        assert [e["outcome"] for e in _delivery(hook, new).log] == ["delivered"]


class DownQueue:
    """The webhook queue while SQS refuses: a failed attempt's retry cannot be queued."""

    def send(self, body: str, delay_seconds: int = 0) -> None:
        raise ConnectionError("queue unreachable")


def test_a_failure_inside_a_batch_reports_only_its_message_and_it_is_sent_again_with_the_same_id(
    api: Api, tenant: Tenant, queues: Queues, travel: Any
) -> None:
    down = make_tenant(api, "Down")
    good, failing = event_message(tenant.id), event_message(down.id)
    with receiver() as ok, receiver([503]) as flaky:
        [ok_hook] = _subscribe(tenant.id, ok)
        [flaky_hook] = _subscribe(down.id, flaky)
        fanout.use_transport(fanout.Transport(queues.transport.publish, DownQueue(), DownQueue(), DownQueue()))
        result = delivery.handle_messages(records(good, failing))
        assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
        assert _delivery(ok_hook, good).status == "delivered"
        # Attempt 1 was sent and is still claimed, not recorded: its retry could not be queued.
        unrecorded = _delivery(flaky_hook, failing)
        assert (unrecorded.status, int(unrecorded.attempts), list(unrecorded.log)) == ("pending", 1, [])
        fanout.use_transport(queues.transport)
        # The message comes back: while the claim is fresh its holder may still be sending.
        assert delivery.handle_messages(records(failing))["batchItemFailures"] == [{"itemIdentifier": "m0"}]
        travel(delivery.STALE_CLAIM_SECONDS + 1)
        assert delivery.handle_messages(records(failing)) == {"batchItemFailures": []}
    assert _ids(ok) == [good["id"]]
    assert _ids(flaky) == [failing["id"], failing["id"]]  # the same webhook-id on the attempt sent again
    again = _delivery(flaky_hook, failing)
    assert again.status == "delivered"
    assert [(e["attempt"], e["status_code"]) for e in again.log] == [(1, 200)]


def test_results_of_claims_that_may_have_gone_stale_are_written_one_by_one(
    tenant: Tenant, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "STALE_CLAIM_SECONDS", 0.0)  # every POST "took too long"
    events = [event_message(tenant.id) for _ in range(3)]
    with receiver() as a, receiver() as b:
        hooks = _subscribe(tenant.id, a, b)
        with dynamodb_calls() as calls:
            assert delivery.handle_messages(records(*events)) == {"batchItemFailures": []}
    assert calls["BatchWriteItem"] == 0 and calls["UpdateItem"] == 6
    for hook in hooks:
        assert all(_delivery(hook, event).status == "delivered" for event in events)


def test_a_failed_first_attempt_is_logged_once_and_queued_again(tenant: Tenant, queues: Queues) -> None:
    event = event_message(tenant.id)
    with receiver([500]) as a:
        [hook] = _subscribe(tenant.id, a)
        assert delivery.handle_messages(records(event)) == {"batchItemFailures": []}
    stored = _delivery(hook, event)
    assert stored.status == "pending" and stored.next_attempt_at is not None
    assert [(e["attempt"], e["status_code"], e["outcome"]) for e in stored.log] == [(1, 500, "retry_scheduled")]
    [retry] = [json.loads(body) for body in queues.webhooks.bodies()]
    assert (retry["kind"], retry["attempt"], retry["event_id"]) == ("attempt", 2, event["id"])


def test_the_attempt_log_is_one_write_per_attempt_and_keeps_its_last_entries(tenant: Tenant, queues: Queues) -> None:
    with receiver() as a:
        [hook] = _subscribe(tenant.id, a)
    event = event_message(tenant.id)
    webhooks.new_delivery(hook, event, "{}")
    full = _delivery(hook, event)
    for n in range(webhooks.LOG_LIMIT):
        webhooks.record_attempt(full, {"attempt": n + 1, "outcome": "retry_scheduled"}, "pending", clock.now())
        full = _delivery(hook, event)
    with dynamodb_calls() as calls:
        webhooks.record_attempt(full, {"attempt": 51, "outcome": "delivered"}, "delivered", None)
    assert calls == {"UpdateItem": 1}
    kept = _delivery(hook, event)
    assert len(kept.log) == webhooks.LOG_LIMIT
    assert [e["attempt"] for e in kept.log] == [*range(2, 51), 51]
    assert kept.log[-1]["outcome"] == "delivered"


def test_malformed_messages_in_a_batch_are_dropped_and_the_rest_delivered(tenant: Tenant, queues: Queues) -> None:
    good = event_message(tenant.id)
    no_company = {key: value for key, value in event_message(tenant.id).items() if key != "company_id"}
    batch = [
        *records(good),
        {"messageId": "not-json", "body": "{"},
        {"messageId": "no-company", "body": json.dumps(no_company)},
        {"messageId": "unknown", "body": json.dumps({"hello": "world"})},
    ]
    with receiver() as a:
        _subscribe(tenant.id, a)
        assert delivery.handle_messages(batch) == {"batchItemFailures": []}
    assert _ids(a) == [good["id"]]


@pytest.fixture
def resolved() -> Iterator[Counter[str]]:
    """Names resolved without DNS (``receiver.test`` is 127.0.0.1, ``inside.test`` 10.0.0.5), counted."""
    asked: Counter[str] = Counter()
    table = {"receiver.test": ["127.0.0.1"], "inside.test": ["10.0.0.5"]}

    def resolve(host: str, _port: int) -> list[str]:
        asked[host] += 1
        return table.get(host, [host])

    webhooks.set_resolver(resolve)
    yield asked
    webhooks.set_resolver(None)


def test_each_target_is_checked_once_a_batch_and_every_post_goes_to_the_checked_address(
    tenant: Tenant, queues: Queues, resolved: Counter[str]
) -> None:
    events = [event_message(tenant.id) for _ in range(6)]
    with receiver() as a, receiver() as b:
        by_name = webhooks.create(tenant.id, f"http://receiver.test:{a.port}/hook", ["booking.created"], True)
        [by_address] = _subscribe(tenant.id, b)
        assert delivery.handle_messages(records(*events)) == {"batchItemFailures": []}
    # One resolution for each distinct URL, not one for each of the 12 POSTs.
    assert resolved == Counter({"receiver.test": 1, "127.0.0.1": 1})
    assert sorted(_ids(a)) == sorted(_ids(b)) == sorted(event["id"] for event in events)
    # The name's POSTs went to the address it resolved to, for the name's host.
    assert {hit.headers["host"] for hit in a.received} == {f"receiver.test:{a.port}"}
    for hook in (by_name, by_address):
        assert all(_delivery(hook, event).status == "delivered" for event in events)


def test_a_target_refused_at_its_check_is_not_sent_and_each_delivery_logs_the_refusal(
    tenant: Tenant, queues: Queues, resolved: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [event_message(tenant.id) for _ in range(3)]
    hook = webhooks.create(tenant.id, "https://inside.test/hook", ["booking.created"], True)
    monkeypatch.setattr(webhooks, "is_local_stage", lambda: False)  # a deployed stage: public addresses only
    assert delivery.handle_messages(records(*events)) == {"batchItemFailures": []}
    assert resolved == Counter({"inside.test": 1})
    for event in events:
        stored = _delivery(hook, event)
        [entry] = stored.log
        assert entry["status_code"] is None and str(entry["error"]).startswith("refused")
        assert (stored.status, entry["outcome"]) == ("pending", "retry_scheduled")
