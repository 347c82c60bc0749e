"""Request and response models of the platform and BookingBug catalogue faces.

Models build their validators on first use (``defer_build``) so that importing
the app stays cheap: Lambda cold start is import time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Minutes = Annotated[int, Field(gt=0, le=7 * 24 * 60)]
Seconds = Annotated[int, Field(ge=0, le=10 * 366 * 86_400)]
MinorUnits = Annotated[int, Field(ge=0, le=100_000_000_00)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class Strict(BaseModel):
    """Requests: unknown fields are refused, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)


class Out(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)


class ErrorDetail(Out):
    code: str
    message: str
    field: str | None = None


class ErrorBody(Out):
    model_config = ConfigDict(defer_build=True, extra="allow")
    error: ErrorDetail


class Link(Out):
    href: str
    templated: bool | None = None


Links = dict[str, Link]


class Health(Out):
    status: Literal["ok"]


# --- platform ---------------------------------------------------------------


class CompanyCreate(Strict):
    name: Name
    admin_email: EmailStr
    admin_password: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Europe/London"


class AdminOut(Out):
    email: str


class PlatformCompany(Out):
    id: int
    name: str
    app_id: str
    timezone: str
    created_at: str
    admin: AdminOut


class IssuedCompany(PlatformCompany):
    app_key: str
    api_key: str


class KeyRotation(Strict):
    keys: list[Literal["api_key", "app_key"]] = Field(default=["api_key", "app_key"], min_length=1)
    grace_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] | None = None


class RotatedKeys(Out):
    app_key: str | None = None
    api_key: str | None = None
    old_keys_retire_at: str


# --- login and company --------------------------------------------------------


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    id: Annotated[int, Field(gt=0)] | None = Field(
        default=None, description="company id, when one email administers several"
    )


class LoginOut(Out):
    email: str
    auth_token: str
    company_id: int
    role: Literal["admin"]
    expires_at: str
    links: Links = Field(alias="_links")


class CompanyOut(Out):
    id: int
    name: str
    timezone: str
    currency_code: str
    links: Links = Field(alias="_links")


# --- pagination -----------------------------------------------------------------


class PageQuery(Strict):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 30


# --- services -------------------------------------------------------------------


class ServiceFields(Strict):
    """Fields shared by create and update; numbers may come as strings ("60")."""

    description: Text | None = None
    reference: Reference | None = None
    duration: Minutes | None = None
    durations: Annotated[list[Minutes], Field(min_length=1, max_length=50)] | None = None
    price: MinorUnits | None = None
    prices: Annotated[list[MinorUnits], Field(min_length=1, max_length=50)] | None = None
    listed_durations: Annotated[list[Minutes], Field(max_length=50)] | None = None
    spaces: Annotated[int, Field(ge=1, le=100_000)] | None = None
    detail_group_id: Annotated[int, Field(gt=0)] | None = None
    booking_time_step: Minutes | None = None
    min_advance_period: Seconds | None = None
    max_advance_period: Seconds | None = None
    min_cancel_period: Seconds | None = None
    min_bookings: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_bookings: Annotated[int, Field(ge=1, le=10_000)] | None = None
    pre_time: Annotated[int, Field(ge=0, le=1440)] | None = None
    post_time: Annotated[int, Field(ge=0, le=1440)] | None = None
    booking_type_public: Literal["booking", "request", "none"] | None = None
    booking_type_member: Literal["booking", "request", "none"] | None = None
    queuing_disabled: bool | None = None
    disabled: bool | None = None
    order: Annotated[int, Field(ge=0)] | None = None
    extra: Annotated[dict[str, Any], Field(max_length=50)] | None = None

    @field_validator("extra")
    @classmethod
    def _storable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        _check_storable(value, depth=0)
        return value


def _check_storable(value: Any, depth: int) -> None:
    """DynamoDB refuses empty map keys and numbers past 38 digits or 1e126; deep nesting buys nothing but cost."""
    if depth > 5:
        raise ValueError("nests deeper than 5 levels")
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) > 38:
        raise ValueError("numbers have at most 38 digits")
    if isinstance(value, float) and value != 0 and not 1e-130 <= abs(value) < 1e126:
        raise ValueError("numbers lie between 1e-130 and 1e126 in magnitude")
    if isinstance(value, dict):
        for key, item in value.items():
            if not key or len(key) > 255:
                raise ValueError("keys must be 1 to 255 characters")
            _check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1)


class ServiceCreate(ServiceFields):
    name: Name


class ServiceUpdate(ServiceFields):
    name: Name | None = None


