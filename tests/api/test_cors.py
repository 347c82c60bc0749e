"""CORS on every public face: preflights without credentials, origins per company, * for public routes."""

from __future__ import annotations

from tests.conftest import ROOT, Api, Reply, Tenant

SHOP = "https://shop.example"
EVIL = "https://evil.example"


def _preflight(api: Api, path: str, origin: str, asked: str = "authorization,content-type") -> Reply:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": asked}
    return api.call("OPTIONS", path, headers=headers)


def _restrict(api: Api, tenant: Tenant, origins: list[str] | None) -> Reply:
    changed = api.put(f"/platform/companies/{tenant.id}", {"allowed_origins": origins}, ROOT)
    assert changed.status == 200, changed.body
    return changed


def test_a_preflight_needs_no_credentials_and_names_methods_and_headers(api: Api, tenant: Tenant) -> None:
    reply = _preflight(api, "/v2/bookings", SHOP, "authorization,content-type,timekit-context,idempotency-key")
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == SHOP
    assert reply.headers["Vary"] == "Origin"
    assert set(reply.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST", "OPTIONS"}
    allowed = set(reply.headers["Access-Control-Allow-Headers"].split(", "))
    assert {"Authorization", "Content-Type", "Idempotency-Key", "timekit-context"} <= allowed
    assert int(reply.headers["Access-Control-Max-Age"]) > 0


def test_a_company_chooses_the_origins_that_may_read_its_answers(api: Api, tenant: Tenant) -> None:
    path = f"/api/v1/{tenant.id}/services"
    open_to_all = api.get(path, {**tenant.public, "Origin": EVIL})
    assert open_to_all.headers["Access-Control-Allow-Origin"] == EVIL  # not configured: any origin
    assert "Auth-Token" in open_to_all.headers["Access-Control-Expose-Headers"]

    shown = _restrict(api, tenant, ["https://SHOP.example/"])
    assert shown.body["allowed_origins"] == [SHOP]
    assert api.get(f"/platform/companies/{tenant.id}", ROOT).body["allowed_origins"] == [SHOP]
    allowed = api.get(path, {**tenant.public, "Origin": SHOP})
    assert allowed.status == 200 and allowed.headers["Access-Control-Allow-Origin"] == SHOP
    refused = api.get(path, {**tenant.public, "Origin": EVIL})
    assert refused.status == 200  # the server answers; the browser keeps it from the page
    assert "Access-Control-Allow-Origin" not in refused.headers and refused.headers["Vary"] == "Origin"
    # The preflight of a path naming the company follows the same list.
    assert _preflight(api, f"/api/v1/{tenant.id}/basket/add_item", SHOP).headers["Access-Control-Allow-Origin"] == SHOP
    assert "Access-Control-Allow-Origin" not in _preflight(api, f"/api/v1/{tenant.id}/basket/add_item", EVIL).headers
    # /v2 names no company in its path: its answers follow the key's company.
    v2 = api.get("/v2/bookings", {**tenant.v2, "Origin": EVIL})
    assert v2.status == 200 and "Access-Control-Allow-Origin" not in v2.headers
    assert api.get("/v2/bookings", {**tenant.v2, "Origin": SHOP}).headers["Access-Control-Allow-Origin"] == SHOP

    _restrict(api, tenant, None)
    assert api.get(path, {**tenant.public, "Origin": EVIL}).headers["Access-Control-Allow-Origin"] == EVIL


def test_errors_are_readable_by_the_page(api: Api, tenant: Tenant) -> None:
    unauthenticated = api.get("/v2/bookings", {"Origin": SHOP})
    assert unauthenticated.status == 401 and unauthenticated.headers["Access-Control-Allow-Origin"] == SHOP
    missing = api.get(f"/api/v1/{tenant.id}/services/999999", {**tenant.public, "Origin": SHOP})
    assert missing.status == 404 and missing.headers["Access-Control-Allow-Origin"] == SHOP


def test_public_read_only_routes_are_star_and_the_platform_has_none(api: Api, tenant: Tenant) -> None:
    _restrict(api, tenant, [SHOP])
    for path in ("/openapi.json", "/health", "/"):
        assert api.get(path, {"Origin": EVIL}).headers["Access-Control-Allow-Origin"] == "*", path
    assert _preflight(api, "/openapi.json", EVIL).headers["Access-Control-Allow-Origin"] == "*"
    platform = api.get(f"/platform/companies/{tenant.id}", {**ROOT, "Origin": SHOP})
    assert platform.status == 200 and "Access-Control-Allow-Origin" not in platform.headers
    assert "Access-Control-Allow-Origin" not in _preflight(api, "/platform/companies", SHOP).headers


def test_what_is_not_an_origin_is_refused(api: Api, tenant: Tenant) -> None:
    for origins, field in (
        (["shop.example"], "allowed_origins.0"),
        ([SHOP, "https://x.example/path"], "allowed_origins.1"),
    ):
        refused = api.put(f"/platform/companies/{tenant.id}", {"allowed_origins": origins}, ROOT)
        assert refused.status == 422 and refused.error["field"] == field, refused.body
    assert api.get(f"/platform/companies/{tenant.id}", ROOT).body["allowed_origins"] is None
    assert api.put("/platform/companies/999999", {"allowed_origins": None}, ROOT).status == 404
