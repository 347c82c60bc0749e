"""Seed 000's event flow through the API: basket, checkout, purchases (on moto)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.conftest import Api, Tenant, make_tenant

FUTURE = "2031-03-03"


def _chain(api: Api, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Yoga", "start_date": FUTURE, "time": "09:00", "duration": 60, "spaces": 3, "price": 1500}
    body["max_num_bookings"] = 10
    created = api.post(f"/api/v1/admin/{tenant.id}/event_chains", body | fields, tenant.admin)
    assert created.status == 201, created.body
    chain: dict[str, Any] = created.body
    return chain


def _events(api: Api, tenant: Tenant, chain_id: int) -> list[dict[str, Any]]:
    listed = api.get(
        f"/api/v1/{tenant.id}/events?event_chain_id={chain_id}&start_date=2031-03-01&end_date=2031-05-30", tenant.public
    )
    assert listed.status == 200, listed.body
    found: list[dict[str, Any]] = listed.body["_embedded"]["events"]
    return found


def _event(api: Api, tenant: Tenant, event_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/api/v1/{tenant.id}/events/{event_id}", tenant.public).body
    return found


def _add(api: Api, tenant: Tenant, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {**tenant.public, **({"Auth-Token": token} if token else {})}
    return api.post(f"/api/v1/{tenant.id}/basket/add_item", body, headers)


def _basket(tenant: Tenant, token: str) -> dict[str, str]:
    return {**tenant.public, "Auth-Token": token}


CLIENT = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}


def test_seed_000_flow_end_to_end(api: Api, tenant: Tenant) -> None:
    company = api.get(f"/api/v1/company/{tenant.id}", tenant.public)
    assert company.status == 200 and "add_item" in company.body["_links"]
    group = api.post(f"/api/v1/admin/{tenant.id}/event_groups", {"name": "Fitness"}, tenant.admin)
    assert group.status == 201
    questions = api.post(
        f"/api/v1/admin/{tenant.id}/question_groups",
        {
            "name": "Yoga intake",
            "questions": [
                {"name": "Injuries?", "detail_type": "text_field", "required": True},
                {
                    "name": "Mat",
                    "detail_type": "select-price",
                    "options": [{"name": "Own", "price": 0}, {"name": "Rent", "price": 300}],
                },
            ],
        },
        tenant.admin,
    ).body
    chain = _chain(api, tenant, event_group_id=group.body["id"], detail_group_id=questions["id"])
    assert api.get(f"/api/v1/{tenant.id}/event_groups", tenant.public).body["total_entries"] == 1
    (event,) = _events(api, tenant, chain["id"])
    asked = api.get(f"/api/v1/{tenant.id}/questions?detail_group_id={questions['id']}", tenant.public).body
    injuries, mat = asked["questions"]
    details = api.get(f"/api/v1/{tenant.id}/client_details", tenant.public)
    assert details.status == 200
    client = api.post(f"/api/v1/{tenant.id}/client", CLIENT, tenant.public)
    assert client.status == 201

    added = _add(api, tenant, {"event_id": event["id"], "num_book": 2})
    assert added.status == 201, added.body
    token = added.headers["Auth-Token"]
    assert token.startswith("bsk.")
    (item,) = added.body["_embedded"]["items"]
    assert (item["event_id"], item["num_book"], item["status"], item["total_price"]) == (event["id"], 2, "held", 3000)
    assert set(added.body["_links"]) >= {"checkout", "items", "add_item"}
    assert added.body["total_price"] == 3000 and added.body["company_id"] == tenant.id
    seats = _event(api, tenant, event["id"])
    assert (seats["spaces_reserved"], seats["spaces_booked"]) == (2, 0)

    assert api.get(f"/api/v1/{tenant.id}/basket", _basket(tenant, token)).body == added.body
    checkout = api.post(
        f"/api/v1/{tenant.id}/basket/checkout",
        {
            "client_id": client.body["id"],
            "answers": [{"id": injuries["id"], "answer": "none"}, {"id": mat["id"], "answer": "Rent", "price": 0}],
        },
        _basket(tenant, token),
    )
    assert checkout.status == 201, checkout.body
    purchase = checkout.body
    assert purchase["total_price"] == 2 * 1500 + 2 * 300  # the client's price 0 is ignored
    assert purchase["client_name"] == "Ann Lee" and purchase["long_id"]
    (booking,) = purchase["_embedded"]["bookings"]
    assert (booking["quantity"], booking["state"], booking["event_id"]) == (2, "confirmed", event["id"])
    assert [a["answer"] for a in booking["_embedded"]["answers"]] == ["none", "Rent"]
    seats = _event(api, tenant, event["id"])
    assert (seats["spaces_reserved"], seats["spaces_booked"]) == (0, 2)

    listed = api.get("/v2/bookings", tenant.v2).body
    (engine,) = listed["data"]
    assert engine["id"] == booking["id"] and engine["graph"] == "instant" and engine["state"] == "confirmed"
    assert engine["customers"][0]["email"] == "ann@example.com"
    assert engine["attributes"]["event_info"]["what"] == "Yoga"
    logs = api.get(f"/v2/bookings/{booking['id']}", tenant.v2).body["data"]["logs"]
    assert logs[-1]["state"] == "confirmed"
    again = api.post(f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, token))
    assert again.status == 409 and again.body["error"]["code"] == "basket_checked_out"
    assert api.get(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}", tenant.public).body == purchase


def test_a_full_event_answers_no_space_left_in_the_reference_shape(api: Api, tenant: Tenant) -> None:
    chain = _chain(api, tenant, spaces=2)
    (event,) = _events(api, tenant, chain["id"])
    assert _add(api, tenant, {"event_id": event["id"], "num_book": 2}).status == 201
    full = _add(api, tenant, {"event_id": event["id"]})
    assert full.status == 409
    assert full.body["message"] == "NoSpaceLeftError" and full.body["error"] == "No Space Left"
    assert full.body["data"]["event_id"] == event["id"] and full.body["data"]["name"] == "Yoga"
    # query parameters work as in the reference's links
    by_query = api.post(f"/api/v1/{tenant.id}/basket/add_item?event_id={event['id']}", None, tenant.public)
    assert by_query.status == 409 and by_query.body["message"] == "NoSpaceLeftError"


def test_basket_tokens_and_admin_tokens_do_not_mix(api: Api, tenant: Tenant) -> None:
    chain = _chain(api, tenant)
    (event,) = _events(api, tenant, chain["id"])
    token = _add(api, tenant, {"event_id": event["id"]}).headers["Auth-Token"]
    as_admin = api.get(f"/api/v1/admin/{tenant.id}/services", _basket(tenant, token))
    assert as_admin.status == 401
    as_basket = api.get(f"/api/v1/{tenant.id}/basket", tenant.admin)
    assert as_basket.status == 401
    assert api.post(f"/api/v1/{tenant.id}/basket/add_item", {"event_id": event["id"]}, tenant.admin).status == 401
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    assert api.get(f"/api/v1/{tenant.id}/basket", _basket(tenant, tampered)).status == 401
    other = make_tenant(api, "Other")
    assert api.get(f"/api/v1/{other.id}/basket", _basket(other, token)).status == 401


def test_items_are_removed_and_kept_alive_a_capped_number_of_times(api: Api, tenant: Tenant) -> None:
    chain = _chain(api, tenant)
    (event,) = _events(api, tenant, chain["id"])
    added = _add(api, tenant, {"event_id": event["id"], "num_book": 2})
    token = added.headers["Auth-Token"]
    second = _add(api, tenant, {"event_id": event["id"]}, token)
    assert second.status == 201 and len(second.body["_embedded"]["items"]) == 2
    assert second.headers["Auth-Token"] == token
    assert _event(api, tenant, event["id"])["spaces_left"] == 0
    for _ in range(3):
        alive = api.post(f"/api/v1/{tenant.id}/basket/keep_alive", None, _basket(tenant, token))
        assert alive.status == 200, alive.body
    capped = api.post(f"/api/v1/{tenant.id}/basket/keep_alive", None, _basket(tenant, token))
    assert capped.status == 409 and capped.body["error"]["code"] == "extension_limit"
    first_id = added.body["_embedded"]["items"][0]["id"]
    removed = api.delete(f"/api/v1/{tenant.id}/basket/items/{first_id}", _basket(tenant, token))
    assert removed.status == 200 and [i["num_book"] for i in removed.body["_embedded"]["items"]] == [1]
    assert _event(api, tenant, event["id"])["spaces_left"] == 2
    gone = api.delete(f"/api/v1/{tenant.id}/basket/items/{first_id}", _basket(tenant, token))
    assert gone.status == 404


def test_checkout_after_the_hold_expired_books_nothing(
    api: Api, tenant: Tenant, travel: Callable[[float], None]
) -> None:
    chain = _chain(api, tenant)
    (event,) = _events(api, tenant, chain["id"])
    token = _add(api, tenant, {"event_id": event["id"]}).headers["Auth-Token"]
    travel(15 * 60 + 1)  # the company's hold time is 15 minutes
    late = api.post(f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, token))
    assert late.status == 409 and late.body["error"]["code"] == "hold_expired"
    assert api.get("/v2/bookings", tenant.v2).body["data"] == []
    seats = _event(api, tenant, event["id"])
    assert (seats["spaces_booked"], seats["spaces_reserved"], seats["spaces_left"]) == (0, 0, 3)
    assert api.get(f"/api/v1/{tenant.id}/basket", _basket(tenant, token)).body["_embedded"]["items"][0]["status"] == (
        "expired"
    )


def test_answers_are_checked_against_the_chains_questions(api: Api, tenant: Tenant) -> None:
    group = api.post(
        f"/api/v1/admin/{tenant.id}/question_groups",
        {"name": "Q", "questions": [{"name": "Level", "detail_type": "radio", "options": [{"name": "Beginner"}]}]},
        tenant.admin,
    ).body
    chain = _chain(api, tenant, detail_group_id=group["id"], ticket_type=2)
    (event,) = _events(api, tenant, chain["id"])
    added = _add(api, tenant, {"event_id": event["id"], "num_book": 2})
    token, item_id = added.headers["Auth-Token"], added.body["_embedded"]["items"][0]["id"]
    question_id = group["questions"][0]["id"]
    bad = api.post(
        f"/api/v1/{tenant.id}/basket/checkout",
        {"client": CLIENT, "items": [{"id": item_id, "tickets": [{"email": "a@example.com"}]}]},
        _basket(tenant, token),
    )
    assert bad.status == 422 and bad.body["error"]["field"] == "items.0.tickets"

    def tickets(level: str) -> dict[str, Any]:
        first = {"email": "a@example.com", "answers": [{"id": question_id, "answer": level}]}
        return {"client": CLIENT, "items": [{"id": item_id, "tickets": [first, {"email": "b@example.com"}]}]}

    wrong = api.post(f"/api/v1/{tenant.id}/basket/checkout", tickets("Expert"), _basket(tenant, token))
    assert wrong.status == 422 and wrong.body["error"]["field"] == "items.0.tickets.0.answers.0.answer"
    good = api.post(f"/api/v1/{tenant.id}/basket/checkout", tickets("Beginner"), _basket(tenant, token))
    assert good.status == 201, good.body
    assert api.get("/v2/bookings", tenant.v2).body["meta"]["total_entries"] == 1


def test_max_num_bookings_counts_per_booker_across_purchases(api: Api, tenant: Tenant) -> None:
    chain = _chain(api, tenant, spaces=10, max_num_bookings=2)
    (event,) = _events(api, tenant, chain["id"])
    too_many = _add(api, tenant, {"event_id": event["id"], "num_book": 3})
    assert too_many.status == 422 and too_many.body["error"]["code"] == "max_num_bookings_exceeded"
    first = _add(api, tenant, {"event_id": event["id"], "num_book": 2})
    done = api.post(
        f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, first.headers["Auth-Token"])
    )
    assert done.status == 201
    second = _add(api, tenant, {"event_id": event["id"]})
    refused = api.post(
        f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, second.headers["Auth-Token"])
    )
    assert refused.status == 422 and refused.body["error"]["code"] == "max_num_bookings_exceeded"
    other = {**CLIENT, "email": "bob@example.com"}
    ok = api.post(
        f"/api/v1/{tenant.id}/basket/checkout", {"client": other}, _basket(tenant, second.headers["Auth-Token"])
    )
    assert ok.status == 201
    # cancelling gives the booker's spaces back
    admin_cancel = api.delete(f"/api/v1/admin/{tenant.id}/purchases/{done.body['id']}", tenant.admin)
    assert admin_cancel.status == 200 and admin_cancel.body["status"] == "cancelled"
    third = _add(api, tenant, {"event_id": event["id"], "num_book": 2})
    again = api.post(
        f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, third.headers["Auth-Token"])
    )
    assert again.status == 201


def test_cancelling_frees_the_space_once_and_min_cancel_binds_the_booker(api: Api, tenant: Tenant) -> None:
    soon = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86_400))
    chain = _chain(api, tenant, start_date=soon, time="23:00", min_cancel=3)
    (event,) = _events_from(api, tenant, chain["id"], soon)
    token = _add(api, tenant, {"event_id": event["id"]}).headers["Auth-Token"]
    purchase = api.post(f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, token)).body
    late = api.delete(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}", tenant.public)
    assert late.status == 409 and late.body["error"]["code"] == "cancellation_closed"
    assert _event(api, tenant, event["id"])["spaces_booked"] == 1
    cancelled = api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase['id']}", tenant.admin)
    assert cancelled.status == 200
    assert cancelled.body["_embedded"]["bookings"][0]["state"] == "cancelled"
    again = api.delete(f"/api/v1/admin/{tenant.id}/purchases/{purchase['id']}", tenant.admin)
    assert again.status == 200
    seats = _event(api, tenant, event["id"])
    assert (seats["spaces_booked"], seats["spaces_left"]) == (0, 3)


def _events_from(api: Api, tenant: Tenant, chain_id: int, start: str) -> list[dict[str, Any]]:
    listed = api.get(f"/api/v1/{tenant.id}/events?event_chain_id={chain_id}&start_date={start}", tenant.public)
    found: list[dict[str, Any]] = listed.body["_embedded"]["events"]
    return found


def test_a_booker_cancels_by_long_id_in_time(api: Api, tenant: Tenant) -> None:
    chain = _chain(api, tenant, min_cancel=1)
    (event,) = _events(api, tenant, chain["id"])
    token = _add(api, tenant, {"event_id": event["id"]}).headers["Auth-Token"]
    purchase = api.post(f"/api/v1/{tenant.id}/basket/checkout", {"client": CLIENT}, _basket(tenant, token)).body
    cancelled = api.delete(f"/api/v1/{tenant.id}/purchases/{purchase['long_id']}", tenant.public)
    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"
    assert cancelled.body["_embedded"]["bookings"][0]["state"] == "cancelled_by_customer"
    assert _event(api, tenant, event["id"])["spaces_left"] == 3
    assert api.get(f"/api/v1/{tenant.id}/purchases/not-a-real-id", tenant.public).status == 404


def test_checkout_accepts_the_basket_posted_back(api: Api, tenant: Tenant) -> None:
    """BookingBug clients send the basket's own fields with the checkout: accepted, not trusted."""
    chain = _chain(api, tenant)
    (event,) = _events(api, tenant, chain["id"])
    added = _add(api, tenant, {"event_id": event["id"], "num_book": 1})
    basket = added.body
    echoed = {
        **{k: v for k, v in basket.items() if not k.startswith("_")},
        "_links": basket["_links"],
        "total_price": 1,  # a client's price is never used
        "client": CLIENT,
        "items": [{**item, "price": 0} for item in basket["_embedded"]["items"]],
    }
    checkout = api.post(f"/api/v1/{tenant.id}/basket/checkout", echoed, _basket(tenant, added.headers["Auth-Token"]))
    assert checkout.status == 201, checkout.body
    assert checkout.body["total_price"] == 1500
    wrong = api.post(
        f"/api/v1/{tenant.id}/basket/checkout", {"items": "all"}, _basket(tenant, added.headers["Auth-Token"])
    )
    assert wrong.status == 422 and wrong.error["field"] == "items"
