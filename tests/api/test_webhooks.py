"""Webhook subscriptions over the API (moto), SSRF refusals, and the SNS -> SQS -> sender path
under moto with the topic's filter policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.services.messaging import delivery, fanout, webhooks
from chalicelib.services.messaging import fanout_wiring as wiring
from chalicelib.settings import reset_settings
from tests.conftest import Api, Tenant
from tests.receivers import receiver

EVENT = {"start": "2031-03-01T10:00:00+00:00", "end": "2031-03-01T11:00:00+00:00", "what": "Yoga"}
DNS = {
    "public.example": ["93.184.216.34"],
    "internal.example": ["10.0.0.5"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],
}


@pytest.fixture
def deployed_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The dev/prod rules (https, public addresses only), with names resolved without DNS."""
    monkeypatch.setattr(webhooks, "is_local_stage", lambda: False)
    webhooks.set_resolver(lambda host, _port: DNS.get(host, []))
    yield
    webhooks.set_resolver(None)


def test_crud_and_the_secret_is_shown_once(api: Api, tenant: Tenant) -> None:
    created = api.post("/v2/webhooks", {"url": "http://127.0.0.1:9000/hook", "events": ["booking.created"]}, tenant.v2)
    assert created.status == 201
    data = created.body["data"]
    assert data["secret"].startswith("whsec_") and data["enabled"] is True
    path = f"/v2/webhooks/{data['id']}"
    assert api.get(path, tenant.v2).body["data"]["secret"] is None
    assert [w["id"] for w in api.get("/v2/webhooks", tenant.v2).body["data"]] == [data["id"]]
    changed = api.put(path, {"enabled": False, "events": ["booking.cancelled", "hold.expired"]}, tenant.v2)
    assert changed.status == 200 and changed.body["data"]["events"] == ["booking.cancelled", "hold.expired"]
    assert changed.body["data"]["enabled"] is False and changed.body["data"]["secret"] is None
    assert api.delete(path, tenant.v2).status == 200
    assert api.get(path, tenant.v2).status == 404
    assert api.get(f"{path}/deliveries", tenant.v2).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9000/hook", "events": ["booking.exploded"]}, "events"),
        ({"url": "http://127.0.0.1:9000/hook", "events": []}, "events"),
        ({"url": "ftp://127.0.0.1/hook", "events": ["booking.created"]}, "url"),
        ({"url": "http://127.0.0.1:9000/hook", "events": ["booking.created"], "secret": "mine"}, "secret"),
    ],
)
def test_bad_subscriptions_are_422_naming_the_field(api: Api, tenant: Tenant, body: dict[str, Any], field: str) -> None:
    reply = api.post("/v2/webhooks", body, tenant.v2)
    assert reply.status == 422 and reply.error["field"].startswith(field)
    assert api.get("/v2/webhooks", tenant.v2).body["data"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://public.example/hook",  # not https
        "https://internal.example/hook",  # private address
        "https://mixed.example/hook",  # one of its addresses is loopback
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://nowhere.example/hook",  # does not resolve
    ],
)
def test_deployed_stages_refuse_non_public_targets(api: Api, tenant: Tenant, deployed_stage: None, url: str) -> None:
    reply = api.post("/v2/webhooks", {"url": url, "events": ["booking.created"]}, tenant.v2)
    assert reply.status == 422, reply.body
    assert reply.error["field"] == "url"


def test_deployed_stages_check_again_at_delivery_after_dns(api: Api, tenant: Tenant, deployed_stage: None) -> None:
    created = api.post("/v2/webhooks", {"url": "https://public.example/hook", "events": ["booking.created"]}, tenant.v2)
    assert created.status == 201
    webhook = webhooks.get(tenant.id, created.body["data"]["id"])
    event = {
        "id": "0c1d2e3f-0000-4000-8000-000000000001",
        "type": "booking.created",
        "occurred_at": "2031-01-01T00:00:00Z",
    }
    webhooks.new_delivery(webhook, event, "{}")
    stored = webhooks.load_delivery(int(webhook.webhook_id), event["id"])
    assert stored is not None
    DNS["public.example"] = ["127.0.0.1"]  # the name now points inside (DNS rebinding)
    try:
        status, error, _latency = delivery.post(webhook, stored, 0)
    finally:
        DNS["public.example"] = ["93.184.216.34"]
    assert status is None and error is not None and error.startswith("refused")


# --- SNS -> SQS -> sender under moto ------------------------------------------------------------------


