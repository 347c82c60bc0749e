import time

import pytest

from chalicelib.domain.errors import Unauthorized
from chalicelib.services.identity import auth
from chalicelib.services.identity.auth import Role, Scheme
from chalicelib.store.models import AuthToken
from tests.conftest import Api, Tenant


def test_no_credentials_is_401_with_the_error_shape(api: Api, tenant: Tenant) -> None:
    refused = api.get(f"/api/v1/{tenant.id}/services")
    assert refused.status == 401
    assert set(refused.error) >= {"code", "message"}


def test_app_id_must_match_the_key(api: Api, tenant: Tenant) -> None:
    assert api.get(f"/api/v1/{tenant.id}/services", {"App-Id": "deadbeef", "App-Key": tenant.app_key}).status == 401


def test_public_key_cannot_reach_admin_routes_without_a_token(api: Api, tenant: Tenant) -> None:
    refused = api.get(f"/api/v1/admin/{tenant.id}/services", tenant.public)
    assert refused.status == 401 and refused.error["field"] == "Auth-Token"
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).status == 200


def test_secret_api_key_as_app_key_is_admin(api: Api, tenant: Tenant) -> None:
    headers = {"App-Id": tenant.app_id, "App-Key": tenant.api_key}
    assert api.get(f"/api/v1/admin/{tenant.id}/services", headers).status == 200


def test_wrong_password_gets_no_token(api: Api, tenant: Tenant) -> None:
    refused = api.post("/api/v1/login", {"email": tenant.admin_email, "password": "wrong"}, tenant.public)
    assert refused.status == 401
    unknown = api.post("/api/v1/login", {"email": "nobody@example.com", "password": "x"}, tenant.public)
    assert unknown.status == 401


def test_expired_token_is_refused(api: Api, tenant: Tenant) -> None:
    from chalicelib.domain import secrets
    from chalicelib.store import keys

    item = AuthToken.get(keys.token_pk(secrets.digest(tenant.auth_token)), keys.TOKEN_SK)
    item.update(actions=[AuthToken.expires_at.set(int(time.time()) - 1)])
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).status == 401


def test_token_use_slides_its_expiry(api: Api, tenant: Tenant) -> None:
    from chalicelib.domain import secrets
    from chalicelib.store import keys

    key = (keys.token_pk(secrets.digest(tenant.auth_token)), keys.TOKEN_SK)
    soon = int(time.time()) + 3600
    AuthToken.get(*key).update(actions=[AuthToken.expires_at.set(soon)])
    assert api.get(f"/api/v1/admin/{tenant.id}/services", tenant.admin).status == 200
    assert AuthToken.get(*key).expires_at > time.time() + 86_000


def test_v2_basic_auth_with_the_api_key(tenant: Tenant) -> None:
    principal = auth.authenticate(Scheme.V2, {k.lower(): v for k, v in tenant.v2.items()})
    assert principal is not None and principal.company_id == tenant.id and principal.role is Role.ADMIN
    public_key = {"authorization": "Basic " + __import__("base64").b64encode(f":{tenant.app_key}".encode()).decode()}
    with pytest.raises(Unauthorized):
        auth.authenticate(Scheme.V2, public_key)


def test_timekit_app_header_must_match_when_sent(tenant: Tenant) -> None:
    headers = {k.lower(): v for k, v in tenant.v2.items()}
    assert auth.authenticate(Scheme.V2, {**headers, "timekit-app": tenant.app_id}) is not None
    with pytest.raises(Unauthorized):
        auth.authenticate(Scheme.V2, {**headers, "timekit-app": "someone-else"})


def test_legacy_basic_auth_with_admin_email_and_password(tenant: Tenant) -> None:
    principal = auth.authenticate(Scheme.LEGACY, {k.lower(): v for k, v in tenant.legacy.items()})
    assert principal is not None and principal.company_id == tenant.id
    with pytest.raises(Unauthorized):
        auth.authenticate(Scheme.LEGACY, {"authorization": "Basic bm90OnJpZ2h0"})
    with pytest.raises(Unauthorized):
        auth.authenticate(Scheme.LEGACY, {"authorization": "Basic %%%"})
