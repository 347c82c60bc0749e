"""BookingBug "anyone" and named-person slots under real concurrency on DynamoDB Local.

Basket holds claim time in their own transaction: ten "anyone" bookers on three people
end with exactly three holds, one per person; bookers of overlapping slots (offsets of
30 minutes) on one person never both hold an instant. The control run switches the
claim check off and MUST double-book: the per-slot seat alone does not stop overlaps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.domain.time_claims import TimeTaken
from chalicelib.services.catalogue import catalogue, resources
from chalicelib.services.identity import companies
from chalicelib.services.selling import baskets
from chalicelib.store import claim_days, db
from tests.integration.races import hammer

pytestmark = pytest.mark.integration

MONDAY = "2031-01-06"


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _staffed(company_id: int, people: int) -> tuple[int, list[int]]:
    ids = [
        int(resources.create(company_id, {"name": f"P{n}", "timezone": "Europe/London"}, kind="person").resource_id)
        for n in range(people)
    ]
    service = catalogue.create_service(
        company_id,
        {"name": "Consult", "duration": 60, "booking_time_step": 30, "max_advance_period": 10 * 365 * 86_400}
        | {"person_ids": ids},
    )
    return int(service.service_id), ids


def _add(company_id: int, service_id: int, minutes: int, person: int | None, check: bool = True) -> Any:
    choices = baskets.pick_slot(company_id, service_id, MONDAY, minutes, None, person)
    return baskets.add_first_free(company_id, None, choices, 1, check=check)


def _held(company_id: int, person: int) -> list[tuple[datetime, datetime]]:
    """Live claims on the person's Monday, as (busy from, busy until)."""
    day = datetime.fromisoformat(f"{MONDAY}T00:00:00+00:00").date()
    read = claim_days.read(person, day, day)
    now = clock.utcnow()
    return sorted((c.busy.start, c.busy.end) for d in read.values() for c in d.claims() if c.live(now))


def _span(basket: Any) -> tuple[datetime, datetime]:
    (entry,) = baskets.items_of(basket)
    start = db.parse_iso(str(entry["datetime"]))
    return start, start + timedelta(minutes=int(entry["duration"]))


def _overlaps(spans: list[tuple[datetime, datetime]]) -> int:
    return sum(1 for (_s1, e1), (s2, _e2) in pairwise(spans) if s2 < e1)


def test_ten_anyone_bookers_on_three_people_exactly_three_win(company_id: int) -> None:
    service_id, people = _staffed(company_id, 3)
    results = hammer(10, [partial(_add, company_id, service_id, 10 * 60, None) for _ in range(10)])
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if not isinstance(r, tuple)]
    assert len(won) == 3
    assert all(isinstance(r, TimeTaken) for r in lost), lost
    for person in people:
        assert len(_held(company_id, person)) == 1  # one each: nobody double-booked, nobody left idle


def test_overlapping_slots_on_one_person_never_share_an_instant(company_id: int) -> None:
    service_id, (person,) = _staffed(company_id, 1)
    starts = [9 * 60, 9 * 60 + 30, 10 * 60, 10 * 60 + 30] * 4
    results = hammer(8, [partial(_add, company_id, service_id, m, person) for m in starts])
    won = [r for r in results if isinstance(r, tuple)]
    assert won
    assert _overlaps(sorted(_span(basket) for basket, _token in won)) == 0
    held = _held(company_id, person)
    assert len(held) == len(won) and _overlaps(held) == 0, held


def test_control_without_the_claim_check_double_books(company_id: int) -> None:
    service_id, (person,) = _staffed(company_id, 1)
    starts = [9 * 60, 9 * 60 + 30, 10 * 60, 10 * 60 + 30] * 4
    results = hammer(8, [partial(_add, company_id, service_id, m, person, False) for m in starts])
    won = [r for r in results if isinstance(r, tuple)]
    # Without conditions the day items' writes even overwrite each other, so count the holds.
    assert _overlaps(sorted(_span(basket) for basket, _token in won)) > 0  # the check is what prevents it
