from typing import Any

from tests.conftest import Api, Tenant


def _create(api: Api, tenant: Tenant, **fields: Any) -> Any:
    body = {"name": "Test Service", **fields}
    reply = api.post(f"/api/v1/admin/{tenant.id}/services", body, tenant.admin)
    assert reply.status == 201, reply.body
    return reply.body


def test_create_accepts_numbers_as_strings_like_the_seed(api: Api, tenant: Tenant) -> None:
    service = _create(api, tenant, reference="TS001", duration="60", spaces="1", price="2000")
    assert service["durations"] == [60] and service["prices"] == [2000] and service["spaces"] == 1
    assert service["reference"] == service["api_ref"] == "TS001"
    assert service["type"] == "service" and service["duration_unit"] == "minute"
    assert service["company_id"] == tenant.id and service["deleted"] is False
    assert service["_links"]["self"]["href"].endswith(f"/api/v1/admin/{tenant.id}/services/{service['id']}")
    assert service["_links"]["book"]["templated"] is True


def test_public_read_matches_admin_read(api: Api, tenant: Tenant) -> None:
    group = api.post(f"/api/v1/admin/{tenant.id}/question_groups", {"name": "Intake"}, tenant.admin).body
    service = _create(
        api, tenant, description="Car Wash + Wax", extra={"brand_event": "Nike"}, detail_group_id=group["id"]
    )
    public = api.get(f"/api/v1/{tenant.id}/services/{service['id']}", tenant.public)
    assert public.status == 200
    assert public.body["extra"] == {"brand_event": "Nike"}
    assert public.body["_links"]["questions"]["href"].endswith(f"/questions?detail_group_id={group['id']}")


def test_update_changes_only_given_fields(api: Api, tenant: Tenant) -> None:
    service = _create(api, tenant, reference="A1", duration=30, price=500, description="keep me")
    updated = api.put(
        f"/api/v1/admin/{tenant.id}/services/{service['id']}", {"name": "Renamed", "price": "900"}, tenant.admin
    )
    assert updated.status == 200
    assert updated.body["name"] == "Renamed" and updated.body["prices"] == [900]
    assert updated.body["durations"] == [30] and updated.body["description"] == "keep me"


def test_references_are_unique_per_company(api: Api, tenant: Tenant) -> None:
    _create(api, tenant, reference="TS001")
    duplicate = api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "Other", "reference": "TS001"}, tenant.admin)
    assert duplicate.status == 409 and duplicate.error["field"] == "reference"
    total = api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).body["total_entries"]
    assert total == 1


def test_changing_reference_frees_the_old_one(api: Api, tenant: Tenant) -> None:
    first = _create(api, tenant, reference="OLD")
    second = _create(api, tenant, reference="TAKEN")
    clash = api.put(f"/api/v1/admin/{tenant.id}/services/{first['id']}", {"reference": "TAKEN"}, tenant.admin)
    assert clash.status == 409 and clash.error["code"] == "duplicate_reference"
    moved = api.put(f"/api/v1/admin/{tenant.id}/services/{first['id']}", {"reference": "NEW"}, tenant.admin)
    assert moved.status == 200
    found = api.get(f"/api/v1/admin/{tenant.id}/services/find_by_ref/NEW", tenant.admin)
    assert found.status == 200 and found.body["id"] == first["id"]
    assert api.get(f"/api/v1/admin/{tenant.id}/services/find_by_ref/OLD", tenant.admin).status == 404
    reuse = _create(api, tenant, reference="OLD")
    assert reuse["id"] not in (first["id"], second["id"])


def test_delete_is_soft(api: Api, tenant: Tenant) -> None:
    service = _create(api, tenant, reference="GONE")
    deleted = api.delete(f"/api/v1/admin/{tenant.id}/services/{service['id']}", tenant.admin)
    assert deleted.status == 200 and deleted.body["deleted"] is True
    assert api.get(f"/api/v1/{tenant.id}/services/{service['id']}", tenant.public).status == 404
    assert api.get(f"/api/v1/{tenant.id}/services", tenant.public).body["total_entries"] == 0
    admin = api.get(f"/api/v1/admin/{tenant.id}/services/{service['id']}", tenant.admin)
    assert admin.status == 200 and admin.body["deleted"] is True
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).body["total_entries"] == 1
    assert api.get(f"/api/v1/admin/{tenant.id}/services/find_by_ref/GONE", tenant.admin).body["deleted"] is True


def test_disabled_services_are_hidden_from_the_public_list(api: Api, tenant: Tenant) -> None:
    _create(api, tenant, disabled=True)
    _create(api, tenant)
    assert api.get(f"/api/v1/{tenant.id}/services", tenant.public).body["total_entries"] == 1
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).body["total_entries"] == 2


def test_listing_pages_with_total_and_next_link(api: Api, tenant: Tenant) -> None:
    for number in range(33):
        _create(api, tenant, name=f"Service {number:02d}")
    first = api.get(f"/api/v1/{tenant.id}/services", tenant.public)
    assert first.body["total_entries"] == 33
    assert len(first.body["_embedded"]["services"]) == 30
    assert "page=2&per_page=30" in first.body["_links"]["next"]["href"]
    second = api.get(f"/api/v1/{tenant.id}/services?page=2", tenant.public)
    names = [s["name"] for s in first.body["_embedded"]["services"] + second.body["_embedded"]["services"]]
    assert sorted(names) == [f"Service {n:02d}" for n in range(33)]
    assert "next" not in second.body["_links"]
    small = api.get(f"/api/v1/{tenant.id}/services?per_page=10&page=4", tenant.public)
    assert len(small.body["_embedded"]["services"]) == 3
    beyond = api.get(f"/api/v1/{tenant.id}/services?page=9", tenant.public)
    assert beyond.status == 200 and beyond.body["_embedded"]["services"] == []


def test_per_page_is_capped(api: Api, tenant: Tenant) -> None:
    refused = api.get(f"/api/v1/{tenant.id}/services?per_page=101", tenant.public)
    assert refused.status == 422 and refused.error["field"] == "per_page"


def test_bounds_are_checked(api: Api, tenant: Tenant) -> None:
    refused = api.post(
        f"/api/v1/admin/{tenant.id}/services", {"name": "x", "min_bookings": 5, "max_bookings": 2}, tenant.admin
    )
    assert refused.status == 422 and refused.error["field"] == "min_bookings"
    unknown = api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "x", "colour": "red"}, tenant.admin)
    assert unknown.status == 422 and unknown.error["field"] == "colour"
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).body["total_entries"] == 0


def test_extra_numbers_dynamodb_cannot_store_are_refused(api: Api, tenant: Tenant) -> None:
    for extra in ({"n": 10**40}, {"n": 1e200}, {"nested": [{"n": -(10**39)}]}):
        reply = api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "Big", "extra": extra}, tenant.admin)
        assert reply.status == 422, reply.body
        assert reply.body["error"]["field"].startswith("extra")
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).body["total_entries"] == 0
