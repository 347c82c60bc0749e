"""Credentials (issue 13, section 4): logout and revocation on rotation, brute-force limits
on every sign-in (v1 login, legacy and v2 Basic), Timekit's Basic rule, and 404 rather than
405 for a path that names nothing."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from chalicelib.domain import secrets
from chalicelib.domain.errors import TooManyRequests
from chalicelib.services.identity import limits
from chalicelib.settings import get_settings, reset_settings
from chalicelib.store.models import FailureCount
from tests.conftest import ROOT, Api, Tenant

EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Haircut"}


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _services(api: Api, tenant: Tenant, headers: dict[str, str]) -> int:
    return api.get(f"/api/v1/admin/{tenant.id}/services", headers).status


def _login(api: Api, tenant: Tenant, password: str, email: str | None = None) -> tuple[int, dict[str, str], object]:
    reply = api.post("/api/v1/login", {"email": email or tenant.admin_email, "password": password}, tenant.public)
    return reply.status, reply.headers, reply.body


# --- revocation -----------------------------------------------------------------------------------


def test_logout_ends_the_session_at_once(api: Api, tenant: Tenant) -> None:
    assert _services(api, tenant, tenant.admin) == 200
    out = api.delete("/api/v1/login", tenant.admin)
    assert out.status == 204
    assert _services(api, tenant, tenant.admin) == 401
    again = api.delete("/api/v1/login", tenant.admin)
    assert again.status == 401 and again.error["field"] == "Auth-Token"


def test_logout_cannot_end_another_companys_session(api: Api, tenant: Tenant) -> None:
    from tests.conftest import make_tenant

    other = make_tenant(api, "Other")
    refused = api.delete("/api/v1/login", {**other.public, "Auth-Token": tenant.auth_token})
    assert refused.status == 401
    assert _services(api, tenant, tenant.admin) == 200


def test_rotation_revokes_every_token_only_when_asked(api: Api, tenant: Tenant) -> None:
    kept = api.post(f"/platform/companies/{tenant.id}/keys", {"keys": ["app_key"], "grace_seconds": 0}, ROOT)
    assert kept.status == 201 and kept.body["tokens_revoked"] is False
    fresh = {"App-Id": tenant.app_id, "App-Key": kept.body["app_key"], "Auth-Token": tenant.auth_token}
    assert _services(api, tenant, fresh) == 200  # a rotation alone leaves sessions alone

    revoked = api.post(
        f"/platform/companies/{tenant.id}/keys",
        {"keys": ["app_key"], "grace_seconds": 0, "revoke_tokens": True},
        ROOT,
    )
    assert revoked.status == 201 and revoked.body["tokens_revoked"] is True
    newest = {"App-Id": tenant.app_id, "App-Key": revoked.body["app_key"]}
    assert _services(api, tenant, {**newest, "Auth-Token": tenant.auth_token}) == 401
    # A login after the revocation works.
    relog = api.post("/api/v1/login", {"email": tenant.admin_email, "password": tenant.admin_password}, newest)
    assert relog.status == 201
    assert _services(api, tenant, {**newest, "Auth-Token": relog.body["auth_token"]}) == 200


# --- brute force ------------------------------------------------------------------------------------


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = secrets.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(password)
        return real(password, stored)

    monkeypatch.setattr(secrets, "verify_password", counting)
    return calls


def test_failed_logins_per_account_are_limited_before_any_scrypt(
    api: Api, tenant: Tenant, scrypt_calls: list[str]
) -> None:
    for _ in range(get_settings().signin_failures_per_account):
        assert _login(api, tenant, "wrong password")[0] == 401
    spent = len(scrypt_calls)
    status, headers, body = _login(api, tenant, tenant.admin_password)  # even the right password
    assert status == 429
    assert isinstance(body, dict) and body["error"]["code"] == "too_many_requests"
    assert 0 < int(headers["Retry-After"]) <= limits.WINDOW_SECONDS
    assert len(scrypt_calls) == spent, "a refused attempt must not cost a scrypt"
    # The same email in any letter case is the same account.
    assert _login(api, tenant, "wrong", tenant.admin_email.upper())[0] == 429


def test_failed_logins_per_address_are_limited(api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNIN_FAILURES_PER_ADDRESS", "5")
    reset_settings()
    for n in range(5):
        assert _login(api, tenant, "wrong", f"nobody{n}@example.com")[0] == 401
    assert _login(api, tenant, "wrong", "someone-else@example.com")[0] == 429


def test_failed_legacy_basic_auth_is_limited_in_the_xml_error_shape(api: Api, tenant: Tenant) -> None:
    wrong = {**_basic(tenant.admin_email, "wrong"), "Content-Type": "text/xml"}
    for _ in range(get_settings().signin_failures_per_account):
        assert api.call("GET", "/api/sessions.xml", headers=wrong).status == 401
    refused = api.call("GET", "/api/sessions.xml", headers={**tenant.legacy, "Content-Type": "text/xml"})
    assert refused.status == 429 and "Retry-After" in refused.headers
    assert isinstance(refused.body, str) and "<code>too_many_requests</code>" in refused.body


def test_failed_v2_basic_auth_is_limited_per_address(api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNIN_FAILURES_PER_ADDRESS", "3")
    reset_settings()
    for _ in range(3):
        assert api.get("/v2/bookings", _basic("", "sk_wrong")).status == 401
    refused = api.get("/v2/bookings", tenant.v2)
    assert refused.status == 429 and refused.error["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0


def test_the_limit_ends_with_its_window(moto_table: str) -> None:
    subjects = limits.subjects("admin@example.com", "192.0.2.1")
    start = 1_800_000_000 - 1_800_000_000 % limits.WINDOW_SECONDS
    for _ in range(get_settings().signin_failures_per_account):
        limits.failed(subjects, now=start + 10)
    with pytest.raises(TooManyRequests) as refused:
        limits.check(subjects, now=start + 100)
    assert refused.value.headers["Retry-After"] == str(limits.WINDOW_SECONDS - 100)
    limits.check(subjects, now=start + limits.WINDOW_SECONDS)  # a new window: allowed again


# --- Timekit's Basic rule and unknown paths ------------------------------------------------------------


def test_v2_basic_auth_wants_an_empty_user(api: Api, tenant: Tenant) -> None:
    assert api.get("/v2/bookings", tenant.v2).status == 200
    refused = api.get("/v2/bookings", _basic("someone", tenant.api_key))
    assert refused.status == 401 and refused.error["code"] == "unauthorized"


def test_a_path_that_names_nothing_is_404_not_405(api: Api, tenant: Tenant) -> None:
    created = api.post(
        "/v2/bookings",
        {"graph": "confirm_decline", "event": EVENT, "customer": {"name": "A", "email": "a@example.com"}},
        tenant.v2,
    )
    assert created.status == 201, created.body
    missing = api.get("/v2/bookings/group/123", tenant.v2)
    assert missing.status == 404 and missing.error["code"] == "not_found"
    # A real booking's action path exists: another method there is still 405, in our shape.
    wrong_method = api.get(f"/v2/bookings/{created.body['data']['id']}/confirm", tenant.v2)
    assert wrong_method.status == 405 and wrong_method.error["code"] == "method_not_allowed"


def test_a_clean_address_is_read_once_a_second_and_a_failure_reads_it_again(
    moto_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects = limits.subjects(None, "192.0.2.9")
    reads: list[int] = []
    real = FailureCount.batch_get

    def counted(wanted: Any, **kwargs: Any) -> Any:
        reads.append(len(wanted))
        return real(wanted, **kwargs)

    monkeypatch.setattr(FailureCount, "batch_get", counted)
    # The process clock stands still: on a loaded machine moto's read alone can take a second.
    monkeypatch.setattr("chalicelib.services.identity.limits.time.monotonic", lambda: 1000.0)
    limits.check(subjects)
    limits.check(subjects)
    assert reads == [1]  # the second request within CLEAN_SECONDS trusts the first's read
    for _ in range(get_settings().signin_failures_per_address):
        limits.failed(subjects)
    with pytest.raises(TooManyRequests):
        limits.check(subjects)  # a failure counted here drops the trust: read, and refused
    with pytest.raises(TooManyRequests):
        limits.check(subjects)  # a subject with failures is read every time
    assert reads == [1, 1, 1]
