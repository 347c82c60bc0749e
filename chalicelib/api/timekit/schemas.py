"""Request and response models of the Timekit v2 face (shapes of seeds 002 and 003)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from chalicelib.api.http.schemas import Instant, Links, Out, Query, Strict, check_storable
from chalicelib.domain.graphs import ALL_STEPS, GRAPHS
from chalicelib.domain.transitions import STEP_ALIASES

GraphName = Literal[
    "instant", "confirm_decline", "instant_payment", "group_owner", "group_customer", "group_customer_payment"
]
Short = Annotated[str, StringConstraints(max_length=500)]
Duration = Annotated[str, StringConstraints(pattern=r"^\s*\d+\s*(second|minute|hour|day|week)s?\s*$", max_length=40)]
Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]

_ACTION_NAMES = {a.name for g in GRAPHS.values() for acts in g.states.values() for a in acts} | {
    g.create.name for g in GRAPHS.values()
}
# Per-request options: {"<step>": {"enabled": false}}, {"<action>": {"message": ...}}, {"pay": {"payment_id"}}.
OPTION_KEYS = frozenset(
    {s.value for s in ALL_STEPS} | _ACTION_NAMES | set(STEP_ALIASES) | {"auto_complete_one_hour_after_booking_ends"}
)


class Option(Strict):
    enabled: bool | None = None
    message: Annotated[str, StringConstraints(max_length=2000)] | None = None
    payment_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class WithOptions(BaseModel):
    """Known fields plus per-step/per-action option objects, each validated."""

    model_config = ConfigDict(extra="allow", defer_build=True, strict=True)

    @model_validator(mode="after")
    def _options_are_known(self) -> WithOptions:
        for name, value in (self.model_extra or {}).items():
            if name not in OPTION_KEYS:
                raise ValueError(f"unknown field {name!r}")
            Option.model_validate(value)
        return self

    def options(self) -> dict[str, Any]:
        return {
            name: Option.model_validate(value).model_dump(exclude_none=True)
            for name, value in (self.model_extra or {}).items()
        }


class EventIn(Strict):
    start: Instant
    end: Instant
    what: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    where: Short | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    calendar_id: Short | None = None
    resource_id: Short | None = None  # the widget and SDK may send it here or at the top level


CustomValue = (
    Annotated[str, StringConstraints(max_length=2000)]
    | bool
    | int
    | Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=50)]
    | None
)


class CustomerIn(Strict):
    """The widget's customer: its native fields, and the project's custom fields (kept as sent)."""

    model_config = ConfigDict(extra="allow", defer_build=True, populate_by_name=True)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailStr
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    voip: Annotated[str, StringConstraints(max_length=100)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    where: Short | None = None
    comment: Annotated[str, StringConstraints(max_length=5000)] | None = None

    @model_validator(mode="after")
    def _custom_fields(self) -> CustomerIn:
        extra = self.model_extra or {}
        if len(extra) > 30:
            raise ValueError("at most 30 custom fields")
        for name, value in extra.items():
            if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
                raise ValueError(f"a custom field's name is letters, digits and _ (not {name!r})")
            TypeAdapter(CustomValue).validate_python(value)
        return self


class Toggle(Strict):
    enabled: bool


class SettingsIn(Strict):
    max_seats: Annotated[int, Field(ge=1, le=100_000)] | None = None
    capacity_shards: Annotated[int, Field(ge=1, le=16)] | None = Field(
        default=None, description="capacity items of a group (1; one per 400 seat bookings/s expected at an on-sale)"
    )
    min_cancel_time: Duration | None = None
    min_booking_time: Duration | None = None
    max_booking_time: Duration | None = None
    payment_timeout: Annotated[int, Field(ge=10, le=7 * 86_400)] | None = None
    auto_complete_one_hour_after_booking_ends: Toggle | None = None


class RelatedIn(Strict):
    owner_booking_id: Uuid
    seats: Annotated[int, Field(ge=1, le=1000)] = 1


class BookingCreate(WithOptions):
    graph: GraphName
    action: Annotated[str, StringConstraints(max_length=50)] | None = None
    event: EventIn | None = None
    customer: CustomerIn | None = None
    settings: SettingsIn = SettingsIn()
    related: RelatedIn | None = None
    reservation_id: Uuid | None = None
    # Seed 002 sends a group's event at the top level.
    start: Instant | None = None
    end: Instant | None = None
    what: Annotated[str, StringConstraints(max_length=500)] | None = None
    where: Short | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    resource_id: Short | None = None
    project_id: Short | None = None


class ActionIn(WithOptions):
    pass


MAX_BULK = 50  # items per bulk request: each runs its own transaction within one Lambda call


class _BareArray(Strict):
    """Timekit's SDK posts bulk items as a bare array; ``{"bookings": [...]}`` is accepted too."""

    @model_validator(mode="before")
    @classmethod
    def _bare_array(cls, value: Any) -> Any:
        return {"bookings": value} if isinstance(value, list) else value


