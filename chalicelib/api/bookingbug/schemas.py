"""Request and response models of the BookingBug catalogue face (login, company,
services, questions, clients).

Models build their validators on first use (``defer_build``) so that importing
the app stays cheap: Lambda cold start is import time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from chalicelib.api.http.schemas import (
    Links,
    MinorUnits,
    Minutes,
    Name,
    Out,
    Reference,
    Seconds,
    Strict,
    Text,
    check_storable,
)

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
    person_ids: Annotated[list[Annotated[int, Field(gt=0)]], Field(max_length=100)] | None = Field(
        default=None, description="people who deliver it; a slot claims one of them"
    )
    resource_ids: Annotated[list[Annotated[int, Field(gt=0)]], Field(max_length=100)] | None = Field(
        default=None, description="resources (rooms...) it uses; a slot claims one of them"
    )

    @field_validator("extra")
    @classmethod
    def _storable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_storable(value, depth=0)
        return value


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
    person_ids: list[int]
    resource_ids: list[int]
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


# --- bookable items (what a service's _links.items lists) --------------------------------


class ItemsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    service_id: Annotated[int, Field(gt=0)] | None = None


class BookableItem(Out):
    service_id: int
    name: str
    type: Literal["service"]
    durations: list[int]
    prices: list[int]
    links: Links = Field(alias="_links")


class BookableItemList(Out):
    total_entries: int
    embedded: dict[Literal["items"], list[BookableItem]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")
