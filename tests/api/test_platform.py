from tests.conftest import ROOT, Api, Tenant, make_tenant

NEW = {"name": "Acme", "admin_email": "owner@acme.example", "admin_password": "correct horse battery"}


def test_create_company_shows_secrets_once(api: Api) -> None:
    created = api.post("/platform/companies", NEW, ROOT)
    assert created.status == 201
    body = created.body
    shown = {"id", "name", "app_id", "app_key", "api_key", "admin", "timezone", "created_at", "allowed_origins"}
    shown.add("waitlist_offer_time")  # a setting, not a secret
    assert set(body) == shown
    assert body["admin"] == {"email": "owner@acme.example"}
    assert body["app_key"].startswith("pk_") and body["api_key"].startswith("sk_")
    read = api.get(f"/platform/companies/{body['id']}", ROOT)
    assert read.status == 200
    assert "app_key" not in read.body and "api_key" not in read.body
    assert read.body["name"] == "Acme"


def test_platform_needs_the_root_key(api: Api) -> None:
    assert api.post("/platform/companies", NEW).status == 401
    wrong = api.post("/platform/companies", NEW, {"Authorization": "Bearer not-the-root-key-at-all"})
    assert wrong.status == 401
    assert wrong.error["code"] == "unauthorized"


def test_company_keys_do_not_open_the_platform(api: Api, tenant: Tenant) -> None:
    assert api.get(f"/platform/companies/{tenant.id}", {"Authorization": f"Bearer {tenant.api_key}"}).status == 401


def test_invalid_company_is_refused_with_the_field(api: Api) -> None:
    refused = api.post("/platform/companies", {**NEW, "admin_email": "not-an-email"}, ROOT)
    assert refused.status == 422
    assert refused.error["field"] == "admin_email"
    bad_zone = api.post("/platform/companies", {**NEW, "timezone": "Mars/Olympus"}, ROOT)
    assert bad_zone.status == 422 and bad_zone.error["field"] == "timezone"


def test_unknown_company_is_404(api: Api) -> None:
    assert api.get("/platform/companies/999999", ROOT).status == 404
    assert api.get("/platform/companies/not-a-number", ROOT).status == 404


def test_rotated_keys_work_and_old_ones_work_during_the_grace_period(api: Api, tenant: Tenant) -> None:
    rotated = api.post(f"/platform/companies/{tenant.id}/keys", {}, ROOT)
    assert rotated.status == 201
    new_public = {"App-Id": tenant.app_id, "App-Key": rotated.body["app_key"]}
    assert api.get(f"/api/v1/{tenant.id}/services", new_public).status == 200
    assert api.get(f"/api/v1/{tenant.id}/services", tenant.public).status == 200


def test_rotation_without_grace_retires_the_old_key_at_once(api: Api, tenant: Tenant) -> None:
    rotated = api.post(f"/platform/companies/{tenant.id}/keys", {"keys": ["app_key"], "grace_seconds": 0}, ROOT)
    assert rotated.status == 201 and rotated.body["api_key"] is None
    assert api.get(f"/api/v1/{tenant.id}/services", tenant.public).status == 401
    new_public = {"App-Id": tenant.app_id, "App-Key": rotated.body["app_key"]}
    assert api.get(f"/api/v1/{tenant.id}/services", new_public).status == 200


def test_one_email_may_administer_two_companies(api: Api) -> None:
    first = make_tenant(api, "First", email="both@example.com")
    second = make_tenant(api, "Second", email="both@example.com")
    assert first.id != second.id
    login = api.post("/api/v1/login", {"email": "both@example.com", "password": "correct horse battery"}, second.public)
    assert login.body["company_id"] == second.id