class BulkCreate(_BareArray):
    bookings: Annotated[list[BookingCreate], Field(min_length=1, max_length=MAX_BULK)]


class BulkActionItem(WithOptions):
    id: Uuid
    action: Annotated[str, StringConstraints(min_length=1, max_length=50)]


class BulkAction(_BareArray):
    bookings: Annotated[list[BulkActionItem], Field(min_length=1, max_length=MAX_BULK)]


class RescheduleIn(Strict):
    start: Instant
    end: Instant
    message: Annotated[str, StringConstraints(max_length=2000)] | None = None
    resource_id: Short | None = None


class ReserveIn(Strict):
    """Seats of a group (``related``), or a resource's time (``resource_id``, ``start``, ``end``)."""

    graph: GraphName | None = None
    related: RelatedIn | None = None
    customer: CustomerIn | None = None
    resource_id: Short | None = None
    start: Instant | None = None
    end: Instant | None = None
    what: Annotated[str, StringConstraints(max_length=500)] | None = None
    where: Short | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    reservation_time: Annotated[int, Field(ge=10, le=86_400)] | None = None


class ExtendIn(Strict):
    reservation_id: Uuid


class BookingsQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 30
    search: Annotated[str, StringConstraints(max_length=200)] | None = None
    start: Instant | None = None
    end: Instant | None = None


class IncludeQuery(Query):
    include: Annotated[str, StringConstraints(max_length=200)] | None = None


class FeedData(BaseModel):
    url: str


class FeedOut(BaseModel):
    data: FeedData


class ExternalActionQuery(Query):
    signature: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    redirect: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class GraphQuery(Query):
    format: Literal["json", "dot"] = "json"


# --- responses ----------------------------------------------------------------------------------


class EventInfo(Out):
    start: str | None = None
    end: str | None = None
    what: str | None = None
    where: str | None = None
    description: str | None = None
    calendar_id: str | None = None


class GroupBooking(Out):
    max_seats: int
    current_seats: int
    held_seats: int
    available_seats: int
    waitlist_length: int = 0  # customers waiting for a seat


class Attributes(Out):
    event_info: EventInfo
    group_booking: GroupBooking | None = None


class CustomerOut(Out):
    model_config = ConfigDict(extra="allow", defer_build=True, populate_by_name=True)  # custom fields shown
    id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    voip: str | None = None
    timezone: str | None = None


class LogOut(Out):
    description: str
    success: bool
    state: str
    data: dict[str, Any]
    created_at: str


class RelatedOut(Out):
    owner_booking_id: str
    seats: int


class ResourceRef(Out):
    id: str
    name: str
    timezone: str


class BookingData(Out):
    id: str
    graph: str
    state: str
    completed: bool
    possible_actions: list[str]
    created_at: str
    updated_at: str
    attributes: Attributes
    customers: list[CustomerOut]
    related: RelatedOut | None = None
    rescheduled_from: str | None = None
    rescheduled_to: str | None = None
    reservation_id: str | None = None
    payment: dict[str, Any] | None = None
    resource: ResourceRef | None = None
    project_id: str | None = None
    customer_action_links: dict[str, str] | None = None
    logs: list[LogOut] | None = None
    related_bookings: list[BookingData] | None = None


