"""No double booking of time, under real concurrency on DynamoDB Local.

Clients race for one resource and hour, for overlapping intervals, and for "anyone of
three"; at most one booking ever holds an instant of a resource. The control run
switches the claim check off and MUST double-book, which shows the race is real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise

import pytest

from chalicelib.domain.errors import BookingError, Conflict
from chalicelib.domain.time_claims import TimeTaken
from chalicelib.services.catalogue import resources
from chalicelib.services.identity import companies
from chalicelib.services.selling import bookings, time_claims
from chalicelib.services.selling.bookings import NewBooking
from chalicelib.services.selling.time_claims import TimeAsk
from chalicelib.store.models import Booking
from tests.integration.races import hammer

pytestmark = pytest.mark.integration

BASE = datetime(2031, 1, 10, 9, tzinfo=UTC)
CUSTOMER = {"name": "Marty", "email": "marty@example.com"}


@pytest.fixture
def company_id(ddb_table: str) -> int:
    return int(companies.create_company("Acme", "a@example.com", "correct horse battery").company.company_id)


def _resource(company_id: int, name: str = "Doc Brown") -> int:
    return int(resources.create(company_id, {"name": name, "timezone": "Europe/London"}).resource_id)


def _event(start_minutes: int, length_minutes: int = 60) -> dict[str, str]:
    start = BASE + timedelta(minutes=start_minutes)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=length_minutes)).isoformat(), "what": "Visit"}


def _book(
    company_id: int, resource_ids: tuple[int, ...], start_minutes: int, check: bool = True, graph: str = "instant"
) -> Booking:
    return bookings.create(
        company_id,
        NewBooking(
            graph=graph, event=_event(start_minutes), customer=CUSTOMER, time=TimeAsk(resource_ids, check=check)
        ),
    )


def _interval(booking: Booking) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(str(booking.start_at).replace("Z", "+00:00")), datetime.fromisoformat(
        str(booking.end_at).replace("Z", "+00:00")
    )


def test_twenty_clients_one_resource_one_hour_exactly_one_wins(company_id: int) -> None:
    doc = _resource(company_id)
    results = hammer(20, [partial(_book, company_id, (doc,), 0)] * 20)
    won = [r for r in results if isinstance(r, Booking)]
    lost = [r for r in results if not isinstance(r, Booking)]
    assert len(won) == 1, results
    assert len(lost) == 19 and all(isinstance(r, TimeTaken) and r.code == "time_taken" for r in lost), lost
    assert time_claims.owners_on(doc, ["2031-01-10"]) == {won[0].booking_id}
    assert bookings.snapshot(won[0])["resource"] == {"id": str(doc), "name": "Doc Brown", "timezone": "Europe/London"}


def test_overlapping_intervals_never_share_an_instant(company_id: int) -> None:
    doc = _resource(company_id)
    offsets = [15 * k for k in range(12)] * 2  # hour-long asks every 15 and 30 minutes, each twice
    results = hammer(24, [partial(_book, company_id, (doc,), offset) for offset in offsets])
    won = [r for r in results if isinstance(r, Booking)]
    assert won and all(isinstance(r, Conflict) for r in results if not isinstance(r, Booking))
    spans = sorted(_interval(b) for b in won)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start, spans
    assert time_claims.owners_on(doc, ["2031-01-10"]) == {b.booking_id for b in won}


def test_control_without_the_claim_check_double_books(company_id: int) -> None:
    doc = _resource(company_id)
    results = hammer(20, [partial(_book, company_id, (doc,), 0, False)] * 20)
    won = [r for r in results if isinstance(r, Booking)]
    assert len(won) > 1, "with the claim check off the race must double-book, or the test cannot see it"


def test_round_robin_three_resources_ten_clients_exactly_three_win(company_id: int) -> None:
    team = tuple(_resource(company_id, name) for name in ("Ann", "Bob", "Cy"))
    results = hammer(10, [partial(_book, company_id, team, 0)] * 10)
    won = [r for r in results if isinstance(r, Booking)]
    assert len(won) == 3, results
    assert sorted(int(b.resource["id"]) for b in won) == sorted(team)
    assert all(isinstance(r, TimeTaken) for r in results if not isinstance(r, Booking))


def test_concurrent_cancels_release_the_time_once_and_it_can_be_booked_again(company_id: int) -> None:
    doc = _resource(company_id)
    first = _book(company_id, (doc,), 0)
    results = hammer(10, [partial(bookings.act, company_id, first.booking_id, "cancel", {})] * 10)
    assert sum(isinstance(r, Booking) for r in results) == 1
    assert time_claims.owners_on(doc, ["2031-01-10"]) == set()
    again = _book(company_id, (doc,), 0)
    assert time_claims.owners_on(doc, ["2031-01-10"]) == {again.booking_id}


def test_pending_requests_hold_their_time_and_a_decline_frees_it(company_id: int) -> None:
    doc = _resource(company_id)
    pending = _book(company_id, (doc,), 0, graph="confirm_decline")
    assert pending.state == "tentative"
    with pytest.raises(TimeTaken):
        _book(company_id, (doc,), 30, graph="confirm_decline")
    bookings.act(company_id, pending.booking_id, "decline", {})
    assert _book(company_id, (doc,), 30, graph="confirm_decline").state == "tentative"


def test_reschedule_claims_the_new_time_and_releases_the_old_or_nothing(company_id: int) -> None:
    doc = _resource(company_id)
    moving = _book(company_id, (doc,), 0)
    other = _book(company_id, (doc,), 180)
    late = BASE + timedelta(minutes=150)
    # Onto the other booking: refused, and nothing changed.
    with pytest.raises(TimeTaken):
        bookings.reschedule(
            company_id, moving.booking_id, late.isoformat(), (late + timedelta(hours=1)).isoformat(), None
        )
    assert bookings.get(company_id, moving.booking_id).state == "confirmed"
    assert time_claims.owners_on(doc, ["2031-01-10"]) == {moving.booking_id, other.booking_id}
    # Overlapping its own old time: allowed, the old claim is released in the same transaction.
    soon = BASE + timedelta(minutes=30)
    moved = bookings.reschedule(
        company_id, moving.booking_id, soon.isoformat(), (soon + timedelta(hours=1)).isoformat(), None
    )
    assert time_claims.owners_on(doc, ["2031-01-10"]) == {moved.booking_id, other.booking_id}
    assert bookings.get(company_id, moving.booking_id).state == "rescheduled_by_customer"
    assert _book(company_id, (doc,), -30).state == "confirmed"  # 08:30-09:30 overlaps only the old time


def test_a_reservation_of_time_becomes_exactly_one_booking(company_id: int) -> None:
    from chalicelib.services.selling import holds

    doc = _resource(company_id)
    hold = holds.place_time(company_id, TimeAsk((doc,)), _event(0), 300, {})
    results = hammer(
        10,
        [partial(bookings.create, company_id, NewBooking(graph="instant", reservation_id=hold.hold_id))] * 10,
    )
    won = [r for r in results if isinstance(r, Booking)]
    assert len(won) == 1, results
    lost = [r for r in results if not isinstance(r, Booking)]
    assert all(isinstance(r, Conflict) and r.code == "hold_expired" for r in lost), lost
    assert time_claims.owners_on(doc, ["2031-01-10"]) == {won[0].booking_id}
    assert holds.get(company_id, hold.hold_id).status == "converted"


def test_release_racing_the_sweeper_frees_a_reserved_time_once(company_id: int) -> None:
    import time

    from chalicelib.services.selling import holds

    doc = _resource(company_id)
    for _ in range(5):
        hold = holds.place_time(company_id, TimeAsk((doc,)), _event(0), 1, {})
        lapsed = time.time() + 5
        results = hammer(
            4,
            [
                partial(holds.release, company_id, hold.hold_id),
                partial(holds.expire, hold, lapsed),
                partial(holds.expire, hold, lapsed),
                partial(holds.release, company_id, hold.hold_id),
            ],
        )
        ended = [r for r in results if r is True or not isinstance(r, bool | BookingError)]
        assert len(ended) == 1, results
        assert time_claims.owners_on(doc, ["2031-01-10"]) == set()


def test_ten_clients_on_different_times_of_one_day_all_win(company_id: int) -> None:
    doc = _resource(company_id)
    # Ten back-to-back hours of one UTC day: no overlap, but every claim writes the same day
    # item, so each round of the race only one commits; the others must re-read and win later,
    # never be refused.
    results = hammer(10, [partial(_book, company_id, (doc,), 60 * k - 540) for k in range(10)])
    assert all(isinstance(r, Booking) for r in results), [getattr(r, "code", r) for r in results]
    assert len(time_claims.owners_on(doc, ["2031-01-10"])) == 10
