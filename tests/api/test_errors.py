import json

from tests.conftest import Api, Tenant


def _count(api: Api, tenant: Tenant) -> int:
    total: int = api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).body["total_entries"]
    return total


def test_malformed_json_is_400_and_writes_nothing(api: Api, tenant: Tenant) -> None:
    refused = api.call("POST", f"/api/v1/admin/{tenant.id}/services", headers=tenant.admin, raw='{"name": ')
    assert refused.status == 400
    assert refused.body == {"error": {"code": "malformed_json", "message": "the request body is not valid JSON"}}
    assert _count(api, tenant) == 0


def test_wrong_content_type_is_415(api: Api, tenant: Tenant) -> None:
    refused = api.call(
        "POST",
        f"/api/v1/admin/{tenant.id}/services",
        headers={**tenant.admin, "Content-Type": "application/xml"},
        raw="<service/>",
    )
    assert refused.status == 415 and refused.error["code"] == "unsupported_media_type"
    assert _count(api, tenant) == 0


def test_curl_data_without_content_type_is_read_as_json(api: Api, tenant: Tenant) -> None:
    # `curl --data '{...}'` sends application/x-www-form-urlencoded, as the seeds' examples do.
    reply = api.call(
        "POST",
        f"/api/v1/admin/{tenant.id}/services",
        headers={**tenant.admin, "Content-Type": "application/x-www-form-urlencoded"},
        raw=json.dumps({"name": "From curl"}),
    )
    assert reply.status == 201


def test_body_over_one_megabyte_is_413(api: Api, tenant: Tenant) -> None:
    huge = json.dumps({"name": "x", "description": "y" * (1024 * 1024)})
    refused = api.call("POST", f"/api/v1/admin/{tenant.id}/services", headers=tenant.admin, raw=huge)
    assert refused.status == 413 and refused.error["code"] == "payload_too_large"
    assert _count(api, tenant) == 0


def test_validation_names_the_nested_field(api: Api, tenant: Tenant) -> None:
    refused = api.post(
        f"/api/v1/admin/{tenant.id}/question_groups",
        {"name": "Q", "questions": [{"name": "ok", "detail_type": "text_field"}, {"name": "", "detail_type": "date"}]},
        tenant.admin,
    )
    assert refused.status == 422
    assert refused.error["field"] == "questions.1.name"
    assert refused.error["details"][0]["field"] == "questions.1.name"


def test_json_that_is_not_an_object_is_422(api: Api, tenant: Tenant) -> None:
    refused = api.call("POST", f"/api/v1/admin/{tenant.id}/services", headers=tenant.admin, raw="[1, 2]")
    assert refused.status == 422


def test_wrong_method_uses_the_error_shape(api: Api) -> None:
    refused = api.call("DELETE", "/health")
    assert refused.status == 405
    assert refused.error["code"] == "method_not_allowed"


def test_health_is_ok_when_the_table_answers(api: Api) -> None:
    assert api.get("/health").body == {"status": "ok"}


def test_health_is_503_when_the_table_is_missing(api: Api, monkeypatch: object) -> None:
    import boto3

    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName="booking-engine-test")
    refused = api.get("/health")
    assert refused.status == 503 and refused.error["code"] == "unavailable"


def test_unexpected_failure_is_a_500_without_details(api: Api, tenant: Tenant, monkeypatch: object) -> None:
    from _pytest.monkeypatch import MonkeyPatch

    assert isinstance(monkeypatch, MonkeyPatch)
    from chalicelib.services.catalogue import catalogue

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(catalogue, "list_services", explode)
    failed = api.get(f"/api/v1/{tenant.id}/services", tenant.public)
    assert failed.status == 500
    assert failed.body == {"error": {"code": "internal_error", "message": "an internal error occurred"}}


def test_nan_and_infinity_are_not_json(api: Api, tenant: Tenant) -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        refused = api.call(
            "POST",
            f"/api/v1/admin/{tenant.id}/services",
            headers=tenant.admin,
            raw='{"name": "x", "extra": {"n": ' + constant + "}}",
        )
        assert refused.status == 400 and refused.error["code"] == "malformed_json"
    assert _count(api, tenant) == 0


def test_extra_keys_must_be_storable(api: Api, tenant: Tenant) -> None:
    empty = api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "x", "extra": {"": 1}}, tenant.admin)
    assert empty.status == 422 and empty.error["field"] == "extra"
    nested = api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "x", "extra": {"a": [{"": 1}]}}, tenant.admin)
    assert nested.status == 422
    assert _count(api, tenant) == 0


def test_impossible_dates_are_refused(api: Api, tenant: Tenant) -> None:
    refused = api.post(
        f"/api/v1/{tenant.id}/client",
        {"email": "d@example.com", "first_name": "D", "last_name": "B", "date_of_birth": "3434-93-00"},
        tenant.public,
    )
    assert refused.status == 422 and refused.error["field"] == "date_of_birth"
    ok = api.post(
        f"/api/v1/{tenant.id}/client",
        {"email": "d@example.com", "first_name": "D", "last_name": "B", "date_of_birth": "1985-10-26"},
        tenant.public,
    )
    assert ok.status == 201 and ok.body["date_of_birth"] == "1985-10-26"
