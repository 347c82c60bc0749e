"""Page-numbered listings over a Query (never a Scan).

DynamoDB pages by cursor, the BookingBug face by page number: page N is reached
by reading the N-1 pages before it. The total is a COUNT Query over the same
key range. Both cost reads proportional to the items listed, which suits the
catalogue's hundreds of items; the high-volume listings (bookings) also offer
cursors.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pynamodb.expressions.condition import Condition
from pynamodb.indexes import Index

from chalicelib.store import db
from chalicelib.store.models import Item

T = TypeVar("T", bound=Item)
Listed = TypeVar("Listed")


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
    page needs.
    """
    db.ensure_bound()
    partitions = [pk] if isinstance(pk, str) else list(pk)
    source: Any = index if index is not None else model
    range_key = _range_attribute(model, index)
    range_condition = range_key.startswith(sk_prefix) if sk_prefix else None
    if sort_key_between is not None:
        range_condition = range_key.between(*sort_key_between)
    total = sum(source.count(key, range_condition, filter_condition=filter_condition) for key in partitions)
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
        results = merge_by(streams, range_key.attr_name, newest_first=newest_first)
        for position, item in enumerate(results):
            if position >= skip + per_page:
                break
            if position >= skip and isinstance(item, model):
                items.append(item)
    return Page(items, total, page, per_page)


def merge_by(streams: Sequence[Iterable[Listed]], attribute: str, *, newest_first: bool) -> Iterator[Listed]:
    """Merge Query results that are each sorted on ``attribute`` into one sorted stream.

    Lazy: an item is pulled from a partition's Query only when it may come next, so
    a page reads each partition no further than the page reaches.
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
