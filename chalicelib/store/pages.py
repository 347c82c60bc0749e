"""Page-numbered listings over a Query (never a Scan).

DynamoDB pages by cursor, the BookingBug face by page number: page N is reached
by reading the N-1 pages before it. The total is a COUNT Query over the same
key range. Both cost reads proportional to the items listed, which suits the
catalogue's hundreds of items; the high-volume listings (bookings) also offer
cursors.

A listing spread over partitions (to keep every key below its share of throughput)
reads one Query per partition and merges them on the sort key (``merge_partitions``):
the partitions' COUNTs, and each partition's first page, are read side by side on at
most ``PARTITION_THREADS`` threads; a partition's later pages are read on the calling
thread, only when the merge reaches them.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from pynamodb.expressions.condition import Condition
from pynamodb.indexes import Index

from chalicelib.store import db
from chalicelib.store.models import Item

T = TypeVar("T", bound=Item)
Listed = TypeVar("Listed")
Result = TypeVar("Result")

# A spread listing's partition reads (COUNTs, first pages) in flight at once. The widest
# listing (a webhook's 64 delivery partitions) takes 4 rounds; the booking and client
# listings (16 each) one.
PARTITION_THREADS = 16


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def query_page(
    model: type[T],
    pk: str | Sequence[str],
    sk_prefix: str,
    page: int,
    per_page: int,
    filter_condition: Condition | None = None,
    *,
    index: Index[Any] | None = None,
    newest_first: bool = False,
    sort_key_between: tuple[str, str] | None = None,
) -> Page[T]:
    """Page ``page`` of the items under ``pk`` whose sort key starts with ``sk_prefix``
    (or, with ``sort_key_between``, lies between the two bounds, inclusive).

    With ``index`` the Query runs on that index (whose sort key is then matched). With
    several partition keys (a listing spread over partitions) the page is their merge in
    sort-key order: one COUNT and one Query per partition, each read only as far as the
    page needs (the COUNTs side by side, then the Queries' first pages side by side; see
    ``merge_partitions``).
    """
    db.ensure_bound()
    partitions = [pk] if isinstance(pk, str) else list(pk)
    source: Any = index if index is not None else model
    range_key = _range_attribute(model, index)
    range_condition = range_key.startswith(sk_prefix) if sk_prefix else None
    if sort_key_between is not None:
        range_condition = range_key.between(*sort_key_between)
    counts = [partial(source.count, key, range_condition, filter_condition=filter_condition) for key in partitions]
    total = sum(side_by_side(counts))
    skip = (page - 1) * per_page
    items: list[T] = []
    if skip < total:
        streams = [
            source.query(
                key,
                range_condition,
                filter_condition=filter_condition,
                page_size=min(100, skip + per_page),
                scan_index_forward=not newest_first,
            )
            for key in partitions
        ]
        results = merge_partitions(streams, range_key.attr_name, newest_first=newest_first)
        for position, item in enumerate(results):
            if position >= skip + per_page:
                break
            if position >= skip and isinstance(item, model):
                items.append(item)
    return Page(items, total, page, per_page)


def merge_partitions(streams: Sequence[Iterable[Listed]], attribute: str, *, newest_first: bool) -> Iterator[Listed]:
    """The merge (``merge_by``) of a spread listing's partition Queries, each sorted on ``attribute``.

    Each partition's first item (so its first page) is read side by side (``side_by_side``)
    before this returns, exactly the reads the merge makes first anyway; the rest of a
    partition is read on the calling thread, page by page, only when the merge reaches it.
    A partition's read error is raised here (first pages) or where the merge reaches it.
    """
    return merge_by(
        side_by_side([partial(_started, stream) for stream in streams]), attribute, newest_first=newest_first
    )


def _started(stream: Iterable[Listed]) -> Iterator[Listed]:
    """``stream`` with its first item already read (so an empty one has read all it has)."""
    iterator = iter(stream)
    for first in iterator:
        return itertools.chain((first,), iterator)
    return iter(())


def side_by_side(calls: Sequence[Callable[[], Result]]) -> list[Result]:
    """Each call's result, in order, the calls run on at most ``PARTITION_THREADS`` threads
    (a single call on the calling thread, no pool).

    The models are bound on the calling thread first; they are process-wide, and PynamoDB
    keeps its per-thread botocore session itself. A call's error is raised as it is, the
    first in the calls' order (as a loop would): the calls not yet started are dropped, and
    those under way are not waited for (each ends by its own timeout), so a database outage
    is answered in one call's time, not in one per round of threads.
    """
    db.ensure_bound()
    if len(calls) <= 1:
        return [call() for call in calls]
    pool = ThreadPoolExecutor(max_workers=min(PARTITION_THREADS, len(calls)), thread_name_prefix="partition")
    futures = [pool.submit(call) for call in calls]
    try:
        results = [future.result() for future in futures]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def merge_by(streams: Sequence[Iterable[Listed]], attribute: str, *, newest_first: bool) -> Iterator[Listed]:
    """Merge Query results that are each sorted on ``attribute`` into one sorted stream.

    Lazy: an item is pulled from a partition's Query only when it may come next, so
    a page reads each partition no further than the page reaches. Reads nothing side by
    side itself: listings over Queries call ``merge_partitions``.
    """
    if len(streams) == 1:
        return iter(streams[0])
    return heapq.merge(*streams, key=lambda item: str(getattr(item, attribute)), reverse=newest_first)


def _range_attribute(model: type[T], index: Index[Any] | None) -> Any:
    if index is None:
        return model.sk
    for attribute in index.Meta.attributes.values():
        if attribute.is_range_key:
            return getattr(model, attribute.attr_name)
    raise ValueError("index without a range key")


def query_all(model: type[T], pk: str, sk_prefix: str, **kwargs: Any) -> list[T]:
    db.ensure_bound()
    return list(model.query(pk, model.sk.startswith(sk_prefix), **kwargs))
