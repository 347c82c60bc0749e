"""The local fan-out: what the stream, SNS and SQS do deployed, in one process beside ``make run``.

It reads the table's stream on DynamoDB Local (boto3 ``dynamodbstreams``), hands the
records to the same :func:`chalicelib.services.messaging.fanout.publish_records` the Lambda
runs, and that publishes into the durable local queues of :mod:`devtools.local_queues`
(delays, visibility timeout, dead-letter after 5 receives, like SQS), which feed the
same webhook and email handlers. Tests drive it step by step (:meth:`Dispatcher.drain`),
travelling through the queue delays instead of waiting.

Nothing is lost across restarts (of the dispatcher, of ``make run``, of DynamoDB Local):

- each shard is read from where the last run stopped (the position is saved in the
  state file after every batch), and a shard never read before from its start
  (TRIM_HORIZON), never from LATEST: an event written before the dispatcher started,
  or while it was stopped, is delivered when it runs. At least once: a record handled
  just before a crash, whose position was not saved yet, is published again under the
  same event id, which the consumers deduplicate;
- queued messages (pending retries included) are in the state file too;
- any error while reading (DynamoDB Local restarting, an expired iterator) drops the
  shard iterators, and the next poll asks for new ones from the saved positions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from chalicelib.services.messaging import delivery, fanout, mail
from chalicelib.services.messaging.fanout_wiring import WEBHOOK_BATCH_SIZE
from devtools.local_queues import FanoutState, StreamPosition, local_transport

Handler = Callable[[list[Mapping[str, Any]]], dict[str, Any]]


class Dispatcher:
    def __init__(self, client: Any, streams: Any, table_name: str, state_path: Path) -> None:
        self.client = client
        self.streams = streams
        self.table_name = table_name
        self.state = FanoutState(state_path)
        self.transport, self.queues = local_transport(self.state)
        self.handlers: dict[str, Handler] = {
            "webhooks": delivery.handle_messages,
            "emails": mail.handle_messages,
        }
        # Batches as app.py's event sources take them.
        self.batch_sizes: dict[str, int] = {"webhooks": WEBHOOK_BATCH_SIZE, "emails": 10}
        self._iterators: dict[str, str | None] = {}  # shard id -> iterator; None once a closed shard is read
        self._stream_arn: str | None = None
        self.published = 0

    def install(self) -> Dispatcher:
        """Route the app's fan-out (publishes, retries, replays) through this dispatcher's queues."""
        fanout.use_transport(self.transport)
        return self

    # --- the stream ---------------------------------------------------------------------------------

    def _refresh_shards(self) -> str:
        if self._stream_arn is None:
            table = self.client.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = str(table["LatestStreamArn"])
        arn = self._stream_arn
        positions = self.state.positions(arn)
        for shard in self._shards(arn):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            position = positions.get(shard_id, StreamPosition(None))
            self._iterators[shard_id] = None if position.finished else self._iterator(arn, shard_id, position)
        return arn

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        ask: dict[str, Any] = {"StreamArn": arn}
        while True:
            described = self.streams.describe_stream(**ask)["StreamDescription"]
            shards.extend(described.get("Shards", []))
            if not described.get("LastEvaluatedShardId"):
                return shards
            ask["ExclusiveStartShardId"] = described["LastEvaluatedShardId"]

    def _iterator(self, arn: str, shard_id: str, position: StreamPosition) -> str:
        if position.after is not None:
            try:
                return str(
                    self.streams.get_shard_iterator(
                        StreamArn=arn,
                        ShardId=shard_id,
                        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                        SequenceNumber=position.after,
                    )["ShardIterator"]
                )
            except self.streams.exceptions.TrimmedDataAccessException:
                # Stopped for longer than the stream keeps records (24 h): what was trimmed is gone.
                print(
                    f"dispatcher: records after {position.after} in {shard_id} were trimmed from the stream "
                    "while the dispatcher was stopped; reading from the oldest record left",
                    flush=True,
                )
        return str(
            self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
        )

    def poll_stream(self) -> int:
        """Publish what the stream has now; the number of records handled. A failed record is read
        again next time (from the saved position), and nothing after it in its shard is published first."""
        try:
            return self._poll_stream()
        except Exception:
            # DynamoDB Local restarting, an expired iterator...: start again from the saved positions.
            self._iterators.clear()
            self._stream_arn = None
            raise

    def _poll_stream(self) -> int:
        arn = self._refresh_shards()
        handled = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            answer = self.streams.get_records(ShardIterator=iterator, Limit=100)
            records: list[Mapping[str, Any]] = answer.get("Records", [])
            done = self._forward(records)
            handled += done
            complete = done == len(records)
            following = answer.get("NextShardIterator") if complete else None
            if done:
                last = str(records[done - 1]["dynamodb"]["SequenceNumber"])
                self.state.save_position(arn, shard_id, StreamPosition(last, complete and following is None))
            elif complete and following is None:
                self.state.save_position(arn, shard_id, StreamPosition(None, finished=True))
            if complete:
                self._iterators[shard_id] = following
            else:
                del self._iterators[shard_id]  # the next poll resumes after the last record handled
        self.published += handled
        return handled

    def _forward(self, records: list[Mapping[str, Any]]) -> int:
        """Queue (local queue messages) or publish (outbox events) each record in order; how many went."""
        for index, record in enumerate(records):
            queued = fanout.table_queue_message(record)
            if queued is not None:
                queue, body, delay = queued
                self.queues[queue].send(body, delay)
            elif fanout.publish_records([record])["batchItemFailures"]:
                return index
        return len(records)

    # --- the queues ----------------------------------------------------------------------------------

    def pump(self) -> int:
        """Hand every visible message to its handler; failed ones come back after the visibility timeout."""
        handled = 0
        for name, handler in self.handlers.items():
            queue = self.queues[name]
            while batch := queue.receive(self.batch_sizes[name]):
                handled += len(batch)
                result = handler([{"messageId": m.message_id, "body": m.body} for m in batch])
                failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
                for message in batch:
                    if message.message_id in failed:
                        queue.release(message)
                queue.delete_batch([message for message in batch if message.message_id not in failed])
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
        """The ``make run`` loop: errors are printed (once until the next success) and the loop goes on."""
        failing = False
        while not stop.wait(interval):
            try:
                self.poll_stream()
                self.pump()
            except Exception as error:
                if not failing:
                    print(f"dispatcher: {type(error).__name__}: {error} (retrying every {interval} s)", flush=True)
                failing = True
                continue
            if failing:
                print("dispatcher: reading the stream again", flush=True)
                failing = False