@pytest.fixture
def aws_fanout(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The topic, both queues with their DLQs, and the subscriptions as infra/ wires them."""
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="booking-engine-test-events")["TopicArn"]
    urls = {
        name: sqs.create_queue(QueueName=f"booking-engine-test-{name}")["QueueUrl"]
        for name in ("webhooks", "webhooks-dlq", "emails")
    }
    for name, filter_types in (("webhooks", wiring.EVENT_TYPES), ("emails", wiring.EMAIL_EVENT_TYPES)):
        arn = sqs.get_queue_attributes(QueueUrl=urls[name], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={
                "RawMessageDelivery": "true",
                "FilterPolicy": json.dumps({wiring.ATTRIBUTE_TYPE: list(filter_types)}),
            },
        )
    monkeypatch.setenv("EVENTS_TOPIC_ARN", topic)
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", urls["webhooks"])
    monkeypatch.setenv("WEBHOOK_DLQ_URL", urls["webhooks-dlq"])
    monkeypatch.setenv("EMAIL_QUEUE_URL", urls["emails"])
    reset_settings()
    fanout.use_transport(None)
    yield urls
    reset_settings()


def _stream_records(table: str) -> list[dict[str, Any]]:
    """Stream INSERT records for every item (moto's Lambda event sources need Docker; this is their shape)."""
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    return [
        {"eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": f"{n:021d}"}}
        for n, item in enumerate(sorted(items, key=lambda i: i.get("occurred_at", {}).get("S", "")))
    ]


def _drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    out: list[Any] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages"
    ):
        out.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return out


def test_sns_to_sqs_to_the_sender_with_the_filter_policy(
    api: Api,
    tenant: Tenant,
    moto_table: str,
    aws_fanout: dict[str, str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    reset_settings()
    with receiver() as hook:
        api.post("/v2/webhooks", {"url": hook.url, "events": ["booking.created", "hold.created"]}, tenant.v2)
        owner = api.post(
            "/v2/bookings", {"graph": "group_owner", "event": EVENT, "settings": {"max_seats": 4}}, tenant.v2
        )
        hold = api.post("/v2/bookings/reserve", {"related": {"owner_booking_id": owner.body["data"]["id"]}}, tenant.v2)
        assert hold.status == 201
        published = api.client.lambda_.invoke("publish_outbox", {"Records": _stream_records(moto_table)}).payload
        assert published == {"batchItemFailures": []}
        to_webhooks, to_emails = _drain(aws_fanout["webhooks"]), _drain(aws_fanout["emails"])
        assert sorted(json.loads(m["Body"])["type"] for m in to_webhooks) == ["booking.created", "hold.created"]
        assert [json.loads(m["Body"])["type"] for m in to_emails] == ["booking.created"]  # hold.* filtered out
        attributes = to_webhooks[0]["MessageAttributes"]
        assert attributes["company_id"]["StringValue"] == str(tenant.id)
        assert attributes["type"]["StringValue"] == json.loads(to_webhooks[0]["Body"])["type"]
        event = api.client.events.generate_sqs_event([m["Body"] for m in to_webhooks], wiring.WEBHOOK_QUEUE)
        for n, record in enumerate(event["Records"]):
            record["messageId"] = f"m{n}"
        assert api.client.lambda_.invoke("deliver_webhooks", event).payload == {"batchItemFailures": []}
    assert sorted(json.loads(hit.body)["type"] for hit in hook.received) == ["booking.created", "hold.created"]
    assert _drain(aws_fanout["webhooks"]) == []  # delivered: nothing re-queued


def test_a_failed_attempt_is_requeued_on_sqs_with_a_delay(
    api: Api, tenant: Tenant, moto_table: str, aws_fanout: dict[str, str]
) -> None:
    with receiver([503]) as hook:
        api.post("/v2/webhooks", {"url": hook.url, "events": ["booking.created"]}, tenant.v2)
        api.post("/v2/bookings", {"graph": "group_owner", "event": EVENT, "settings": {"max_seats": 4}}, tenant.v2)
        api.client.lambda_.invoke("publish_outbox", {"Records": _stream_records(moto_table)})
        [message] = _drain(aws_fanout["webhooks"])
        delivery.handle(message["Body"])
    assert len(hook.received) == 1
    sqs = boto3.client("sqs", region_name="us-east-1")
    counts = sqs.get_queue_attributes(
        QueueUrl=aws_fanout["webhooks"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    assert counts["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
