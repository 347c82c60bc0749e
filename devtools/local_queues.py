"""The local fan-out's durable state: SQS stand-ins and the stream position, in one SQLite file.

``make run`` keeps it in ``.data/fanout.sqlite3`` (the tests in a temporary directory), so
a restart of ``make run`` loses nothing: messages waiting out a retry delay, messages being
handled when the process died (they come back after the visibility timeout, as on SQS), and
how far each stream shard has been read (the dispatcher resumes after it).

Why SQLite rather than DynamoDB Local items: a receive must pick and hide the visible
messages in one step (one ``BEGIN IMMEDIATE`` transaction here), and writes to the
booking table would themselves land on the stream the dispatcher reads. SQLite is in the
standard library; WAL with ``synchronous=NORMAL`` survives a killed process (not a power
cut, which is fine for a local stand-in). Each call opens its own connection: the
dispatcher's thread and the tests' in-process API share the file, never a connection.

Time is :func:`chalicelib.domain.clock.now`, so tests travel through the delays.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.domain import clock
from chalicelib.services.messaging import fanout
from chalicelib.services.messaging import fanout_wiring as wiring

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    visible_at REAL NOT NULL,
    receives INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, visible_at);
CREATE TABLE IF NOT EXISTS stream_positions (
    stream_arn TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    sequence_number TEXT,
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_arn, shard_id)
);
"""

SQS_MAX_DELAY_SECONDS = 900
VISIBILITY_TIMEOUT_SECONDS = 30.0
MAX_RECEIVES = 5
# A webhook message whose attempt is claimed by a run that died comes back (RetryLater) until
# the claim is stale (delivery.STALE_CLAIM_SECONDS, 330 s): its receives must outlast that
# before the dead-letter queue takes it (deployed: 1,800 s each).
WEBHOOK_VISIBILITY_TIMEOUT_SECONDS = 90.0


class FanoutState:
    """The SQLite file (created with its tables on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit), closed after use."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the write lock now: a receive's read and hide are one step
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- stream positions ---------------------------------------------------------------------------

    def positions(self, stream_arn: str) -> dict[str, StreamPosition]:
        with self.connect() as db:
            rows = db.execute(
                "SELECT shard_id, sequence_number, finished FROM stream_positions WHERE stream_arn = ?",
                (stream_arn,),
            ).fetchall()
        return {shard: StreamPosition(sequence, bool(finished)) for shard, sequence, finished in rows}

    def save_position(self, stream_arn: str, shard_id: str, position: StreamPosition) -> None:
        with self.connect() as db:
            db.execute(
                "INSERT INTO stream_positions (stream_arn, shard_id, sequence_number, finished) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (stream_arn, shard_id)"
                " DO UPDATE SET sequence_number = excluded.sequence_number, finished = excluded.finished",
                (stream_arn, shard_id, position.after, int(position.finished)),
            )


@dataclass(frozen=True)
class StreamPosition:
    """How far a shard has been read: every record up to ``after`` is handled; ``finished``: closed and read."""

    after: str | None
    finished: bool = False


@dataclass(frozen=True)
class Received:
    message_id: str
    body: str
    receives: int


class LocalQueue:
    """An SQS stand-in: delays (at most 900 s), a visibility timeout (a received message stays hidden
    until deleted, or comes back), and a redrive to ``dead`` after ``max_receives``."""

    def __init__(
        self,
        state: FanoutState,
        name: str,
        *,
        dead: LocalQueue | None = None,
        max_receives: int = MAX_RECEIVES,
        visibility_timeout: float = VISIBILITY_TIMEOUT_SECONDS,
    ) -> None:
        self.state = state
        self.name = name
        self.dead = dead
        self.max_receives = max_receives
        self.visibility_timeout = visibility_timeout

    def send(self, body: str, delay_seconds: int = 0) -> None:
        delay = max(0, min(SQS_MAX_DELAY_SECONDS, delay_seconds))
        with self.state.connect() as db:
            db.execute(
                "INSERT INTO messages (queue, body, visible_at) VALUES (?, ?, ?)",
                (self.name, body, clock.now() + delay),
            )

    def receive(self, limit: int = 10) -> list[Received]:
        """Messages visible now, hidden for the visibility timeout until deleted or released."""
        at = clock.now()
        with self.state.transaction() as db:
            rows = db.execute(
                "SELECT id, body, receives FROM messages WHERE queue = ? AND visible_at <= ?"
                " ORDER BY visible_at, id LIMIT ?",
                (self.name, at, limit),
            ).fetchall()
            db.executemany(
                "UPDATE messages SET visible_at = ?, receives = receives + 1 WHERE id = ?",
                [(at + self.visibility_timeout, row[0]) for row in rows],
            )
        return [Received(str(row[0]), row[1], row[2] + 1) for row in rows]

    def delete(self, message: Received) -> None:
        """Handled: gone for good."""
        with self.state.connect() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (int(message.message_id),))

    def delete_batch(self, messages: list[Received]) -> None:
        """Handled, a batch at once (SQS's DeleteMessageBatch; what Lambda does after a batch): one commit."""
        with self.state.transaction() as db:
            db.executemany("DELETE FROM messages WHERE id = ?", [(int(m.message_id),) for m in messages])

    def release(self, message: Received) -> None:
        """Failed: it stays hidden until the visibility timeout ends, or moves to ``dead`` after its last receive."""
        if self.dead is None or message.receives < self.max_receives:
            return
        with self.state.connect() as db:
            db.execute(
                "UPDATE messages SET queue = ?, visible_at = ?, receives = 0 WHERE id = ? AND queue = ?",
                (self.dead.name, clock.now(), int(message.message_id), self.name),
            )

    def next_visible_at(self) -> float | None:
        with self.state.connect() as db:
            row = db.execute("SELECT MIN(visible_at) FROM messages WHERE queue = ?", (self.name,)).fetchone()
        return None if row[0] is None else float(row[0])

    def bodies(self) -> list[str]:
        """Every message in the queue (visible or not), in the order they become visible."""
        with self.state.connect() as db:
            rows = db.execute(
                "SELECT body FROM messages WHERE queue = ? ORDER BY visible_at, id", (self.name,)
            ).fetchall()
        return [row[0] for row in rows]

    def __len__(self) -> int:
        with self.state.connect() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM messages WHERE queue = ?", (self.name,)).fetchone()
        return int(count)


def local_transport(state: FanoutState) -> tuple[fanout.Transport, dict[str, LocalQueue]]:
    """The queues wired as the topic's subscriptions are deployed (emails only for EMAIL_EVENT_TYPES)."""
    webhook_dlq = LocalQueue(state, "webhooks-dlq")
    email_dlq = LocalQueue(state, "emails-dlq")
    queues = {
        "webhooks": LocalQueue(
            state, "webhooks", dead=webhook_dlq, visibility_timeout=WEBHOOK_VISIBILITY_TIMEOUT_SECONDS
        ),
        "webhooks-dlq": webhook_dlq,
        "emails": LocalQueue(state, "emails", dead=email_dlq),
        "emails-dlq": email_dlq,
    }

    def publish(message: dict[str, Any]) -> None:
        body = json.dumps(message)
        queues["webhooks"].send(body)
        if message["type"] in wiring.EMAIL_EVENT_TYPES:
            queues["emails"].send(body)

    return fanout.Transport(publish, queues["webhooks"], webhook_dlq, queues["emails"]), queues
