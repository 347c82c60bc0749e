"""The BookingBug events page in Chromium, served from another origin than the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from tests.browser.conftest import Pages
from tests.browser.shots import screenshot
from tests.conftest import Api, Tenant, make_tenant


def _post(api: Api, path: str, body: dict[str, Any], tenant: Tenant) -> dict[str, Any]:
    created = api.post(path, body, tenant.admin)
    assert created.status == 201, created.body
    result: dict[str, Any] = created.body
    return result


def _studio(api: Api) -> tuple[Tenant, dict[str, Any]]:
    """A company with two event groups; Yoga (5 spaces, a required question) is in Fitness."""
    tenant = make_tenant(api, "Riverside Studio")
    fitness = _post(api, f"/api/v1/admin/{tenant.id}/event_groups", {"name": "Fitness"}, tenant)
    dance = _post(api, f"/api/v1/admin/{tenant.id}/event_groups", {"name": "Dance"}, tenant)
    intake = _post(
        api,
        f"/api/v1/admin/{tenant.id}/question_groups",
        {
            "name": "Yoga intake",
            "questions": [
                {"name": "Any injuries?", "detail_type": "text_field", "required": True},
                {
                    "name": "Mat",
                    "detail_type": "select-price",
                    "options": [{"name": "Own", "price": 0}, {"name": "Rent", "price": 300}],
                },
            ],
        },
        tenant,
    )
    soon = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    yoga = {"name": "Yoga", "start_date": soon, "time": "09:00", "duration": 60, "spaces": 5, "price": 1500}
    chain = _post(
        api,
        f"/api/v1/admin/{tenant.id}/event_chains",
        yoga | {"event_group_id": fitness["id"], "detail_group_id": intake["id"], "max_num_bookings": 4},
        tenant,
    )
    salsa = {"name": "Salsa", "start_date": soon, "time": "19:00", "duration": 90, "spaces": 8, "price": 1200}
    _post(api, f"/api/v1/admin/{tenant.id}/event_chains", salsa | {"event_group_id": dance["id"]}, tenant)
    return tenant, chain


def _events(api: Api, tenant: Tenant, chain: dict[str, Any]) -> list[dict[str, Any]]:
    listed = api.get(f"/api/v1/{tenant.id}/events?event_chain_id={chain['id']}", tenant.public)
    assert listed.status == 200, listed.body
    events: list[dict[str, Any]] = listed.body["_embedded"]["events"]
    return events


def _events_url(pages: Pages, api_url: str, tenant: Tenant) -> str:
    query = urlencode({"company": tenant.id, "app_id": tenant.app_id, "app_key": tenant.app_key, "api": api_url})
    return f"{pages.url}/events?{query}"


def test_events_page_books_two_spaces_and_checks_out(local_api: Api, api_url: str, pages: Pages, phone: Page) -> None:
    tenant, chain = _studio(local_api)
    phone.goto(_events_url(pages, api_url, tenant))
    expect(phone.locator("h1")).to_have_text("Riverside Studio: events")
    expect(phone.locator("article.event")).to_have_count(2)

    phone.get_by_role("button", name="Fitness").click()
    expect(phone.locator("article.event")).to_have_count(1)
    yoga = phone.locator("article.event", has_text="Yoga")
    expect(yoga.locator(".spaces")).to_have_text("5 spaces left")
    screenshot(phone, "events-list")

    yoga.get_by_label("Spaces for Yoga").select_option("2")
    yoga.get_by_role("button", name="Add to basket").click()
    expect(phone.locator("#message")).to_have_text("Added 2 spaces of Yoga to your basket.")
    expect(yoga.locator(".spaces")).to_have_text("3 spaces left")
    expect(phone.locator("#basket-total")).to_contain_text("30.00")

    phone.get_by_role("button", name="Check out").click()
    phone.get_by_label("First name").fill("Ann")
    phone.get_by_label("Last name").fill("Lee")
    phone.get_by_label("Email").fill("ann@example.com")
    phone.get_by_label("Any injuries?").fill("None")
    phone.get_by_label("Mat").select_option("Rent")
    screenshot(phone, "events-checkout")
    phone.get_by_role("button", name="Confirm booking").click()

    expect(phone.locator("#confirmation-text")).to_contain_text("Thank you, Ann Lee.")
    expect(phone.locator("#confirmation-text")).to_contain_text("36.00")  # 2 x 15.00 + 2 x 3.00 mat rent
    expect(phone.locator(".booking")).to_have_count(1)
    screenshot(phone, "events-confirmation")

    (event,) = _events(local_api, tenant, chain)
    assert (event["spaces_booked"], event["spaces_reserved"], event["spaces_left"]) == (2, 0, 3)
    (booking,) = local_api.get("/v2/bookings", tenant.v2).body["data"]
    assert booking["state"] == "confirmed" and booking["customers"][0]["email"] == "ann@example.com"


def test_a_full_event_is_refused_with_a_clear_message(local_api: Api, api_url: str, pages: Pages, phone: Page) -> None:
    tenant, chain = _studio(local_api)
    phone.goto(_events_url(pages, api_url, tenant))
    yoga = phone.locator("article.event", has_text="Yoga")
    expect(yoga.locator(".spaces")).to_have_text("5 spaces left")
    # Someone else takes four of the five spaces while this page shows five.
    (event,) = _events(local_api, tenant, chain)
    taken = local_api.post(
        f"/api/v1/{tenant.id}/basket/add_item", {"event_id": event["id"], "num_book": 4}, tenant.public
    )
    assert taken.status == 201, taken.body

    yoga.get_by_label("Spaces for Yoga").select_option("2")
    yoga.get_by_role("button", name="Add to basket").click()
    expect(phone.locator("#message")).to_have_text("Sorry, Yoga has no space left for 2.")
    expect(yoga.locator(".spaces")).to_have_text("1 space left")
    expect(phone.locator("#basket")).to_be_hidden()
