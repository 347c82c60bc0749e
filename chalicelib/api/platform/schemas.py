"""Request and response models of the platform face.

Models build their validators on first use (``defer_build``): cold start is import time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from chalicelib.api.http.schemas import Name, Out, Strict

# --- platform ---------------------------------------------------------------

Origins = Annotated[list[Annotated[str, StringConstraints(max_length=300)]], Field(max_length=20)]
ORIGINS_HELP = (
    'Origins (https://shop.example) whose pages may read the API\'s answers (CORS); ["*"] or null: any origin.'
)


class CompanyCreate(Strict):
    name: Name
    admin_email: EmailStr
    admin_password: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Europe/London"
    allowed_origins: Origins | None = Field(default=None, description=ORIGINS_HELP)


class CompanyUpdate(Strict):
    allowed_origins: Origins | None = Field(description=ORIGINS_HELP)
    waitlist_offer_time: Annotated[int, Field(ge=60, le=7 * 86_400)] | None = Field(
        default=None, description="Seconds a waitlist offer's hold lasts (default 1800); left as is when absent"
    )


class AdminOut(Out):
    email: str


class PlatformCompany(Out):
    id: int
    name: str
    app_id: str
    timezone: str
    created_at: str
    admin: AdminOut
    allowed_origins: list[str] | None = None
    waitlist_offer_time: int = 1800


class IssuedCompany(PlatformCompany):
    app_key: str
    api_key: str


class KeyRotation(Strict):
    keys: list[Literal["api_key", "app_key"]] = Field(default=["api_key", "app_key"], min_length=1)
    grace_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] | None = None
    revoke_tokens: bool = Field(
        default=False, description="also end every Auth-Token of the company's administrators at once"
    )


class RotatedKeys(Out):
    app_key: str | None = None
    api_key: str | None = None
    old_keys_retire_at: str
    tokens_revoked: bool = False
