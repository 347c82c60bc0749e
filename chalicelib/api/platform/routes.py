"""Platform operator face: ``/platform/...`` with ``Authorization: Bearer <root key>``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http.present import present
from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.services.identity import companies
from chalicelib.services.identity.auth import Scheme
from chalicelib.store.models import Company

if TYPE_CHECKING:
    from chalicelib.api.platform import schemas as s
else:
    s = LazyModule("chalicelib.api.platform.schemas")  # built on first request, not at cold start

bp = Blueprint(__name__)
TAG = "platform"


def _company(company: Company) -> s.PlatformCompany:
    return present(
        s.PlatformCompany,
        company,
        id=company.company_id,
        admin=s.AdminOut(email=company.admin_email),
        allowed_origins=None if company.allowed_origins is None else list(company.allowed_origins),
        waitlist_offer_time=int(company.waitlist_offer_time),
    )


@route(
    bp,
    "/platform/companies",
    "POST",
    summary="Create a company with its keys and first administrator",
    scheme=Scheme.PLATFORM,
    tag=TAG,
    request="platform.schemas:CompanyCreate",
    response="platform.schemas:IssuedCompany",
    status=201,
)
def create_company(call: Call) -> s.IssuedCompany:
    body = call.body(s.CompanyCreate)
    created = companies.create_company(
        body.name, str(body.admin_email), body.admin_password, body.timezone, body.allowed_origins
    )
    assert created.keys.app_key and created.keys.api_key
    return s.IssuedCompany(
        **_company(created.company).model_dump(),
        app_key=created.keys.app_key,
        api_key=created.keys.api_key,
    )


@route(
    bp,
    "/platform/companies/{company_id}",
    "GET",
    summary="Read a company (no secrets)",
    scheme=Scheme.PLATFORM,
    tag=TAG,
    response="platform.schemas:PlatformCompany",
    errors=(404,),
)
def get_company(call: Call, company_id: int) -> s.PlatformCompany:
    return _company(companies.get_company(company_id))


@route(
    bp,
    "/platform/companies/{company_id}",
    "PUT",
    summary="Change a company's settings: allowed_origins (CORS), waitlist_offer_time",
    scheme=Scheme.PLATFORM,
    tag=TAG,
    request="platform.schemas:CompanyUpdate",
    response="platform.schemas:PlatformCompany",
    errors=(404, 409),
)
def update_company(call: Call, company_id: int) -> s.PlatformCompany:
    body = call.body(s.CompanyUpdate)
    companies.set_allowed_origins(company_id, body.allowed_origins, waitlist_offer_time=body.waitlist_offer_time)
    return _company(companies.get_company(company_id))


@route(
    bp,
    "/platform/companies/{company_id}/keys",
    "POST",
    summary="Rotate keys; the old ones keep working for a grace period (default 24 h)",
    scheme=Scheme.PLATFORM,
    tag=TAG,
    request="platform.schemas:KeyRotation",
    response="platform.schemas:RotatedKeys",
    status=201,
    errors=(404, 409),
)
def rotate_keys(call: Call, company_id: int) -> s.RotatedKeys:
    body = call.body(s.KeyRotation)
    kinds = {name.removesuffix("_key") for name in body.keys}
    issued = companies.rotate_keys(company_id, kinds, body.grace_seconds, body.revoke_tokens)
    assert issued.old_keys_retire_at is not None
    return s.RotatedKeys(
        app_key=issued.app_key,
        api_key=issued.api_key,
        old_keys_retire_at=datetime.fromtimestamp(issued.old_keys_retire_at, UTC).isoformat(timespec="seconds"),
        tokens_revoked=body.revoke_tokens,
    )
