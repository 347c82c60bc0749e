"""store/pages.py: a spread listing reads its partitions side by side, and merges them lazily.

``merge_partitions`` reads each partition's first page on its own thread (at most
``PARTITION_THREADS`` at once, none for a single partition), later pages on the calling
thread only when the merge reaches them; ``side_by_side`` runs the COUNTs the same way.
The partitions here are fakes that page like a Query and record every page they read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

import pytest

from chalicelib.store import pages

WAIT = 30.0  # only a guard against a hang: every wait below is released by the test itself


@dataclass(frozen=True)
class Listed:
    sk: str


@dataclass
class Partition:
    """Pages of items, read one page at a time like a Query's result iterator."""

    name: str
    pages: list[list[str]]
    before_first_page: threading.Barrier | threading.Event | None = None
    fails_on_page: int | None = None
    error: Exception = field(default_factory=lambda: RuntimeError("partition unavailable"))
    read: list[tuple[int, int]] = field(default_factory=list)  # (page, thread id) of every page read

    def __iter__(self) -> Iterator[Listed]:
        for number, page in enumerate(self.pages):
            if number == 0 and isinstance(self.before_first_page, threading.Barrier):
                self.before_first_page.wait()
            elif number == 0 and isinstance(self.before_first_page, threading.Event):
                assert self.before_first_page.wait(WAIT)
            self.read.append((number, threading.get_ident()))
            if number == self.fails_on_page:
                raise self.error
            yield from (Listed(sk) for sk in page)


def _sks(items: Iterator[Listed]) -> list[str]:
    return [item.sk for item in items]


def test_partitions_merge_in_sort_key_order_across_pages() -> None:
    partitions = [
        Partition("a", [["01", "04"], ["07", "10"]]),
        Partition("b", [["02", "03"], ["08"], ["11"]]),
        Partition("c", []),
        Partition("d", [["05", "06", "09"], ["12"]]),
    ]
    merged = pages.merge_partitions(partitions, "sk", newest_first=False)
    assert _sks(merged) == [f"{n:02}" for n in range(1, 13)]


def test_newest_first_merges_descending() -> None:
    partitions = [Partition("a", [["9", "5"], ["1"]]), Partition("b", [["8", "7"], ["2"]]), Partition("c", [["6"]])]
    merged = pages.merge_partitions(partitions, "sk", newest_first=True)
    assert _sks(merged) == ["9", "8", "7", "6", "5", "2", "1"]


def test_a_partition_is_read_only_as_far_as_the_merge_reaches() -> None:
    a = Partition("a", [["1", "2"], ["5"], ["9"]])
    b = Partition("b", [["3", "4"], ["6"]])
    merged = pages.merge_partitions([a, b], "sk", newest_first=False)
    assert [page for page, _ in a.read] == [0] and [page for page, _ in b.read] == [0]  # first pages only
    assert [next(merged).sk for _ in range(3)] == ["1", "2", "3"]
    assert [page for page, _ in a.read] == [0, 1]  # a's second page: its next item may come next
    assert [page for page, _ in b.read] == [0]
    assert next(merged).sk == "4"
    assert [page for page, _ in b.read] == [0]  # b's next item is not needed yet
    assert next(merged).sk == "5"
    assert [page for page, _ in a.read] == [0, 1] and [page for page, _ in b.read] == [0, 1]
    assert next(merged).sk == "6"
    assert [page for page, _ in a.read] == [0, 1, 2]  # never further than the merge has come
    assert [page for page, _ in b.read] == [0, 1]


def test_first_pages_are_read_side_by_side_and_later_pages_on_the_calling_thread() -> None:
    together = threading.Barrier(3, timeout=WAIT)  # broken unless all three first pages wait at once
    partitions = [Partition(name, [[f"{name}1"], [f"{name}2"]], before_first_page=together) for name in "abc"]
    merged = _sks(pages.merge_partitions(partitions, "sk", newest_first=False))
    assert merged == ["a1", "a2", "b1", "b2", "c1", "c2"]
    caller = threading.get_ident()
    first_page_threads = {thread for p in partitions for page, thread in p.read if page == 0}
    assert caller not in first_page_threads and len(first_page_threads) == 3
    assert {thread for p in partitions for page, thread in p.read if page > 0} == {caller}


def test_a_single_partition_is_read_on_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a single partition needs no thread pool")

    monkeypatch.setattr(pages, "ThreadPoolExecutor", no_pool)
    only = Partition("a", [["1", "2"], ["3"]])
    assert _sks(pages.merge_partitions([only], "sk", newest_first=False)) == ["1", "2", "3"]
    assert {thread for _, thread in only.read} == {threading.get_ident()}
    assert pages.side_by_side([lambda: 7]) == [7]


def test_no_more_than_partition_threads_read_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PARTITION_THREADS", 2)
    lock = threading.Lock()
    in_flight = [0]
    most = [0]
    pairs = threading.Barrier(2, timeout=WAIT)  # two at once are reached (not one at a time)

    def count(n: int) -> int:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        pairs.wait()
        with lock:
            in_flight[0] -= 1
        return n

    calls = [partial(count, n) for n in range(6)]
    assert pages.side_by_side(calls) == list(range(6))  # in order
    assert most[0] == 2


def test_a_failing_first_page_raises_its_own_error() -> None:
    error = RuntimeError("DynamoDB unavailable")
    partitions = [
        Partition("a", [["1"]]),
        Partition("b", [["2"]], fails_on_page=0, error=error),
        Partition("c", [["3"]]),
    ]
    with pytest.raises(RuntimeError) as raised:
        pages.merge_partitions(partitions, "sk", newest_first=False)
    assert raised.value is error


def test_a_failing_later_page_raises_where_the_merge_reaches_it() -> None:
    error = RuntimeError("DynamoDB unavailable")
    a = Partition("a", [["1"], ["4"]], fails_on_page=1, error=error)
    merged = pages.merge_partitions([a, Partition("b", [["2", "3"]])], "sk", newest_first=False)
    assert next(merged).sk == "1"  # the merge needs a's next item only after "1"
    with pytest.raises(RuntimeError) as raised:
        list(merged)
    assert raised.value is error


def test_the_first_error_in_partition_order_is_raised_as_a_loop_would() -> None:
    second_failed = threading.Event()
    first = Partition("a", [["1"]], before_first_page=second_failed, fails_on_page=0, error=ValueError("first"))

    class SignalsFailure(Partition):
        def __iter__(self) -> Iterator[Listed]:
            second_failed.set()
            raise LookupError("second")
            yield  # a generator, like the others

    with pytest.raises(ValueError, match="first"):  # though the second one failed earlier
        pages.merge_partitions([first, SignalsFailure("b", [])], "sk", newest_first=False)


def test_an_error_is_raised_without_waiting_for_reads_under_way() -> None:
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()

    def stuck() -> int:
        started.set()
        release.wait(WAIT)  # a read that would take a timeout's length (an outage)
        finished.set()
        return 0

    def failing() -> int:
        assert started.wait(WAIT)  # the other read is under way when this one fails
        raise ConnectionError("DynamoDB unavailable")

    try:
        with pytest.raises(ConnectionError):
            pages.side_by_side([failing, stuck])
        assert not finished.is_set()  # answered before the stuck read ended
    finally:
        release.set()


def test_the_shared_client_keeps_a_connection_for_every_partition_thread() -> None:
    from chalicelib.store.models import Item

    # more threads than pooled connections would open (and drop) a connection per extra read
    assert Item.Meta.max_pool_connections >= pages.PARTITION_THREADS
