"""Request and response models of the basket, checkout and purchases (BookingBug v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, EmailStr, Field, StringConstraints

from chalicelib.api.bookingbug.schemas import ClientIn
from chalicelib.api.http.schemas import Links, Out, Strict

Id = Annotated[int, Field(gt=0, le=10**15)]
NumBook = Annotated[int, Field(ge=1, le=100)]
AnswerValue = (
    Annotated[str, StringConstraints(max_length=10_000)]
    | bool
    | Annotated[int, Field(ge=0, le=10**15)]
    | Annotated[
        list[Annotated[str, StringConstraints(max_length=200)] | Annotated[int, Field(ge=0)]], Field(max_length=100)
    ]
    | None
)


SlotDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
SlotTime = Annotated[int, Field(ge=0, le=1439)]
SlotDuration = Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class AddItemQuery(Strict):
    """BookingBug sends these as query parameters (``basket/add_item?event_id=...``) or in the body."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    event_id: Id | None = None
    event_chain_id: Id | None = None
    service_id: Id | None = None
    date: SlotDate | None = None
    time: SlotTime | None = None
    duration: SlotDuration | None = None
    num_book: NumBook | None = None
    person_id: Id | None = None
    resource_id: Id | None = None


class AddItemIn(Strict):
    event_id: Id | None = None
    event_chain_id: Id | None = Field(default=None, description="a course: a space on every one of its events")
    service_id: Id | None = Field(default=None, description="a service slot: with date and time")
    date: SlotDate | None = Field(default=None, description="the slot's day (YYYY-MM-DD) in the company's time zone")
    time: SlotTime | None = Field(default=None, description="the slot's start, in minutes after local midnight")
    duration: SlotDuration | None = Field(
        default=None, description="minutes: one of the service's durations (default its first)"
    )
    num_book: NumBook | None = Field(default=None, description="spaces to hold (default 1)")
    person_id: Id | None = Field(default=None, description="who delivers the slot; none: any free one")
    resource_id: Id | None = Field(default=None, description="which resource; none: any free one")


class AnswerIn(Strict):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # BookingBug sends name and price too: ignored
    id: Id
    answer: AnswerValue = None


Answers = Annotated[list[AnswerIn], Field(max_length=100)]


class TicketIn(Strict):
    email: EmailStr | None = None
    answers: Answers = Field(default_factory=list)


# BookingBug clients post the basket back at checkout: its own fields (total_price, company_id,
# status, _links, and each item's event_id, price, num_book ...) come with the answers. They are
# the server's own values (prices are computed here), so they are accepted and not read; the
# fields checkout does read are still validated.
_BASKET_ECHO = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)


class CheckoutItemIn(Strict):
    model_config = _BASKET_ECHO
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    answers: Answers = Field(default_factory=list)
    tickets: Annotated[list[TicketIn], Field(max_length=100)] = Field(default_factory=list)


class CheckoutIn(Strict):
    model_config = _BASKET_ECHO
    client: ClientIn | None = None
    client_id: Id | None = None
    answers: Answers = Field(default_factory=list, description="answers for every item not listed in items")
    items: Annotated[list[CheckoutItemIn], Field(max_length=50)] = Field(default_factory=list)


class BasketItemOut(Out):
    """An event, a course, or a service slot (``service_id``; ``time`` is then also given in minutes
    after local midnight as ``slot_time``, as BookingBug sends it)."""

    id: str
    kind: Literal["event", "slot"]
    event_id: int | None
    event_chain_id: int | None
    event_ids: list[int]
    service_id: int | None = None
    person_id: int | None = None
    person_name: str | None = None
    resource_id: int | None = None
    resource_name: str | None = None
    course: bool
    num_book: int
    status: Literal["held", "expired", "released", "converted"]
    name: str
    date: str
    time: str
    datetime: str
    slot_time: int | None = None
    duration: int
    price: int
    total_price: int
    expires_at: str | None
    extensions: int
    links: Links = Field(alias="_links")


class BasketEmbedded(Out):
    items: list[BasketItemOut]


class BasketOut(Out):
    company_id: int
    status: Literal["open", "checked_out"]
    total_price: int
    total_due_price: int
    purchase_id: str | None = None
    embedded: BasketEmbedded = Field(alias="_embedded")
    links: Links = Field(alias="_links")


class BasketItemList(Out):
    """``_links.items`` of a basket: its items without the basket around them."""

    total_entries: int
    embedded: BasketEmbedded = Field(alias="_embedded")
    links: Links = Field(alias="_links")


class NoSpaceLeftOut(Out):
    """BookingBug's own body for a full event (409), kept as the reference has it."""

    message: Literal["NoSpaceLeftError"]
    error: Literal["No Space Left"]
    data: dict[str, Any]


class AnswerOut(Out):
    id: int
    name: str
    answer: str
    price: int


class PurchaseBookingEmbedded(Out):
    answers: list[AnswerOut]
    survey_answers: list[Any]


class PurchaseBookingOut(Out):
    id: str
    event_id: int | None
    event_chain_id: int | None
    service_id: int | None = None
    describe: str
    datetime: str
    end_datetime: str
    duration: int
    on_waitlist: bool
    attended: bool
    price: int
    paid: int
    quantity: int
    purchase_id: str
    purchase_ref: str
    slot_id: int | str
    state: str
    min_cancellation_time: str | None
    booking_type: Literal["event", "service"]
    embedded: PurchaseBookingEmbedded = Field(alias="_embedded")


class PurchaseEmbedded(Out):
    client: dict[str, Any]
    bookings: list[PurchaseBookingOut]
    packages: list[Any]
    products: list[Any]
    deals: list[Any]


class PurchaseOut(Out):
    id: str
    long_id: str
    status: Literal["completed", "cancelled"]
    total_price: int
    price: int
    paid: int
    deposit: int
    due_now: int
    payment_type: Literal["no_payment"]
    client_name: str
    created_at: str
    cancelled_at: str | None = None
    embedded: PurchaseEmbedded = Field(alias="_embedded")
    links: Links = Field(alias="_links")
