"""Timekit's own booking widget (timekit-booking 3.3.1, built from npm) in Chromium, on another
origin than the API, against availability, projects and bookings served by this engine."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Pages
from tests.browser.shots import screenshot
from tests.browser.widget_pages import embed_page
from tests.conftest import Api, Tenant, make_tenant

ZONE = "Europe/London"


def _next_weekday(days_ahead: int = 1) -> dt.date:
    day = dt.date.today() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _clinic(api: Api) -> tuple[Tenant, dict[str, Any], dict[str, Any]]:
    tenant = make_tenant(api, "Riverside Clinic")
    day = _next_weekday()
    doc = api.post(
        "/v2/resources",
        {"name": "Dr Brown", "timezone": ZONE, "availability_constraints": [{"allow_hours": {"start": 9, "end": 12}}]},
        tenant.v2,
    ).body["data"]
    project = api.post(
        "/v2/projects",
        {
            "name": "Check-ups",
            "slug": "check-ups",
            "resources": [doc["id"]],
            "availability": {"length": "1 hour", "from": f"{day}T00:00:00Z", "to": f"{day}T23:59:00Z"},
            "booking": {"graph": "instant", "what": "Check-up", "where": "Riverside Clinic"},
            "ui": {"availability_view": "listing", "display_name": "Riverside Clinic"},
        },
        tenant.v2,
    ).body["data"]
    return tenant, doc, project


def _page_config(tenant: Tenant, project: dict[str, Any], **more: Any) -> dict[str, Any]:
    day = _next_weekday()
    return {"app_key": tenant.app_key, "project_id": project["id"], "fullcalendar": {"initialDate": str(day)}, **more}


def _open(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1000, "height": 900}, timezone_id=ZONE)
    page = context.new_page()
    page.goto(url)
    return page


def test_the_widget_books_a_slot_from_availability_and_the_slot_is_gone_on_reload(
    local_api: Api, api_url: str, pages: Pages, browser: Browser
) -> None:
    tenant, doc, project = _clinic(local_api)
    page = _open(browser, pages.add("/clinic", embed_page(api_url, _page_config(tenant, project))))
    slots = page.locator(".fc-list-event")
    expect(slots).to_have_count(3)
    expect(slots.nth(1)).to_contain_text("10:00am - 11:00am")
    screenshot(page, "widget-slots")

    slots.nth(1).click()
    expect(page.locator(".bookingjs-bookpage-resource")).to_have_text("Dr Brown")
    page.locator("input[name=name]").fill("Marty McFly")
    page.locator("input[name=email]").fill("marty@example.com")
    screenshot(page, "widget-form")
    page.locator(".bookingjs-form-button").click()
    expect(page.locator(".bookingjs-form.success")).to_be_visible()
    expect(page.locator(".booked-email")).to_have_text("marty@example.com")
    screenshot(page, "widget-booked")

    (booking,) = local_api.get("/v2/bookings", tenant.v2).body["data"]
    day = _next_weekday()
    assert booking["state"] == "confirmed" and booking["project_id"] == project["id"]
    assert booking["resource"]["id"] == doc["id"]
    start = dt.datetime.fromisoformat(booking["attributes"]["event_info"]["start"])
    assert start.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(10))
    assert booking["attributes"]["event_info"]["what"] == "Check-up"
    assert booking["customers"][0]["email"] == "marty@example.com"

    page.reload()
    expect(page.locator(".fc-list-event")).to_have_count(2)
    times = page.locator(".fc-list-event-time")
    expect(times).to_have_text(["9:00am - 10:00am", "11:00am - 12:00pm"])
