"""The fan-out's plumbing: event messages, the transport (SNS/SQS; locally the dispatcher's
queues, devtools/local_queues.py) and the stream publisher.

The outbox item written in the change's transaction reaches the table's stream;
:func:`publish_records` publishes each to the events topic with the message
attributes ``company_id`` and ``type`` (the queues' subscriptions filter on
``type``). The message carries the outbox event id, so a retried publish is the
same event and the consumers deduplicate on it. boto3 is imported on first use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from chalicelib.domain import clock
from chalicelib.observability import get_logger
from chalicelib.services.messaging import fanout_wiring as wiring
from chalicelib.settings import get_settings
from chalicelib.store import aws

# --- event messages ---------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """DynamoDB's Decimals (and sets) as JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def event_message(item: Mapping[str, Any]) -> dict[str, Any]:
    """The published form of an outbox item (plain values): what queues carry and webhooks send."""
    message = {
        "id": str(item["event_id"]),
        "type": str(item["event_type"]),
        "company_id": int(item["company_id"]),
        "subject_id": str(item["subject_id"]),
        "occurred_at": str(item["occurred_at"]),
        "data": plain(item.get("payload") or {}),
    }
    if item.get("notify") is not None:
        message["notify"] = [str(step) for step in item["notify"]]
    return message


def _from_stream(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The event of a stream record that inserted an OUTBOX item; None for anything else."""
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if (image.get("kind") or {}).get("S") != "outbox":
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return event_message({name: deserializer.deserialize(value) for name, value in image.items()})


# --- transport --------------------------------------------------------------------------------------


class Queue(Protocol):
    def send(self, body: str, delay_seconds: int = 0) -> None: ...


@dataclass
class Transport:
    """Where events and messages go: SNS and SQS deployed, the local dispatcher's queues (devtools)."""

    publish: Callable[[dict[str, Any]], None]
    webhooks: Queue
    webhook_dlq: Queue
    emails: Queue


class SqsQueue:
    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, body: str, delay_seconds: int = 0) -> None:
        _aws("sqs").send_message(QueueUrl=self.url, MessageBody=body, DelaySeconds=max(0, min(900, delay_seconds)))


@lru_cache(maxsize=4)
def _aws(service: str) -> Any:
    return aws.client(service)  # the settings' timeouts and bounded retries


def attributes(message: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {
        wiring.ATTRIBUTE_COMPANY: {"DataType": "String", "StringValue": str(message["company_id"])},
        wiring.ATTRIBUTE_TYPE: {"DataType": "String", "StringValue": str(message["type"])},
    }


def _sns_publish(message: dict[str, Any]) -> None:
    topic = get_settings().events_topic_arn
    if not topic:
        raise RuntimeError("EVENTS_TOPIC_ARN is not set")
    _aws("sns").publish(TopicArn=topic, Message=json.dumps(message), MessageAttributes=attributes(message))


class TableQueue:
    """The local stage's queue outside the dispatcher's process (``chalice local`` replaying a delivery):
    the message is written to the table and the dispatcher, reading the stream, queues it."""

    KIND = "local_message"

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, body: str, delay_seconds: int = 0) -> None:
        import uuid

        from chalicelib.store import db

        db.low_level_client().put_item(
            TableName=get_settings().table_name,
            Item={
                "pk": {"S": f"LOCALQ#{uuid.uuid4()}"},
                "sk": {"S": "MESSAGE"},
                "kind": {"S": self.KIND},
                "queue": {"S": self.name},
                "body": {"S": body},
                "delay": {"N": str(max(0, delay_seconds))},
                "ttl": {"N": str(int(clock.now()) + 86_400)},
            },
        )


def _local_transport() -> Transport:
    def publish(message: dict[str, Any]) -> None:
        raise RuntimeError("the local stage publishes through the dispatcher (make run)")

    return Transport(publish, TableQueue("webhooks"), TableQueue("webhooks-dlq"), TableQueue("emails"))


def table_queue_message(record: Mapping[str, Any]) -> tuple[str, str, int] | None:
    """(queue, body, delay) of a stream record that inserted a local queue message."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or (image.get("kind") or {}).get("S") != TableQueue.KIND:
        return None
    return image["queue"]["S"], image["body"]["S"], int(image["delay"]["N"])


def _aws_transport() -> Transport:
    settings = get_settings()
    if settings.stage == "local" and not settings.webhook_queue_url:
        return _local_transport()

    def queue(url: str | None, name: str) -> Queue:
        if not url:
            raise RuntimeError(f"{name} is not set")
        return SqsQueue(url)

    return Transport(
        publish=_sns_publish,
        webhooks=queue(settings.webhook_queue_url, "WEBHOOK_QUEUE_URL"),
        webhook_dlq=queue(settings.webhook_dlq_url, "WEBHOOK_DLQ_URL"),
        emails=queue(settings.email_queue_url, "EMAIL_QUEUE_URL"),
    )


_override: Transport | None = None


def use_transport(transport: Transport | None) -> None:
    """Route the fan-out through ``transport`` (the local dispatcher, tests); None: back to AWS."""
    global _override
    _override = transport
    _aws.cache_clear()


def transport() -> Transport:
    return _override if _override is not None else _aws_transport()


# --- the stream publisher ---------------------------------------------------------------------------


def publish_records(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Publish the batch's outbox inserts in order (Powertools' BatchProcessor); stop at the first failure.

    That record and every one after it are reported failed, none of the later ones
    published, so Lambda retries from the first failure in order (records published
    before it may come again with the same event id, which the consumers deduplicate).
    """
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    out = transport()
    stopped: list[str] = []  # the sequence of the first record that failed, once one has

    def one(record: DynamoDBRecord) -> None:
        raw = record.raw_event
        sequence = str((raw.get("dynamodb") or {}).get("SequenceNumber", ""))
        if stopped:
            # In order: nothing after a failure is published now; Lambda retries from the first failure.
            raise NotPublished(f"after {stopped[0]}")
        try:
            message = _from_stream(raw)
        except Exception:  # a record we cannot read will never publish: say so, do not block the shard
            get_logger().exception("outbox record unreadable; skipped", extra={"sequence": sequence})
            return
        if message is None:
            return
        try:
            out.publish(message)
        except Exception as error:
            stopped.append(sequence)
            get_logger().warning(
                "publish failed; the record will be retried",
                extra={"event_id": message["id"], "sequence": sequence, "error": repr(error)},
            )
            raise

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return dict(process_partial_response({"Records": records}, one, processor))


class NotPublished(Exception):
    """A record after a failed one in the same batch: left for Lambda's retry, to keep the order."""
