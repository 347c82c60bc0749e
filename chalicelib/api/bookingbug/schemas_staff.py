"""BookingBug people, resources, opening hours and availability (time_data, day_data).

People and resources are the engine's one resource model (``services/catalogue/resources``)
seen through BookingBug's shapes; their schedule is Timekit's availability constraints
(our extension: BookingBug's own schedules are admin screens), else the company's opening hours.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, EmailStr, Field, StringConstraints, field_validator

from chalicelib.api.http.schemas import Links, MinorUnits, Name, Out, Query, Reference, Strict, Text, check_storable

Zone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Constraints = Annotated[list[dict[str, Any]], Field(max_length=200)]
Short = Annotated[str, StringConstraints(max_length=200)]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Id = Annotated[int, Field(gt=0, le=10**15)]


class StaffFields(Strict):
    """Fields of both people and resources; what the engine does not use is kept as given."""

    description: Text | None = None
    email: EmailStr | None = None
    disabled: bool | None = None
    never_booked: bool | None = None
    timezone: Zone | None = Field(default=None, description="IANA zone of its schedule (default: the company's)")
    availability_constraints: Constraints | None = Field(
        default=None, description="Timekit constraints; none: the company's opening hours"
    )

    @field_validator("availability_constraints")
    @classmethod
    def _storable(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        check_storable(value, depth=0)
        return value


class PersonFields(StaffFields):
    phone_prefix: Annotated[str, StringConstraints(max_length=10)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    mobile: Annotated[str, StringConstraints(max_length=40)] | None = None
    ical_link: Annotated[str, StringConstraints(max_length=2000)] | None = None
    reference: Reference | None = None
    notify: bool | None = None
    all_staff: bool | None = None
    client_queue_id: Id | None = None
    queuing_disabled: bool | None = None


class PersonCreate(PersonFields):
    name: Name


class PersonUpdate(PersonFields):
    name: Name | None = None


class Address(Strict):
    address1: Short | None = None
    address2: Short | None = None
    address3: Short | None = None
    address4: Short | None = None
    address5: Short | None = None
    postcode: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Short | None = None


class StaffResourceFields(StaffFields):
    price: MinorUnits | None = None
    position: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    count: Annotated[int, Field(ge=1, le=1)] | None = Field(
        default=None, description="one: a resource is booked by one booking at a time"
    )
    max_book: Annotated[int, Field(ge=0, le=10_000)] | None = None
    api_ref: Reference | None = None
    address: Address | None = None
    address_id: Id | None = None


class StaffResourceCreate(StaffResourceFields):
    name: Name


class StaffResourceUpdate(StaffResourceFields):
    name: Name | None = None


class StaffQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=300)] = 300  # BookingBug's default page is 300


class StaffOut(Out):
    model_config = ConfigDict(defer_build=True, populate_by_name=True, extra="allow")  # the kept fields
    id: int
    name: str
    type: Literal["person", "resource"]
    deleted: bool
    disabled: bool
    company_id: int
    order: int
    email: str | None = None
    reference: str | None = None
    timezone: str
    availability_constraints: list[dict[str, Any]]
    service_ids: list[int]
    links: Links = Field(alias="_links")


class PeopleList(Out):
    total_entries: int
    embedded: dict[Literal["people"], list[StaffOut]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")


class StaffResourceList(Out):
    total_entries: int
    embedded: dict[Literal["resources"], list[StaffOut]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")


# --- opening hours -----------------------------------------------------------------------


class OpeningHoursIn(Strict):
    availability_constraints: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=200)]

    @field_validator("availability_constraints")
    @classmethod
    def _storable(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        check_storable(value, depth=0)
        return value


class OpeningHoursOut(Out):
    timezone: str
    availability_constraints: list[dict[str, Any]]
    links: Links = Field(alias="_links")


# --- time_data and day_data ---------------------------------------------------------------


class TimeDataQuery(Query):
    # The SDK also sends single, time_zone...: ignored, as every query ignores unknown parameters.
    service_id: Id
    date: Day | None = Field(default=None, description="local day (default today)")
    end_date: Day | None = Field(default=None, description="last local day (default date; at most 31 days)")
    person_id: Id | None = None
    resource_id: Id | None = None
    duration: Annotated[int, Field(gt=0, le=1440)] | None = Field(default=None, description="one of its durations")


class DayDataQuery(Query):
    service_id: Id
    date: Day | None = Field(default=None, description="first local day (default today)")
    edate: Day | None = Field(default=None, description="last local day (default date + 4 weeks; at most 62 days)")
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] | None = Field(default=None, description="MMYY")
    person_id: Id | None = None
    resource_id: Id | None = None
    duration: Annotated[int, Field(gt=0, le=1440)] | None = None


class TimeOut(Out):
    time: int
    avail: int
    price: int
    datetime: str


class EventTimes(Out):
    event_id: int
    name: str
    date: str
    person_id: int | None = None
    resource_id: int | None = None
    times: list[TimeOut]
    links: Links = Field(alias="_links")


class TimeData(Out):
    embedded: dict[Literal["events"], list[EventTimes]] = Field(alias="_embedded")
    links: Links = Field(alias="_links")


class DayOut(Out):
    date: str
    spaces: int


class ServiceDays(Out):
    service_id: int
    name: str
    days: list[DayOut]
    links: Links = Field(alias="_links")


class DayData(Out):
    embedded: dict[Literal["day_data"], list[ServiceDays]] = Field(alias="_embedded")
    days: list[DayOut]  # the SDK reads top-level days from the service's days link
    links: Links = Field(alias="_links")
