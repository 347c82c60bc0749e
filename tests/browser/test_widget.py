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
LISTING = {"availability_view": "listing"}


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
    page.wait_for_timeout(800)  # the widget's success animation, for the picture
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


def test_group_mode_books_a_seat_in_a_class(local_api: Api, api_url: str, pages: Pages, browser: Browser) -> None:
    tenant, doc, _ = _clinic(local_api)
    day = _next_weekday()
    project = local_api.post(
        "/v2/projects",
        {"name": "Classes", "resources": [doc["id"]], "booking": {"graph": "group_customer"}, "ui": LISTING},
        tenant.v2,
    ).body["data"]
    classes = []
    for hour, what in ((9, "Yoga"), (18, "Pilates")):
        created = local_api.post(
            "/v2/bookings",
            {
                "graph": "group_owner",
                "settings": {"max_seats": 5},
                "what": what,
                "start": f"{day}T{hour:02d}:00:00Z",
                "end": f"{day}T{hour + 1:02d}:00:00Z",
                "project_id": project["id"],
            },
            tenant.v2,
        )
        assert created.status == 201, created.body
        classes.append(created.body["data"])
    page = _open(browser, pages.add("/classes", embed_page(api_url, _page_config(tenant, project))))
    events = page.locator(".fc-list-event")
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_contain_text("Yoga")
    events.nth(0).click()
    page.locator("input[name=name]").fill("Lorraine Baines")
    page.locator("input[name=email]").fill("lorraine@example.com")
    page.locator(".bookingjs-form-button").click()
    expect(page.locator(".bookingjs-form.success")).to_be_visible()
    page.wait_for_timeout(800)  # the widget's success animation, for the picture
    screenshot(page, "widget-group-booked")

    group = local_api.get(f"/v2/bookings/groups/{classes[0]['id']}", tenant.v2).body["data"]
    assert group["attributes"]["group_booking"]["current_seats"] == 1
    seats = local_api.get("/v2/bookings?search=graph:group_customer", tenant.v2).body["data"]
    assert [(s["related"]["owner_booking_id"], s["customers"][0]["email"]) for s in seats] == [
        (classes[0]["id"], "lorraine@example.com")
    ]


def test_two_customers_race_for_the_last_slot(
    local_api: Api, api_url: str, second_api_url: str, pages: Pages, browser: Browser
) -> None:
    """Two browsers, each through its own API process (two Lambda instances), one slot left."""
    tenant, doc, project = _clinic(local_api)
    local_api.put(
        f"/v2/resources/{doc['id']}",
        {"availability_constraints": [{"allow_hours": {"start": 10, "end": 11}}]},
        tenant.v2,
    )
    racers = []
    for name, url in (("first", api_url), ("second", second_api_url)):
        page = _open(browser, pages.add(f"/race-{name}", embed_page(url, _page_config(tenant, project))))
        expect(page.locator(".fc-list-event")).to_have_count(1)
        page.locator(".fc-list-event").click()
        page.locator("input[name=name]").fill(f"Customer {name}")
        page.locator("input[name=email]").fill(f"{name}@example.com")
        racers.append(page)
    for page in racers:  # both requests are in flight together: the click does not wait for the answer
        page.locator(".bookingjs-form-button").click(no_wait_after=True)
    for page in racers:
        expect(page.locator(".bookingjs-form.success").or_(page.locator(".booking-message"))).to_be_visible()
    won = [page for page in racers if page.locator(".bookingjs-form.success").is_visible()]
    lost = [page for page in racers if page.locator(".booking-message").is_visible()]
    assert len(won) == 1 and len(lost) == 1
    expect(lost[0].locator(".booking-message")).to_have_text(
        "Sorry, that time was just taken by someone else. Please choose another time."
    )
    screenshot(lost[0], "widget-race-taken")
    (booking,) = local_api.get("/v2/bookings", tenant.v2).body["data"]
    assert booking["resource"]["id"] == doc["id"]


def test_the_customers_link_opens_the_hosted_page_that_moves_the_booking(
    local_api: Api, api_url: str, browser: Browser
) -> None:
    tenant, doc, project = _clinic(local_api)
    day = _next_weekday()
    created = local_api.post(
        "/v2/bookings",
        {
            "graph": "instant",
            "start": f"{day}T09:00:00+00:00",
            "end": f"{day}T10:00:00+00:00",
            "customer": {"name": "Marty McFly", "email": "marty@example.com"},
            "project_id": project["id"],
            "resource_id": doc["id"],
        },
        tenant.widget,
    )
    assert created.status == 201, created.body
    booking = created.body["data"]
    link = booking["customer_action_links"]["reschedule_by_customer"]
    assert link.startswith("http://localhost/book/check-ups?")  # the test client's host; the page is the API's own
    page = _open(browser, api_url + link.removeprefix("http://localhost"))
    slots = page.locator(".fc-list-event")
    expect(slots).to_have_count(2)  # 09:00 is this booking's own time
    slots.nth(1).click()  # 11:00
    page.locator("textarea[name=message]").fill("Something came up")
    page.wait_for_timeout(500)  # the page's fade-in, for the picture
    screenshot(page, "widget-reschedule")
    with page.expect_navigation():  # the widget goes back to the page without the link's query
        page.locator(".bookingjs-form-button").click()
    old = local_api.get(f"/v2/bookings/{booking['id']}", tenant.v2).body["data"]
    moved = local_api.get(f"/v2/bookings/{old['rescheduled_to']}", tenant.v2).body["data"]
    assert moved["state"] == "confirmed" and moved["rescheduled_from"] == booking["id"]
    start = dt.datetime.fromisoformat(moved["attributes"]["event_info"]["start"])
    assert start.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(11))
