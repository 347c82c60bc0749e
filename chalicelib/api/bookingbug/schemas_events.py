"""Request and response models of event groups, event chains and events (BookingBug v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from chalicelib.api.http.schemas import (
    AS_TEXT,
    Day,
    Id,
    Links,
    MinorUnits,
    Minutes,
    Name,
    Out,
    Query,
    Strict,
    Text,
    check_storable,
)

ClockTime = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")]
SessionType = Literal[0, 1, 2, "event", "course", "recurring_event"]
Extra = Annotated[dict[str, Any], Field(max_length=50)]


class _Storable(Strict):
    @field_validator("extra", check_fields=False)
    @classmethod
    def _storable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_storable(value, depth=0)
        return value


# --- event groups -----------------------------------------------------------------------------


class EventGroupIn(_Storable):
    name: Name
    description: Text | None = None
    extra: Extra | None = None


class EventGroupUpdate(_Storable):
    name: Name | None = None
    description: Text | None = None
    extra: Extra | None = None


class EventGroupOut(Out):
    id: int
    name: str
    description: str
    company_id: int
    extra: dict[str, Any]
    links: Links = Field(alias="_links")


class EventGroupEmbedded(Out):
    event_groups: list[EventGroupOut]


class EventGroupList(Out):
    total_entries: int
    embedded: EventGroupEmbedded = Field(alias="_embedded")
    links: Links = Field(alias="_links")


# --- event chains -----------------------------------------------------------------------------


class SlotIn(Strict):
    date: Day
    time: ClockTime | None = None
    duration: Minutes | None = None


class SlotUpdate(Strict):
    """One slot's changes (legacy ``PUT /api/slots/<id>.xml``)."""

    date: Day | None = None
    time: ClockTime | None = None
    duration: Annotated[Minutes, AS_TEXT] | None = None
    spaces: Annotated[int, Field(ge=1, le=100_000), AS_TEXT] | None = None


class ChainFields(_Storable):
    """Seed 001's session parameters; numbers may come as text ("60"), as its XML does."""

    description: Text | None = None
    long_description: Text | None = None
    type: SessionType | None = Field(default=None, description="0 one-off event, 1 course, 2 recurring event")
    repeat: Annotated[int, Field(ge=0, le=8), AS_TEXT] | None = Field(
        default=None,
        description="0 none, 1 weekly, 2 fortnightly, 3 weekdays, 4 weekends, 5 daily, 6 custom slots, "
        "7 monthly by day of month, 8 monthly by weekday (e.g. second Tuesday)",
    )
    start_date: Day | None = None
    end_date: Day | None = None
    time: ClockTime | None = Field(default=None, description="HH:MM in the company's time zone")
    duration: Annotated[Minutes, AS_TEXT] | None = None
    event_group_id: Annotated[Id, AS_TEXT] | None = None
    group: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    spaces: Annotated[int, Field(ge=1, le=100_000), AS_TEXT] | None = None
    shards: Annotated[int, Field(ge=1, le=32), AS_TEXT] | None = Field(
        default=None,
        description=(
            "capacity items per event (1; more only for very busy on-sales: one per 200 basket bookings/s "
            "expected, since a hold and its checkout each write a shard)"
        ),
    )
    price: Annotated[MinorUnits, AS_TEXT] | None = None
    max_num_bookings: Annotated[int, Field(ge=1, le=10_000), AS_TEXT] | None = None
    min_advance: Annotated[int, Field(ge=0, le=366 * 24 * 60), AS_TEXT] | None = Field(
        default=None, description="minutes before the start when booking closes"
    )
    max_advance: Annotated[int, Field(ge=0, le=2 * 366), AS_TEXT] | None = Field(
        default=None, description="days before the start when booking opens"
    )
    min_cancel: Annotated[int, Field(ge=0, le=366), AS_TEXT] | None = Field(
        default=None, description="days before the start until which a booker may cancel"
    )
    ticket_type: Annotated[int, Field(ge=0, le=3), AS_TEXT] | None = None
    detail_group_id: Annotated[Id, AS_TEXT] | None = None
    ask_address: bool | None = None
    disabled: bool | None = None
    slots: Annotated[list[SlotIn], Field(max_length=400)] | None = None
    extra: Extra | None = None


class ChainCreate(ChainFields):
    name: Name
    start_date: Day


class ChainUpdate(ChainFields):
    name: Name | None = None


class SlotOut(Out):
    date: str
    time: str
    duration: int


class EventBrief(Out):
    id: int
    datetime: str
    duration: int


class ChainEmbedded(Out):
    events: list[EventBrief]


class ChainOut(Out):
    id: int
    name: str
    description: str
    long_description: str
    company_id: int
    type: Literal["event", "course", "recurring_event"]
    session_type: int
    course: bool
    repeat: int
    recurrence_type: str
    start_date: str
    end_date: str | None
    time: str
    timezone: str
    duration: int
    group: str
    event_group_id: int | None
    spaces: int
    price: int
    max_num_bookings: int
    min_advance: int
    min_advance_unit: Literal["minute"]
    max_advance: int | None
    max_advance_unit: Literal["day"]
    min_cancel: int
    min_cancel_unit: Literal["day"]
    ticket_type: int
    questions_per_ticket: bool
    email_per_ticket: bool
    detail_group_id: int | None
    ask_address: bool
    disabled: bool
    slots: list[SlotOut]
    extra: dict[str, Any]
    embedded: ChainEmbedded | None = Field(default=None, alias="_embedded")
    links: Links = Field(alias="_links")


class ChainListEmbedded(Out):
    event_chains: list[ChainOut]


class ChainList(Out):
    total_entries: int
    embedded: ChainListEmbedded = Field(alias="_embedded")
    links: Links = Field(alias="_links")


# --- events ---------------------------------------------------------------------------------


class EventsQuery(Query):
    start_date: Day | None = Field(default=None, description="first local date (default today)")
    end_date: Day | None = Field(default=None, description="last local date, inclusive (default a month on)")
    event_group_id: Id | None = None
    event_chain_id: Id | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 30


class EventOut(Out):
    id: int
    name: str
    description: str
    datetime: str = Field(description="ISO 8601 with the company's UTC offset")
    end_datetime: str
    duration: int
    units: Literal["minute"]
    status: Literal["open", "closed"]
    num_spaces: int
    spaces_booked: int
    spaces_reserved: int
    spaces_held: int
    spaces_blocked: int
    spaces_wait: int
    spaces_left: int
    ticket_spaces: dict[str, Any]
    price: int
    bookable: bool
    course: bool
    company_id: int
    event_chain_id: int
    event_group_id: int | None
    service_id: int | None
    links: Links = Field(alias="_links")


class EventEmbedded(Out):
    events: list[EventOut]


class EventList(Out):
    total_entries: int
    start_date: str
    end_date: str
    embedded: EventEmbedded = Field(alias="_embedded")
    links: Links = Field(alias="_links")
