"""Waitlists on the v2 face (issue 14, section 5): join a full group, leave, offers on cancel,
booking with the offer's hold or its one-click link, an offer lapsing to the next in line,
and what the webhook and the email carry. Non-concurrent behaviour; the races are in
tests/integration/test_waitlist_races.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from chalicelib.services.messaging import fanout, mail
from chalicelib.services.selling import sweeper
from chalicelib.settings import reset_settings
from tests.conftest import ROOT, Api, Tenant

GROUP = {
    "graph": "group_owner",
    "settings": {"max_seats": 2},
    "start": "2031-09-30T08:00:00+00:00",
    "end": "2031-09-30T09:00:00+00:00",
    "what": "Flux capacitance",
}


def _who(n: int) -> dict[str, str]:
    return {"name": f"Customer {n}", "email": f"c{n}@example.com"}


def _full_group(api: Api, tenant: Tenant) -> tuple[str, list[str]]:
    owner = api.post("/v2/bookings", GROUP, tenant.v2)
    assert owner.status == 201, owner.body
    group_id = str(owner.body["data"]["id"])
    seats = []
    for n in range(2):
        seat = api.post(
            "/v2/bookings",
            {"graph": "group_customer", "related": {"owner_booking_id": group_id}, "customer": _who(100 + n)},
            tenant.v2,
        )
        assert seat.status == 201, seat.body
        seats.append(str(seat.body["data"]["id"]))
    return group_id, seats


def _join(api: Api, tenant: Tenant, group_id: str, n: int) -> dict[str, Any]:
    reply = api.post(f"/v2/bookings/groups/{group_id}/waitlist", {"customer": _who(n)}, tenant.v2)
    assert reply.status == 201, reply.body
    data: dict[str, Any] = reply.body["data"]
    return data


def _outbox(table: str, prefix: str = "waitlist.") -> list[dict[str, Any]]:
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    records = [{"eventName": "INSERT", "dynamodb": {"NewImage": item}} for item in items]
    events = [e for e in (fanout._from_stream(r) for r in records) if e is not None]
    return sorted((e for e in events if str(e["type"]).startswith(prefix)), key=lambda e: e["occurred_at"])


def _types(table: str) -> list[str]:
    """The waitlist event types written, sorted (events of one second have no order to compare)."""
    return sorted(str(e["type"]) for e in _outbox(table))


def _group_counts(api: Api, tenant: Tenant, group_id: str) -> dict[str, int]:
    reply = api.get(f"/v2/bookings/groups/{group_id}", tenant.v2)
    assert reply.status == 200, reply.body
    counts: dict[str, int] = reply.body["data"]["attributes"]["group_booking"]
    return counts


def test_join_when_seats_are_free_is_refused(api: Api, tenant: Tenant, moto_table: str) -> None:
    owner = api.post("/v2/bookings", GROUP, tenant.v2)
    group_id = owner.body["data"]["id"]
    reply = api.post(f"/v2/bookings/groups/{group_id}/waitlist", {"customer": _who(1)}, tenant.v2)
    assert reply.status == 409
    assert reply.error["code"] == "spaces_left" and "2 seats are free" in reply.error["message"]
    assert _outbox(moto_table) == []


def test_join_a_full_group_in_order_shows_the_length(api: Api, tenant: Tenant, moto_table: str) -> None:
    group_id, _seats = _full_group(api, tenant)
    first, second = _join(api, tenant, group_id, 1), _join(api, tenant, group_id, 2)
    assert first["status"] == "waiting" and first["customer"]["email"] == "c1@example.com"
    assert first["event_info"]["what"] == "Flux capacitance"
    assert _group_counts(api, tenant, group_id)["waitlist_length"] == 2
    listed = api.get(f"/v2/bookings/groups/{group_id}/waitlist", tenant.v2)
    assert [e["id"] for e in listed.body["data"]] == [first["id"], second["id"]]
    assert listed.body["waitlist_length"] == 2
    again = api.post(f"/v2/bookings/groups/{group_id}/waitlist", {"customer": _who(1)}, tenant.v2)
    assert again.status == 409 and again.error["code"] == "already_waiting"
    joined = _outbox(moto_table)
    assert [e["type"] for e in joined] == ["waitlist.joined", "waitlist.joined"]
    assert {e["data"]["customers"][0]["email"] for e in joined} == {"c1@example.com", "c2@example.com"}


def test_join_refuses_bad_input_and_unknown_groups(api: Api, tenant: Tenant) -> None:
    group_id, _seats = _full_group(api, tenant)
    bad = api.post(f"/v2/bookings/groups/{group_id}/waitlist", {"customer": {"name": "x"}}, tenant.v2)
    assert bad.status == 422 and bad.error["field"] == "customer.email"
    zero = api.post(f"/v2/bookings/groups/{group_id}/waitlist", {"customer": _who(1), "seats": 0}, tenant.v2)
    assert zero.status == 422 and zero.error["field"] == "seats"
    missing = api.post(
        "/v2/bookings/groups/00000000-0000-4000-8000-000000000000/waitlist", {"customer": _who(1)}, tenant.v2
    )
    assert missing.status == 404
    unknown_entry = api.delete(f"/v2/bookings/groups/{group_id}/waitlist/nope", tenant.v2)
    assert unknown_entry.status == 404


def test_leave_the_queue(api: Api, tenant: Tenant, moto_table: str) -> None:
    group_id, _seats = _full_group(api, tenant)
    entry = _join(api, tenant, group_id, 1)
    left = api.delete(f"/v2/bookings/groups/{group_id}/waitlist/{entry['id']}", tenant.v2)
    assert left.status == 200 and left.body["data"]["status"] == "left"
    assert _group_counts(api, tenant, group_id)["waitlist_length"] == 0
    twice = api.delete(f"/v2/bookings/groups/{group_id}/waitlist/{entry['id']}", tenant.v2)
    assert twice.status == 409 and twice.error["code"] == "waitlist_left"
    assert _types(moto_table) == ["waitlist.joined", "waitlist.left"]


def test_a_cancel_offers_the_seat_to_the_head_and_the_hold_books_it(api: Api, tenant: Tenant, moto_table: str) -> None:
    group_id, seats = _full_group(api, tenant)
    first, second = _join(api, tenant, group_id, 1), _join(api, tenant, group_id, 2)
    cancelled = api.put(f"/v2/bookings/{seats[0]}/cancel_by_customer", {}, tenant.v2)
    assert cancelled.status == 200, cancelled.body
    counts = _group_counts(api, tenant, group_id)
    # the freed seat never became available: it is held for the head of the queue
    assert (counts["available_seats"], counts["held_seats"], counts["waitlist_length"]) == (0, 1, 1)
    listed = api.get(f"/v2/bookings/groups/{group_id}/waitlist", tenant.v2).body["data"]
    assert [(e["id"], e["status"]) for e in listed] == [(first["id"], "offered"), (second["id"], "waiting")]
    reservation_id = listed[0]["offer"]["reservation_id"]
    outsider = api.post(
        "/v2/bookings",
        {"graph": "group_customer", "related": {"owner_booking_id": group_id}, "customer": _who(9)},
        tenant.v2,
    )
    assert outsider.status == 409 and outsider.error["code"] == "no_space_left"
    booked = api.post(
        "/v2/bookings",
        {
            "graph": "group_customer",
            "related": {"owner_booking_id": group_id},
            "customer": _who(1),
            "reservation_id": reservation_id,
        },
        tenant.v2,
    )
    assert booked.status == 201, booked.body
    counts = _group_counts(api, tenant, group_id)
    assert (counts["current_seats"], counts["held_seats"], counts["waitlist_length"]) == (2, 0, 1)
    assert [e["id"] for e in api.get(f"/v2/bookings/groups/{group_id}/waitlist", tenant.v2).body["data"]] == [
        second["id"]
    ]
    assert _types(moto_table) == ["waitlist.booked", "waitlist.joined", "waitlist.joined", "waitlist.offered"]


def test_an_offer_that_lapses_passes_to_the_next_in_line(
    api: Api, tenant: Tenant, moto_table: str, travel: Callable[[float], None]
) -> None:
    group_id, seats = _full_group(api, tenant)
    first, second = _join(api, tenant, group_id, 1), _join(api, tenant, group_id, 2)
    api.put(f"/v2/bookings/{seats[0]}/cancel_by_customer", {}, tenant.v2)
    travel(30 * 60 + 1)  # the default offer window is 30 minutes
    sweeper.sweep()
    listed = api.get(f"/v2/bookings/groups/{group_id}/waitlist", tenant.v2).body["data"]
    assert [(e["id"], e["status"]) for e in listed] == [(second["id"], "offered")]
    counts = _group_counts(api, tenant, group_id)
    assert (counts["available_seats"], counts["held_seats"], counts["waitlist_length"]) == (0, 1, 0)
    # the lapse and the next offer are one transaction: their events share a moment
    events = sorted((e["type"], e["subject_id"]) for e in _outbox(moto_table) if e["type"] != "waitlist.joined")
    assert events == sorted(
        [("waitlist.offered", first["id"]), ("waitlist.lapsed", first["id"]), ("waitlist.offered", second["id"])]
    )
    # the queue is empty now: the next freed seat is simply free
    travel(2 * (30 * 60 + 1))
    sweeper.sweep()
    counts = _group_counts(api, tenant, group_id)
    assert (counts["available_seats"], counts["held_seats"]) == (1, 0)


def test_leaving_with_an_offer_passes_it_on(api: Api, tenant: Tenant) -> None:
    group_id, seats = _full_group(api, tenant)
    first, second = _join(api, tenant, group_id, 1), _join(api, tenant, group_id, 2)
    api.put(f"/v2/bookings/{seats[0]}/cancel_by_customer", {}, tenant.v2)
    left = api.delete(f"/v2/bookings/groups/{group_id}/waitlist/{first['id']}", tenant.v2)
    assert left.status == 200 and left.body["data"]["status"] == "left"
    listed = api.get(f"/v2/bookings/groups/{group_id}/waitlist", tenant.v2).body["data"]
    assert [(e["id"], e["status"]) for e in listed] == [(second["id"], "offered")]
    assert _group_counts(api, tenant, group_id)["held_seats"] == 1


def test_the_company_sets_the_offer_window(api: Api, tenant: Tenant, travel: Callable[[float], None]) -> None:
    assert api.get(f"/platform/companies/{tenant.id}", ROOT).body["waitlist_offer_time"] == 1800
    changed = api.put(f"/platform/companies/{tenant.id}", {"allowed_origins": None, "waitlist_offer_time": 600}, ROOT)
    assert changed.status == 200 and changed.body["waitlist_offer_time"] == 600
    too_short = api.put(f"/platform/companies/{tenant.id}", {"allowed_origins": None, "waitlist_offer_time": 5}, ROOT)
    assert too_short.status == 422 and too_short.error["field"] == "waitlist_offer_time"
    group_id, seats = _full_group(api, tenant)
    _join(api, tenant, group_id, 1)
    api.put(f"/v2/bookings/{seats[0]}/cancel_by_customer", {}, tenant.v2)
    travel(601)
    sweeper.sweep()
    assert _group_counts(api, tenant, group_id)["available_seats"] == 1


@pytest.fixture
def mail_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    reset_settings()
    return tmp_path


def test_the_offer_webhook_and_email_carry_a_one_click_link_that_books_once(
    api: Api, tenant: Tenant, moto_table: str, mail_dir: Path
) -> None:
    group_id, seats = _full_group(api, tenant)
    entry = _join(api, tenant, group_id, 1)
    api.put(f"/v2/bookings/{seats[0]}/cancel_by_customer", {}, tenant.v2)
    (offered,) = [e for e in _outbox(moto_table) if e["type"] == "waitlist.offered"]
    data = offered["data"]
    assert data["id"] == entry["id"] and data["status"] == "offered" and data["owner_booking_id"] == group_id
    assert data["customers"][0]["email"] == "c1@example.com"
    assert data["offer"]["seats"] == 1 and data["offer"]["reservation_id"] and data["offer"]["expires_at"]
    assert offered["notify"] == ["notify_customer_by_email", "trigger_webhook"]

    assert mail.handle(json.dumps(offered)) == ["customer"]
    (path,) = sorted(mail_dir.glob("*waitlist-offered-customer.eml"))
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert message["To"] == "c1@example.com" and "Flux capacitance" in str(message["Subject"])
    text = message.get_body(("plain",))
    assert text is not None
    body = str(text.get_content())
    assert data["offer"]["expires_at"] in body
    link = next(line for line in body.splitlines() if line.startswith("Book it: ")).removeprefix("Book it: ")
    parts = urlsplit(link)
    assert parts.path == f"/v2/waitlist/offers/{data['offer']['reservation_id']}/book"

    booked = api.get(f"{parts.path}?{parts.query}", {})
    assert booked.status == 201, booked.body
    assert booked.body["data"]["customers"][0]["email"] == "c1@example.com"
    assert booked.body["data"]["graph"] == "group_customer"
    assert _group_counts(api, tenant, group_id)["current_seats"] == 2
    twice = api.get(f"{parts.path}?{parts.query}", {})
    assert twice.status == 409 and twice.error["code"] == "hold_expired"
    tampered = api.get(f"{parts.path}?signature=x{parts.query[11:]}", {})
    assert tampered.status == 401


def test_a_seat_freed_while_a_join_is_written_goes_to_the_queue(
    api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The join's "full" check is a read: a seat freed between it and the entry's write left with
    an empty queue. The join then offers it to the head, rather than leave the customer waiting."""
    from chalicelib.services.selling import capacity

    group_id, seats = _full_group(api, tenant)
    api.put(f"/v2/bookings/{seats[0]}/cancel_by_customer", {}, tenant.v2)  # nobody waiting: simply free
    assert _group_counts(api, tenant, group_id)["available_seats"] == 1
    real = capacity.read
    seen = {"reads": 0}

    def stale_once(capacity_id: str, shards: int) -> capacity.Availability:
        seen["reads"] += 1
        found = real(capacity_id, shards)
        # the join's own check runs first: it read before the cancel committed
        return found if seen["reads"] > 1 else capacity.Availability(found.capacity, 2, 0, 0, True)

    monkeypatch.setattr(capacity, "read", stale_once)
    joined = _join(api, tenant, group_id, 1)
    monkeypatch.setattr(capacity, "read", real)
    assert joined["status"] == "offered" and joined["offer"]["reservation_id"]
    counts = _group_counts(api, tenant, group_id)
    assert (counts["available_seats"], counts["held_seats"], counts["waitlist_length"]) == (0, 1, 0)
