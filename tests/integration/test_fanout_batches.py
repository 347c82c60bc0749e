"""Two copies of one batch of events handled at the same moment on DynamoDB Local (SQS delivers
at least once; two Lambdas can hold copies at once): each (webhook, event) is created and sent
once, because the batch's deliveries are created put-if-absent. The control run drops that
condition and must send twice."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.services.messaging import delivery, fanout, webhooks
from devtools.local_queues import FanoutState, local_transport
from tests.conftest import Api, make_tenant
from tests.integration.races import hammer
from tests.receivers import Receiver, receiver
from tests.webhook_batches import event_message, records

pytestmark = pytest.mark.integration

COPIES = 2
EVENTS = 10


@pytest.fixture
def local_queues(tmp_path: Path) -> Iterator[None]:
    transport, _queues = local_transport(FanoutState(tmp_path / "fanout.sqlite3"))
    fanout.use_transport(transport)
    yield
    fanout.use_transport(None)


def _race(api: Api) -> tuple[list[Receiver], list[dict[str, Any]], list[dict[str, Exception]]]:
    tenant = make_tenant(api, "Race")
    events = [event_message(tenant.id) for _ in range(EVENTS)]
    batch = records(*events)
    with receiver() as a, receiver() as b:
        for hook in (a, b):
            webhooks.create(tenant.id, hook.url, ["booking.created"], True)
        handled = hammer(COPIES, [functools.partial(delivery.deliver_batch, _bodies(batch)) for _ in range(COPIES)])
    return [a, b], events, handled


def _bodies(batch: list[Any]) -> list[tuple[str, str]]:
    return [(record["messageId"], record["body"]) for record in batch]


def test_two_copies_of_a_batch_at_once_send_each_event_once_to_each_webhook(local_api: Api, local_queues: None) -> None:
    hooks, events, handled = _race(local_api)
    for hook in hooks:
        sent = Counter(hit.headers["webhook-id"] for hit in hook.received)
        assert sent == Counter({event["id"]: 1 for event in events})
    # The losing copy sent nothing; where the winner had not yet logged its attempt, the copy's
    # messages come back (RetryLater) rather than being dropped.
    for failures in handled:
        assert all(isinstance(error, delivery.RetryLater) for error in failures.values())


def test_control_without_the_put_if_absent_the_same_event_is_sent_twice(
    local_api: Api, local_queues: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "new_deliveries", functools.partial(webhooks.new_deliveries, if_absent=False))
    hooks, events, _handled = _race(local_api)
    for hook in hooks:
        sent = Counter(hit.headers["webhook-id"] for hit in hook.received)
        assert sent == Counter({event["id"]: COPIES for event in events})
