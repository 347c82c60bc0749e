"""Timekit projects: CRUD with the secret key, reads with the public key, the hosted page by slug."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Tenant, make_tenant

PROJECT: dict[str, Any] = {
    "name": "Doc Brown's clinic",
    "slug": "doc-brown",
    "resources": ["r-1"],
    "availability": {"mode": "roundrobin_random", "length": "30 minutes", "closest_time_interval": "15 minutes"},
    "booking": {"graph": "instant", "what": "Check-up", "rescheduling_url": "https://clinic.example/move"},
    "ui": {"localization": {"submit_button": "Book the check-up"}, "display_name": "Doc Brown"},
    "customer_fields": {"phone": {"title": "Phone", "format": "tel"}},
    "a_key_we_do_not_know": {"kept": True},
}


def _create(api: Api, tenant: Tenant, **changes: Any) -> dict[str, Any]:
    created = api.post("/v2/projects", PROJECT | changes, tenant.v2)
    assert created.status == 201, created.body
    data: dict[str, Any] = created.body["data"]
    return data


def test_a_project_keeps_what_the_widget_posts_back_and_carries_its_required_settings(api: Api, tenant: Tenant) -> None:
    project = _create(api, tenant)
    assert project["slug"] == "doc-brown" and project["name"] == PROJECT["name"]
    assert project["availability"]["closest_time_interval"] == "15 minutes"
    assert project["booking"]["rescheduling_url"] == "https://clinic.example/move"
    assert project["a_key_we_do_not_know"] == {"kept": True}
    localization = project["ui"]["localization"]
    assert localization["submit_button"] == "Book the check-up" and "%s" in localization["success_message"]
    assert set(project["customer_fields"]) == {"name", "email", "phone"}
    assert project["customer_fields"]["email"]["required"] is True
    assert "app_key" not in project or project["app_key"] is None
    read = api.get(f"/v2/projects/{project['id']}", tenant.v2)
    assert read.status == 200 and read.body["data"] == project
    listed = api.get("/v2/projects", tenant.v2).body
    assert listed["meta"]["total_entries"] == 1 and listed["data"][0]["id"] == project["id"]


def test_the_hosted_page_needs_no_credentials_and_gets_the_public_key(api: Api, tenant: Tenant) -> None:
    project = _create(api, tenant)
    hosted = api.get("/v2/projects/hosted/doc-brown", {"Origin": "https://anywhere.example"})
    assert hosted.status == 200, hosted.body
    assert hosted.body["data"]["id"] == project["id"] and hosted.body["data"]["app_key"] == tenant.app_key
    assert hosted.headers["Access-Control-Allow-Origin"] == "*"
    embedded = api.get(f"/v2/projects/embed/{project['id']}", tenant.widget)
    assert embedded.status == 200 and embedded.body["data"]["app_key"] == tenant.app_key
    assert api.get(f"/v2/projects/{project['id']}", tenant.widget).status == 200
    assert api.get("/v2/projects/hosted/no-such-page").status == 404
    page = api.get("/book/doc-brown")
    assert page.status == 200 and 'data-project-slug="doc-brown"' in page.body
    assert "text/html" in page.headers["Content-Type"]
    escaped = api.get("/book/%22%3E%3Cscript%3E")
    assert escaped.status == 200 and "<script>" not in escaped.body.split("booking.min.js")[0].split("<body>")[1]


def test_the_public_key_reads_but_never_changes_projects(api: Api, tenant: Tenant) -> None:
    project = _create(api, tenant)
    assert api.post("/v2/projects", PROJECT | {"slug": "other"}, tenant.widget).status == 401
    assert api.get("/v2/projects", tenant.widget).status == 401
    assert api.put(f"/v2/projects/{project['id']}", {"name": "Mine now"}, tenant.widget).status == 401
    assert api.delete(f"/v2/projects/{project['id']}", tenant.widget).status == 401
    assert api.get(f"/v2/projects/{project['id']}", tenant.v2).body["data"]["name"] == PROJECT["name"]


def test_updates_replace_top_level_fields_and_move_the_slug(api: Api, tenant: Tenant) -> None:
    project = _create(api, tenant)
    changed = api.put(
        f"/v2/projects/{project['id']}",
        {"slug": "doc-brown-2", "booking": {"graph": "confirm_decline"}, "id": "ignored", "created_at": "ignored"},
        tenant.v2,
    )
    assert changed.status == 200, changed.body
    data = changed.body["data"]
    assert data["booking"] == {"graph": "confirm_decline"} and data["id"] == project["id"]
    assert data["availability"] == project["availability"] and data["created_at"] == project["created_at"]
    assert api.get("/v2/projects/hosted/doc-brown").status == 404
    assert api.get("/v2/projects/hosted/doc-brown-2").body["data"]["id"] == project["id"]
    assert api.delete(f"/v2/projects/{project['id']}", tenant.v2).status == 200
    assert api.get("/v2/projects/hosted/doc-brown-2").status == 404
    assert api.get(f"/v2/projects/{project['id']}", tenant.v2).status == 404


def test_slugs_are_unique_across_companies(api: Api, tenant: Tenant) -> None:
    _create(api, tenant)
    other = make_tenant(api, "Other")
    taken = api.post("/v2/projects", PROJECT, other.v2)
    assert taken.status == 409 and taken.error["code"] == "duplicate_slug"
    # A slug derived from the name gets a suffix when it is taken, never a 409.
    first = api.post("/v2/projects", {"name": "Doc Brown"}, other.v2)
    second = api.post("/v2/projects", {"name": "Doc Brown"}, other.v2)
    assert first.status == second.status == 201
    slugs = {first.body["data"]["slug"], second.body["data"]["slug"]}
    assert len(slugs) == 2 and all(slug.startswith("doc-brown-") for slug in slugs)


def test_what_would_break_a_page_is_refused_and_nothing_is_written(api: Api, tenant: Tenant) -> None:
    for body, field in (
        (PROJECT | {"booking": {"graph": "group_owner"}}, "booking.graph"),
        (PROJECT | {"slug": "Not A Slug"}, "slug"),
        (PROJECT | {"availability": {"mode": "random"}}, "availability.mode"),
        ({"slug": "x"}, "name"),
        (PROJECT | {"resources": "r-1"}, "resources"),
    ):
        refused = api.post("/v2/projects", body, tenant.v2)
        assert refused.status == 422 and refused.error["field"] == field, refused.body
    assert api.get("/v2/projects", tenant.v2).body["meta"]["total_entries"] == 0
    assert api.get("/v2/projects/00000000-0000-0000-0000-000000000000", tenant.v2).status == 404