class BookingOut(Out):
    data: BookingData


class ListMeta(Out):
    total_entries: int
    page: int
    per_page: int


class BulkError(Out):
    model_config = ConfigDict(defer_build=True, extra="allow")  # a conflict's state and possible_actions
    code: str
    message: str
    field: str | None = None


class BulkItem(Out):
    """One item's outcome: ``status`` is the HTTP status it would have had alone."""

    index: int
    id: str | None = None
    status: int
    data: BookingData | None = None
    error: BulkError | None = None


class BulkMeta(Out):
    succeeded: int
    failed: int


class BulkOut(Out):
    data: list[BulkItem]
    meta: BulkMeta


class BookingList(Out):
    data: list[BookingData]
    meta: ListMeta
    links: Links = Field(alias="_links")


class ReservationData(Out):
    id: str
    seats: int
    status: str
    expires_at: str
    extensions: int
    owner_booking_id: str | None
    resource: ResourceRef | None = None
    start: str | None = None
    end: str | None = None


class ReservationOut(Out):
    data: ReservationData


class GraphAction(Out):
    name: str
    to: str
    via: str
    steps: list[str]
    manual: bool
    seats: str


class GraphState(Out):
    name: str
    actions: list[GraphAction]
    timer: dict[str, Any] | None = None
    terminal: bool


class GraphOut(Out):
    name: str
    description: str
    initial_action: GraphAction
    states: list[GraphState]
    terminal_states: list[str]
    reschedulable_states: list[str]


class GraphList(Out):
    data: list[GraphOut]


# --- resources and availability (issue 11) ------------------------------------------------------

ResourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Timekit constraints: one-key objects, checked by the schedule rules (a 422 names the entry).
Constraints = Annotated[list[dict[str, Any]], Field(max_length=500)]
TimeText = Annotated[str, StringConstraints(max_length=60)]
ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ResourceFields(Strict):
    email: EmailStr | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    image: Annotated[str, StringConstraints(max_length=2000)] | None = None
    availability_constraints: Constraints | None = None
    meta: Annotated[dict[str, Any], Field(max_length=50)] | None = None

    @field_validator("meta")
    @classmethod
    def _storable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_storable(value, depth=0)
        return value


class ResourceCreate(ResourceFields):
    name: ResourceName
    timezone: Zone


class ResourceUpdate(ResourceFields):
    name: ResourceName | None = None
    timezone: Zone | None = None


class ResourceData(Out):
    id: str
    name: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    timezone: str
    image: str | None = None
    availability_constraints: list[dict[str, Any]]
    meta: dict[str, Any]
    created_at: str
    updated_at: str


class ResourceOut(Out):
    data: ResourceData


class ResourceList(Out):
    data: list[ResourceData]
    meta: ListMeta
    links: Links = Field(alias="_links")


class AvailabilityIn(Strict):
    # The widget posts its project's `availability` object back verbatim: keys this engine does
    # not use (ignore_all_day_events, closest_time_interval ...) are accepted and not read.
    model_config = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)
    mode: Literal["roundrobin_random", "roundrobin_prioritized", "exclusive", "mutual"] | None = None
    resources: Annotated[list[ResourceId], Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="required unless project_id names a project with resources"
    )
    length: TimeText | None = None
    start: TimeText | None = Field(default=None, alias="from")
    end: TimeText | None = Field(default=None, alias="to")
    constraints: Constraints | None = None
    buffer: TimeText | None = None
    timeslot_increments: TimeText | None = None
    output_timezone: Zone | None = None
    project_id: Short | None = None


class SlotOut(Out):
    start: str
    end: str
    resources: list[ResourceRef]


class AvailabilityOut(Out):
    data: list[SlotOut]
