"""Benchmark of a spread listing's reads, on DynamoDB Local.

``spread_listing``: a company's booking listing (``keys.BOOKING_LISTING_PARTITIONS`` = 16
index partitions, 2,000 bookings) read a page at a time through ``pages.query_page``, as
``GET /v2/bookings`` reads it: side by side (the partitions' COUNTs, then their first
pages, on ``pages.PARTITION_THREADS`` threads), against the same reads one after another
(``pages.side_by_side`` replaced by a loop, which is how they were read before) in the
same run, the two alternating. Both must list the same page; the figure is the ratio of
their medians.

DynamoDB Local answers from one JVM on this machine's cores, so it shows less of the gain
than DynamoDB, where each call is a network round trip and side by side they overlap.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from devtools.bench import Result
from devtools.bench_fanout import _environment
from devtools.ddb_local import DynamoDBLocal, free_port

BOOKINGS = 2_000
COMPANY = 7
PAGES = ((1, 20), (5, 20))  # (page, per page) read each round: the first page, and one a few pages in
WARM_UP = 3
TARGET_RATIO = 0.8  # side by side at most 0.8 of the sequential time, in one run

Result_ = TypeVar("Result_")


def _one_after_another(calls: Sequence[Callable[[], Result_]]) -> list[Result_]:
    return [call() for call in calls]


def _fill(client: Any, table: str) -> None:
    """``BOOKINGS`` bookings of one company, spread over its listing partitions as a sale writes them."""
    from chalicelib.store import keys

    def batch(start: int) -> None:
        requests = []
        for n in range(start, min(start + 25, BOOKINGS)):
            booking_id = str(uuid.uuid4())
            created = f"2031-01-01T{n // 3600:02}:{n // 60 % 60:02}:{n % 60:02}Z"
            item = {
                "pk": {"S": keys.booking_pk(booking_id)},
                "sk": {"S": keys.BOOKING_SK},
                "kind": {"S": "booking"},
                "booking_id": {"S": booking_id},
                "company_id": {"N": str(COMPANY)},
                "graph": {"S": "instant"},
                "state": {"S": "confirmed"},
                "created_at": {"S": created},
                "updated_at": {"S": created},
                "gsi1pk": {
                    "S": keys.company_bookings(COMPANY, keys.spread(booking_id, keys.BOOKING_LISTING_PARTITIONS))
                },
                "gsi1sk": {"S": f"{created}#{booking_id}"},
            }
            requests.append({"PutRequest": {"Item": item}})
        unprocessed: dict[str, Any] = {table: requests}
        while unprocessed:
            unprocessed = client.batch_write_item(RequestItems=unprocessed).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(batch, range(0, BOOKINGS, 25)))


def spread_listing(runs: int) -> Result:
    server = DynamoDBLocal(free_port(), None)
    server.start()
    try:
        client = _environment(server, "bench-listing")
        _fill(client, "bench-listing")
        from chalicelib.store import keys, pages
        from chalicelib.store.models import Booking

        partitions = keys.company_booking_partitions(COMPANY)
        side_by_side = pages.side_by_side

        def read_pages() -> tuple[float, list[list[str]]]:
            started = time.perf_counter()
            listed = []
            for page, per_page in PAGES:
                found = pages.query_page(
                    Booking, partitions, "", page, per_page, index=Booking.listing, newest_first=True
                )
                assert found.total == BOOKINGS
                listed.append([item.booking_id for item in found.items])
            return time.perf_counter() - started, listed

        def sequential() -> tuple[float, list[list[str]]]:
            pages.side_by_side = _one_after_another  # the reads as they were
            try:
                return read_pages()
            finally:
                pages.side_by_side = side_by_side

        for _ in range(WARM_UP):
            read_pages()
            sequential()
        concurrent_seconds: list[float] = []
        sequential_seconds: list[float] = []
        for _ in range(max(runs, 3)):
            seconds, listed = read_pages()
            concurrent_seconds.append(seconds)
            seconds, expected = sequential()
            sequential_seconds.append(seconds)
            assert listed == expected, "side by side listed another page than one after another"
        side = statistics.median(concurrent_seconds)
        loop = statistics.median(sequential_seconds)
        ratio = side / loop
        summary = (
            f"{len(PAGES)} pages of {BOOKINGS} bookings over {len(partitions)} partitions: side by side "
            f"{side * 1000:.0f} ms, one after another {loop * 1000:.0f} ms (medians of {len(concurrent_seconds)}), "
            f"ratio {ratio:.2f} (target <= {TARGET_RATIO})"
        )
        return Result(
            summary,
            {
                "bookings": BOOKINGS,
                "partitions": len(partitions),
                "threads": pages.PARTITION_THREADS,
                "pages": [list(p) for p in PAGES],
                "side_by_side_seconds": concurrent_seconds,
                "sequential_seconds": sequential_seconds,
                "ratio": ratio,
                "target_ratio": TARGET_RATIO,
            },
            ok=ratio <= TARGET_RATIO,
        )
    finally:
        server.stop()
