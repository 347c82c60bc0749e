"""The local fan-out: what the stream, SNS and SQS do deployed, in one process beside ``make run``.

It reads the table's stream on DynamoDB Local (boto3 ``dynamodbstreams``), hands the
records to the same :func:`chalicelib.services.messaging.fanout.publish_records` the Lambda
runs, and that publishes into in-process queues (delays, visibility timeout,
dead-letter after 5 receives, like SQS) which feed the same webhook and email
handlers. Tests drive it step by step (:meth:`Dispatcher.drain`), travelling
through the queue delays instead of waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.services.messaging import delivery, fanout, mail

Handler = Callable[[list[Mapping[str, Any]]], dict[str, Any]]


class Dispatcher:
    def __init__(self, client: Any, streams: Any, table_name: str, *, from_start: bool = False) -> None:
        self.client = client
        self.streams = streams
        self.table_name = table_name
        self.from_start = from_start
        self.transport, self.queues = fanout.memory_transport()
        self.handlers: dict[str, Handler] = {
            "webhooks": delivery.handle_messages,
            "emails": mail.handle_messages,
        }
        self._iterators: dict[str, str | None] = {}
        self._stream_arn: str | None = None
        self.published = 0

    def install(self) -> Dispatcher:
        """Route the app's fan-out (publishes, retries, replays) through this dispatcher's queues."""
        fanout.use_transport(self.transport)
        return self

    # --- the stream ---------------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        if self._stream_arn is None:
            table = self.client.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = table["LatestStreamArn"]
        described = self.streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in described.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            # Shards that appear later are read from their start; at start-up, LATEST unless asked.
            start = "TRIM_HORIZON" if (self.from_start or self._iterators) else "LATEST"
            self._iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=start
            )["ShardIterator"]

    def poll_stream(self) -> int:
        """Publish what the stream has now; a failed record is read again next time (from its sequence number)."""
        self._refresh_shards()
        published = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue  # a closed shard, read to its end
            answer = self.streams.get_records(ShardIterator=iterator, Limit=100)
            records = answer.get("Records", [])
            for record in records:
                queued = fanout.table_queue_message(record)
                if queued is not None:
                    self.queues[queued[0]].send(queued[1], queued[2])
            result = fanout.publish_records(records)
            failures = result["batchItemFailures"]
            if failures:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self._stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                    SequenceNumber=failures[0]["itemIdentifier"],
                )["ShardIterator"]
                published += sum(1 for r in records if r["dynamodb"]["SequenceNumber"] < failures[0]["itemIdentifier"])
            else:
                self._iterators[shard_id] = answer.get("NextShardIterator")
                published += len(records)
        self.published += published
        return published

    # --- the queues ----------------------------------------------------------------------------------

    def pump(self) -> int:
        """Hand every visible message to its handler; failed ones come back after the visibility timeout."""
        handled = 0
        for name, handler in self.handlers.items():
            queue = self.queues[name]
            while batch := queue.receive(10):
                handled += len(batch)
                result = handler([{"messageId": p.message_id, "body": p.body} for p in batch])
                failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
                for pending in batch:
                    if pending.message_id in failed:
                        queue.release(pending)
        return handled

    def next_due(self) -> float | None:
        times = [t for name in self.handlers if (t := self.queues[name].next_visible_at()) is not None]
        return min(times) if times else None

    def drain(self, travel: Callable[[float], None] | None = None, max_rounds: int = 10_000) -> None:
        """Until nothing is left: poll, pump and, with ``travel``, jump the clock to the next delayed message."""
        for _ in range(max_rounds):
            moved = self.poll_stream() + self.pump()
            if moved:
                continue
            due = self.next_due()
            if due is None or travel is None:
                return
            travel(due)
        raise RuntimeError("the dispatcher did not settle")

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """The ``make run`` loop: errors are printed and the loop goes on."""
        while not stop.wait(interval):
            try:
                self.poll_stream()
                self.pump()
            except Exception as error:
                print(f"dispatcher: {type(error).__name__}: {error}", flush=True)
