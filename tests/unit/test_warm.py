"""store/warm.py: catalogue reads remembered a few seconds per process (issue 15)."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import NotFound
from chalicelib.store import warm


@pytest.fixture(autouse=True)
def _empty() -> None:
    warm.forget_all()


def test_a_read_is_remembered_for_its_seconds_then_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("chalicelib.store.warm.time.monotonic", lambda: now[0])
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return f"read {len(loads)}"

    assert warm.read(7, "company", load) == "read 1"
    now[0] += warm.SECONDS - 0.1
    assert warm.read(7, "company", load) == "read 1"  # remembered: no second read
    assert warm.read(8, "company", load) == "read 2"  # another company is its own entry
    now[0] += 0.2
    assert warm.read(7, "company", load) == "read 3"  # past SECONDS: read again


def test_forget_drops_one_company_and_not_found_is_never_remembered() -> None:
    assert warm.read(7, "event 1", lambda: "old") == "old"
    assert warm.read(8, "event 1", lambda: "other") == "other"
    warm.forget(7)  # this process wrote to company 7's catalogue
    assert warm.read(7, "event 1", lambda: "new") == "new"
    assert warm.read(8, "event 1", lambda: "not read") == "other"

    def missing() -> str:
        raise NotFound("event not found", field="event_id")

    with pytest.raises(NotFound):
        warm.read(9, "event 2", missing)
    assert warm.read(9, "event 2", lambda: "created since") == "created since"