class ServiceOut(Out):
    id: int
    name: str
    description: str
    durations: list[int]
    prices: list[int]
    detail_group_id: int | None
    listed_durations: list[int]
    extra: dict[str, Any]
    booking_time_step: int
    is_event_group: bool
    type: Literal["service"]
    deleted: bool
    disabled: bool
    queuing_disabled: bool
    company_id: int
    duration_unit: Literal["minute"]
    min_advance_period: int
    max_advance_period: int
    min_cancel_period: int
    booking_type_public: str
    booking_type_member: str
    min_bookings: int
    max_bookings: int
    groups: list[Any]
    spaces: int
    order: int
    child_level_service: bool
    reference: str | None
    api_ref: str | None
    pre_time: int
    post_time: int
    links: Links = Field(alias="_links")


class ServiceList(Out):
    total_entries: int
    embedded: dict[Literal["services"], list[ServiceOut]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")


# --- questions ----------------------------------------------------------------

DetailType = Literal[
    "text_field",
    "text_area",
    "select",
    "select-price",
    "radio",
    "radio-price",
    "check",
    "check-price",
    "date",
    "heading",
]


class OptionIn(Strict):
    name: Name
    price: MinorUnits = 0
    is_default: bool = False


class QuestionIn(Strict):
    name: Name
    detail_type: DetailType
    required: bool = False
    important: bool = False
    admin_only: bool = False
    default: Annotated[str, StringConstraints(max_length=1000)] | None = None
    price: MinorUnits = 0
    price_per_booking: bool = False
    options: Annotated[list[OptionIn], Field(max_length=100)] = []
    help_text: Text | None = None


class QuestionGroupIn(Strict):
    name: Name
    questions: Annotated[list[QuestionIn], Field(max_length=100)] = []


class QuestionGroupUpdate(Strict):
    name: Name | None = None
    questions: Annotated[list[QuestionIn], Field(max_length=100)] | None = None


class OptionOut(Out):
    id: int
    name: str
    price: int
    is_default: bool


class QuestionOut(Out):
    id: int
    name: str
    detail_type: str
    required: bool
    important: bool
    admin_only: bool
    default: str | None
    price: int
    price_per_booking: bool
    options: list[OptionOut]
    help_text: str | None


class QuestionGroupOut(Out):
    id: int
    name: str
    company_id: int
    questions: list[QuestionOut]
    links: Links = Field(alias="_links")


class QuestionGroupList(Out):
    total_entries: int
    embedded: dict[Literal["question_groups"], list[QuestionGroupOut]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")


class QuestionsQuery(Strict):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    detail_group_id: Annotated[int, Field(gt=0)]


class QuestionsOut(Out):
    company_id: int
    detail_group_id: int
    name: str
    questions: list[QuestionOut]
    links: Links = Field(alias="_links")


# --- client details and clients ---------------------------------------------------

ClientField = Literal[
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "address1",
    "address2",
    "address3",
    "address4",
    "address5",
    "postcode",
    "country",
    "date_of_birth",
    "newsletter",
]


class ClientFieldIn(Strict):
    name: ClientField
    required: bool = False
    enabled: bool = True
    label: Annotated[str, StringConstraints(max_length=100)] | None = None


class ClientDetailsIn(Strict):
    fields: Annotated[list[ClientFieldIn], Field(min_length=1, max_length=20)]


class ClientFieldOut(Out):
    name: str
    label: str
    required: bool
    enabled: bool


class ClientDetailsOut(Out):
    company_id: int
    fields: list[ClientFieldOut]
    questions: list[QuestionOut]
    links: Links = Field(alias="_links")


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[0-9+() .-]*$")]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class ClientIn(Strict):
    email: EmailStr
    first_name: Short | None = None
    last_name: Short | None = None
    phone: Phone | None = None
    mobile: Phone | None = None
    phone_prefix: Annotated[str, StringConstraints(max_length=8)] | None = None
    mobile_prefix: Annotated[str, StringConstraints(max_length=8)] | None = None
    address1: Short | None = None
    address2: Short | None = None
    address3: Short | None = None
    address4: Short | None = None
    address5: Short | None = None
    postcode: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Annotated[str, StringConstraints(max_length=60)] | None = None
    date_of_birth: date | None = None
    newsletter: bool | None = None
    reference: Reference | None = None


class ClientOut(Out):
    id: int
    company_id: int
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    mobile: str | None = None
    phone_prefix: str | None = None
    mobile_prefix: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    address4: str | None = None
    address5: str | None = None
    postcode: str | None = None
    country: str | None = None
    date_of_birth: str | None = None
    newsletter: bool | None = None
    reference: str | None = None
    created_at: str
    updated_at: str
    links: Links = Field(alias="_links")


class ClientList(Out):
    total_entries: int
    embedded: dict[Literal["clients"], list[ClientOut]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")
