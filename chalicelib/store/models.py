"""PynamoDB models of the single table.

Every item kind subclasses :class:`Item` and is told apart by the ``kind``
discriminator, so all kinds share one table connection (one botocore client).
The table name and endpoint are bound lazily by :func:`bind` on first use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.constants import NUMBER
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store import keys, schema


class IntegerAttribute(Attribute[int]):
    """A DynamoDB number that holds a whole number: ids, counts, seats, minutes, minor units.

    Typed ``int`` (PynamoDB's NumberAttribute is typed ``float``), so what a service or a
    presenter reads needs no ``int(...)``. Written as NumberAttribute writes; read back as
    an ``int`` (DynamoDB returns ``5`` for ``5.0``). Epoch-second timestamps, which may
    carry a fraction, stay NumberAttribute.
    """

    attr_type = NUMBER

    def __set__(self, instance: Any, value: int | None) -> None:
        # Models are built from keyword arguments PynamoDB does not type-check: hold an int
        # whatever number was assigned, so that readers can trust the type.
        if value is not None and type(value) is not int:
            value = int(value)
        super().__set__(instance, value)

    def serialize(self, value: int) -> str:
        return json.dumps(value)

    def deserialize(self, value: str) -> int:
        return int(json.loads(value))


class ListingIndex(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = schema.GSI1
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ChildrenIndex(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = schema.GSI2
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ExpiryIndex(GlobalSecondaryIndex["Item"]):
    class Meta:
        index_name = schema.EXPIRY_INDEX
        projection = AllProjection()

    xpk = UnicodeAttribute(hash_key=True)
    xsk = UnicodeAttribute(range_key=True)


class Item(Model):
    class Meta:
        table_name = "unbound"  # replaced by bind(); never used unbound
        region = "us-east-1"
        max_pool_connections = 32  # chalice local and the benchmarks share one client across threads
        # Replaced by bind() from the settings (chalicelib/store/aws.py); PynamoDB hands them to botocore.
        connect_timeout_seconds = 2.0
        read_timeout_seconds = 4.0
        max_retry_attempts = 2

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    xpk = UnicodeAttribute(null=True)
    xsk = UnicodeAttribute(null=True)
    ttl = NumberAttribute(null=True)  # epoch seconds; see schema.TTL_ATTRIBUTE
    listing = ListingIndex()
    children = ChildrenIndex()
    expiry = ExpiryIndex()


def bind(
    table_name: str,
    region: str,
    host: str | None,
    *,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> None:
    """Point every model at the table, with the client's timeouts and attempts; drops cached connections."""
    Item.Meta.table_name = table_name
    Item.Meta.region = region
    Item.Meta.host = host  # type: ignore[attr-defined]  # MetaModel adds it
    # PynamoDB passes these to botocore (standard retry mode, 1 + max_retry_attempts attempts).
    Item.Meta.connect_timeout_seconds = connect_timeout
    Item.Meta.read_timeout_seconds = read_timeout
    Item.Meta.max_retry_attempts = max_attempts - 1
    for cls in _all_models():
        if cls is not Item and "_connection" in cls.__dict__:
            delattr(cls, "_connection")  # a subclass's own connection would shadow the shared one
    Item._connection = None
    # Build the one connection on the base class; subclasses find it by inheritance.
    Item._get_connection()


def _all_models() -> list[type[Item]]:
    seen: list[type[Item]] = [Item]
    stack = list(Item.__subclasses__())
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def plain(value: Any) -> Any:
    """A stored map as a plain dict (a copy, which the caller may change); any other value
    as it is (None stays None). PynamoDB hands maps back as MapAttribute instances."""
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return dict(value) if isinstance(value, Mapping) else value


def plain_map(value: Any) -> dict[str, Any]:
    """A stored map as a plain dict; an absent one as an empty dict."""
    return dict(plain(value) or {})


def _numbers() -> ListAttribute[int]:
    # PynamoDB types ListAttribute(of=...) as a list of attributes; it holds whole numbers.
    return cast("ListAttribute[int]", ListAttribute(of=IntegerAttribute, default=list))


def _strings(*, null: bool = False) -> ListAttribute[str]:
    if null:
        return cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, null=True))
    return cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, default=list))


def _maps() -> ListAttribute[dict[str, Any]]:
    return cast("ListAttribute[dict[str, Any]]", ListAttribute(of=MapAttribute, default=list))


class Counter(Item, discriminator="counter"):
    """Global id allocator: ``COUNTER`` / ``IDS``."""

    next_id = IntegerAttribute(default=0)


class Company(Item, discriminator="company"):
    """``CO#<id>`` / ``COMPANY``."""

    company_id = IntegerAttribute()
    name = UnicodeAttribute()
    app_id = UnicodeAttribute()
    timezone = UnicodeAttribute(default="Europe/London")
    currency = UnicodeAttribute(default="GBP")
    admin_email = UnicodeAttribute()
    api_key_hash = UnicodeAttribute()
    app_key_hash = UnicodeAttribute()
    reservation_time = IntegerAttribute(default=300)
    hold_time = IntegerAttribute(default=900)
    waitlist_offer_time = IntegerAttribute(default=1800)  # seconds a waitlist offer's hold lasts
    created_at = UnicodeAttribute()
    tokens_revoked_at = NumberAttribute(null=True)  # epoch seconds: Auth-Tokens issued before are void
    # Default opening hours as Timekit constraints (issue 11): the schedule of a person or
    # resource that has none of its own. Empty: Monday to Friday, 09:00 to 17:00.
    opening_hours = _maps()
    # The current public key in clear: it is publishable (booking pages carry it), and a hosted
    # project page must hand it to the widget. Null for companies created before issue 12
    # until their public key is rotated.
    public_key = UnicodeAttribute(null=True)
    # Origins whose pages may read the API's answers (CORS); null: any origin.
    allowed_origins = _strings(null=True)
    version = VersionAttribute()


class ApiKey(Item, discriminator="key"):
    """``KEY#<sha256 of the key>`` / ``KEY``: one per live (or retiring) key."""

    company_id = IntegerAttribute()
    app_id = UnicodeAttribute()
    key_kind = UnicodeAttribute()  # "api" (secret) or "app" (public)
    created_at = UnicodeAttribute()
    retires_at = NumberAttribute(null=True)  # epoch seconds; null while current


class AdminLogin(Item, discriminator="login"):
    """``LOGIN#<email>`` / ``CO#<company id>``: an administrator of one company."""

    company_id = IntegerAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()


class AuthToken(Item, discriminator="token"):
    """``TOKEN#<sha256 of the token>`` / ``TOKEN``; expires 24 h after last use."""

    company_id = IntegerAttribute()
    email = UnicodeAttribute()
    expires_at = NumberAttribute()
    issued_at = NumberAttribute(null=True)  # epoch seconds; a company's revocation ends older tokens


class FailureCount(Item, discriminator="failures"):
    """``LIMIT#<scope>#<sha256 of the subject>`` / ``W#<window start>``: failed sign-ins of one
    account or client address in one window; TTL removes it after the window."""

    failures = IntegerAttribute(default=0)


class Guard(Item, discriminator="guard"):
    """Uniqueness guard, e.g. ``CO#1`` / ``SERVICEREF#TS001`` pointing at an id."""

    target_id = IntegerAttribute()


class Service(Item, discriminator="service"):
    """``CO#<company id>`` / ``SERVICE#<id>``."""

    company_id = IntegerAttribute()
    service_id = IntegerAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    reference = UnicodeAttribute(null=True)
    durations = _numbers()
    prices = _numbers()
    listed_durations = _numbers()
    spaces = IntegerAttribute(default=1)
    detail_group_id = IntegerAttribute(null=True)
    booking_time_step = IntegerAttribute(default=60)
    min_advance_period = IntegerAttribute(default=0)
    max_advance_period = IntegerAttribute(default=5_184_000)
    min_cancel_period = IntegerAttribute(default=86_400)
    min_bookings = IntegerAttribute(default=1)
    max_bookings = IntegerAttribute(default=1)
    pre_time = IntegerAttribute(default=0)
    post_time = IntegerAttribute(default=0)
    booking_type_public = UnicodeAttribute(default="booking")
    booking_type_member = UnicodeAttribute(default="booking")
    queuing_disabled = BooleanAttribute(default=True)
    disabled = BooleanAttribute(default=False)
    deleted = BooleanAttribute(default=False)
    extra: MapAttribute[str, Any] = MapAttribute(default=dict)
    order = IntegerAttribute(null=True)
    # Who delivers it (issue 11): resource ids of people and resources; a slot with any
    # claims time on one of them (the one asked for, or any free one).
    person_ids = _numbers()
    resource_ids = _numbers()
    version = VersionAttribute()


class QuestionGroup(Item, discriminator="question_group"):
    """``CO#<company id>`` / ``QGROUP#<id>``; its questions live inside it."""

    company_id = IntegerAttribute()
    group_id = IntegerAttribute()
    name = UnicodeAttribute()
    questions = _maps()
    version = VersionAttribute()


class ClientDetails(Item, discriminator="client_details"):
    """``CO#<company id>`` / ``CLIENTDETAILS``: which client fields a company collects."""

    company_id = IntegerAttribute()
    fields = _maps()
    version = VersionAttribute()


class Client(Item, discriminator="client"):
    """``CO#<company id>#CLIENT#<id>`` / ``CLIENT#<id>``, listed on gsi1 ``CO#<c>#CLIENTS[#<p>]``;
    unique by email and by reference."""

    company_id = IntegerAttribute()
    client_id = IntegerAttribute()
    email = UnicodeAttribute()
    reference = UnicodeAttribute(null=True)
    details: MapAttribute[str, Any] = MapAttribute(default=dict)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class EventGroup(Item, discriminator="event_group"):
    """``CO#<company id>`` / ``EGROUP#<id>``: a category of events ("Fitness")."""

    company_id = IntegerAttribute()
    group_id = IntegerAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    extra: MapAttribute[str, Any] = MapAttribute(default=dict)
    version = VersionAttribute()


class EventChain(Item, discriminator="event_chain"):
    """``CO#<company id>`` / ``CHAIN#<id>``: a session (one-off, course or recurring) and its rules.

    Its schedule (``repeat``, dates, ``time`` local to the company, ``slots`` for custom)
    expands into :class:`Event` items; the rules apply to every one of them.
    """

    company_id = IntegerAttribute()
    chain_id = IntegerAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    long_description = UnicodeAttribute(default="")
    session_type = IntegerAttribute(default=0)  # 0 one-off, 1 course, 2 recurring (seed 001)
    repeat = IntegerAttribute(default=0)  # seed 001's repeat codes 0..8
    start_date = UnicodeAttribute()  # YYYY-MM-DD, local
    end_date = UnicodeAttribute(null=True)
    time = UnicodeAttribute()  # HH:MM, local to the company's time zone
    duration = IntegerAttribute(default=60)  # minutes
    slots = _maps()  # custom slots: [{"date", "time", "duration"}]
    group = UnicodeAttribute(default="")
    event_group_id = IntegerAttribute(null=True)
    spaces = IntegerAttribute(default=1)
    shards = IntegerAttribute(default=1)
    price = IntegerAttribute(default=0)  # minor units
    max_num_bookings = IntegerAttribute(default=1)
    min_advance = IntegerAttribute(default=0)  # minutes
    max_advance = IntegerAttribute(null=True)  # days
    min_cancel = IntegerAttribute(default=1)  # days
    ticket_type = IntegerAttribute(default=0)
    detail_group_id = IntegerAttribute(null=True)
    ask_address = BooleanAttribute(default=False)
    disabled = BooleanAttribute(default=False)
    extra: MapAttribute[str, Any] = MapAttribute(default=dict)
    created_at = UnicodeAttribute()
    version = VersionAttribute()


class Event(Item, discriminator="event"):
    """``CO#<company id>`` / ``EVENT#<id>``: one bookable occurrence of a chain.

    ``gsi1`` = ``CO#<company>#EVENTS`` / ``<start UTC>#<id>`` (date ranges),
    ``gsi2`` = ``CHAIN#<chain>`` / ``<start UTC>#<id>`` (a chain's events); both are
    removed when the event is deleted. Its seats are the capacity ``CAP#EVENT-<id>``.
    """

    company_id = IntegerAttribute()
    event_id = IntegerAttribute()
    chain_id = IntegerAttribute()
    event_group_id = IntegerAttribute(null=True)
    start_at = UnicodeAttribute()  # ISO 8601 UTC ("...Z")
    duration = IntegerAttribute()  # minutes
    spaces = IntegerAttribute()  # as configured; the capacity items hold the live counts
    shards = IntegerAttribute(default=1)
    deleted = BooleanAttribute(default=False)
    version = VersionAttribute()

    @property
    def capacity_id(self) -> str:
        return keys.event_capacity(self.event_id)


class Booking(Item, discriminator="booking"):
    """``BK#<uuid>`` / ``BOOKING``: one booking following one graph."""

    booking_id = UnicodeAttribute()
    company_id = IntegerAttribute()
    graph = UnicodeAttribute()
    state = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    start_at = UnicodeAttribute(null=True)  # ISO 8601 UTC, for listings and filters
    end_at = UnicodeAttribute(null=True)
    event: MapAttribute[str, Any] = MapAttribute(default=dict)
    customer: MapAttribute[str, Any] = MapAttribute(default=dict)
    settings: MapAttribute[str, Any] = MapAttribute(default=dict)
    options: MapAttribute[str, Any] = MapAttribute(default=dict)  # step settings given at create
    payment: MapAttribute[str, Any] = MapAttribute(null=True)
    owner_booking_id = UnicodeAttribute(null=True)
    capacity_id = UnicodeAttribute(null=True)
    seats = IntegerAttribute(default=0)
    seat_shards = _maps()  # [{"shard": "SHARD#00", "seats": 2}]: where its seats were taken
    max_seats = IntegerAttribute(null=True)
    timer_action = UnicodeAttribute(null=True)
    log_count = IntegerAttribute(default=0)
    rescheduled_from = UnicodeAttribute(null=True)
    rescheduled_to = UnicodeAttribute(null=True)
    reservation_id = UnicodeAttribute(null=True)
    # Time claimed on a resource (issue 11): the resource {id, name, timezone} as booked, and the
    # UTC days (claim-day items) holding its entry.
    resource: MapAttribute[str, Any] = MapAttribute(null=True)
    claim_days = _strings(null=True)
    project_id = UnicodeAttribute(null=True)  # the Timekit project (booking page) it was made through
    # Its calendar identity across reschedules (issue 14): the first booking's id, and the
    # SEQUENCE the lineage had reached when this booking replaced the last one (null: 0).
    ical_uid = UnicodeAttribute(null=True)
    ical_sequence_base = IntegerAttribute(null=True)
    version = VersionAttribute()
    # Not stored: the log entries this process just wrote, so a create's reply needs no re-read.
    fresh_logs: list[dict[str, Any]] | None = None


class BookingLog(Item, discriminator="booking_log"):
    """``BK#<uuid>`` / ``LOG#<n>``: the log entries one action wrote (ordered by ``seq``)."""

    seq = IntegerAttribute()
    entries = _maps()
    created_at = UnicodeAttribute()


class CapacityShard(Item, discriminator="capacity"):
    """``CAP#<id>#SHARD#<nn>`` / ``SHARD#<nn>``: seats of one bookable, or one shard of them.

    ``available`` = ``capacity - booked - held`` is kept as its own counter because
    a condition expression cannot add: every seat change is conditional on it.
    """

    company_id = IntegerAttribute()
    capacity = IntegerAttribute()
    booked = IntegerAttribute(default=0)
    held = IntegerAttribute(default=0)
    available = IntegerAttribute()
    open = BooleanAttribute(default=True)


class Hold(Item, discriminator="hold"):
    """``HOLD#<uuid>`` / ``HOLD``: seats held for a while (a reservation or basket item)."""

    hold_id = UnicodeAttribute()
    company_id = IntegerAttribute()
    capacity_id = UnicodeAttribute()
    owner_booking_id = UnicodeAttribute(null=True)
    seats = IntegerAttribute()
    seat_shards = _maps()  # [{"shard": "SHARD#00", "seats": 2}]
    expires_at = NumberAttribute()  # epoch seconds
    extensions = IntegerAttribute(default=0)
    status = UnicodeAttribute(default="active")  # active, converted, released, expired
    details: MapAttribute[str, Any] = MapAttribute(default=dict)
    created_at = UnicodeAttribute()
    # A reservation of time (issue 11): the resource and the claim-day items holding its entry.
    resource: MapAttribute[str, Any] = MapAttribute(null=True)
    claim_days = _strings(null=True)


class WaitlistEntry(Item, discriminator="waitlist_entry"):
    """``WAIT#<capacity>`` / ``ENTRY#<join time>-<id>``: one customer queued for a full capacity.

    ``status``: waiting -> offered (an offer hold ``hold_id`` was placed in the transaction that
    freed the seats) -> booked or lapsed; waiting or offered -> left. Each change is
    compare-and-set on the status; entries out of the queue expire by TTL a week later.
    """

    entry_id = UnicodeAttribute()
    company_id = IntegerAttribute()
    capacity_id = UnicodeAttribute()
    owner_booking_id = UnicodeAttribute(null=True)  # a v2 group's id
    event_id = IntegerAttribute(null=True)  # a BookingBug event's id
    customer: MapAttribute[str, Any] = MapAttribute(default=dict)
    event_info: MapAttribute[str, Any] = MapAttribute(default=dict)  # what and when, for the offer's email
    seats = IntegerAttribute(default=1)
    status = UnicodeAttribute(default="waiting")
    offer_seconds = IntegerAttribute()  # the company's offer window when the customer joined
    hold_id = UnicodeAttribute(null=True)
    joined_at = UnicodeAttribute()
    offered_at = UnicodeAttribute(null=True)


class Basket(Item, discriminator="basket"):
    """``BASKET#<uuid>`` / ``BASKET``: a booker's basket; its items' seats are holds.

    ``items`` maps an item id to ``{event_id, event_chain_id, num_book, hold_ids, created_at}``;
    the holds also carry ``gsi2`` = ``BASKET#<id>``. Found by its token (``token_hash``).
    """

    basket_id = UnicodeAttribute()
    company_id = IntegerAttribute()
    token_hash = UnicodeAttribute()
    status = UnicodeAttribute(default="open")  # open, checked_out
    items: MapAttribute[str, Any] = MapAttribute(default=dict)
    hold_count = IntegerAttribute(default=0)  # holds of its items, capped so checkout fits one transaction
    purchase_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class Purchase(Item, discriminator="purchase"):
    """``PURCHASE#<uuid>`` / ``PURCHASE``: a checked-out basket: its client, bookings and prices."""

    purchase_id = UnicodeAttribute()
    long_id = UnicodeAttribute()
    company_id = IntegerAttribute()
    basket_id = UnicodeAttribute(null=True)  # none: a waitlist offer bought (no basket)
    status = UnicodeAttribute(default="completed")  # completed, cancelled
    client: MapAttribute[str, Any] = MapAttribute(default=dict)
    client_id = IntegerAttribute()
    booking_ids = cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, default=list))
    lines = _maps()  # per basket item: event/chain, num_book, price, answers, booking ids, counted spaces
    total_price = IntegerAttribute(default=0)
    created_at = UnicodeAttribute()
    cancelled_at = UnicodeAttribute(null=True)


class PurchaseLink(Item, discriminator="purchase_long"):
    """``PURCHASELONG#<long id>`` / ``PURCHASELONG``: the booker's link to a purchase (unique)."""

    purchase_id = UnicodeAttribute()
    company_id = IntegerAttribute()


class BookerCount(Item, discriminator="booker_count"):
    """``CO#<company id>#BOOKERCOUNT#<unit>#<email>`` / ``BOOKERCOUNT#<unit>#<email>``: spaces one booker
    holds on a course
    or an occurrence, for max_num_bookings; changed only inside checkout and cancel transactions."""

    company_id = IntegerAttribute()
    spaces = IntegerAttribute(default=0)


class OutboxEvent(Item, discriminator="outbox"):
    """``OUTBOX#<uuid>`` / ``EVENT``: written in the transaction of the change it reports."""

    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    company_id = IntegerAttribute()
    subject_id = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    payload: MapAttribute[str, Any] = MapAttribute(default=dict)
    # The notify_* and trigger_webhook steps the action ran (null: not a graph action, e.g. hold.*).
    notify = _strings(null=True)
    message = UnicodeAttribute(null=True)  # the customer message given with the action, for its email


class Webhook(Item, discriminator="webhook"):
    """``CO#<company id>`` / ``WEBHOOK#<id, 12 digits>``: a company's subscription.

    ``secret`` must stay usable for HMAC, so it is stored as given (protected by the
    table's encryption at rest and the functions' IAM policy; never returned after
    creation or rotation, never logged). During a rotation's grace period the old
    secret signs too, until ``old_secret_expires_at``.
    """

    company_id = IntegerAttribute()
    webhook_id = IntegerAttribute()
    url = UnicodeAttribute()
    events = _strings()
    enabled = BooleanAttribute(default=True)
    secret = UnicodeAttribute()
    old_secret = UnicodeAttribute(null=True)
    old_secret_expires_at = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class WebhookDelivery(Item, discriminator="delivery"):
    """``WEBHOOK#<webhook id>`` / ``DELIVERY#<event id>``: one event to one webhook, every attempt logged.

    ``attempts`` is the number of the attempt last claimed (compare-and-set, so a
    duplicated queue message cannot run an attempt twice); ``log`` holds the results.
    """

    webhook_id = IntegerAttribute()
    company_id = IntegerAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    body = UnicodeAttribute()  # exactly what is signed and sent, on every attempt and replay
    status = UnicodeAttribute(default="pending")  # pending, delivered, failed (dead-lettered)
    attempts = IntegerAttribute(default=0)
    claimed_at = NumberAttribute(null=True)
    next_attempt_at = NumberAttribute(null=True)
    log = _maps()  # [{attempt, at, status_code, latency_ms, error, outcome}]
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class Project(Item, discriminator="project"):
    """``CO#<company id>`` / ``PROJECT#<uuid>``: a Timekit project (a booking page's settings).

    ``settings`` is the project's JSON as the widget reads it (``ui``, ``booking``,
    ``availability``, ``customer_fields``, ``resources`` ... with keys this engine does not
    know kept as sent), stored as text so that it comes back exactly as it went in.
    """

    company_id = IntegerAttribute()
    project_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    settings = UnicodeAttribute(default="{}")
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class ProjectSlug(Item, discriminator="project_slug"):
    """``SLUG#<slug>`` / ``SLUG``: the hosted page's address names one project (put-if-absent)."""

    company_id = IntegerAttribute()
    project_id = UnicodeAttribute()


class RateCounter(Item, discriminator="rate"):
    """``RATE#<key digest>#<address>`` / ``MIN#<window start>``: public requests in one minute.

    One atomic ADD per request; DynamoDB's TTL removes it after the window.
    """

    requests = IntegerAttribute(default=0)


class UsedLink(Item, discriminator="used_link"):
    """``LINK#<link id>`` / ``USED``: a customer action link was used (its action ran); TTL at its expiry."""

    company_id = IntegerAttribute()
    booking_id = UnicodeAttribute()
    action = UnicodeAttribute()
    used_at = UnicodeAttribute()


class MailSent(Item, discriminator="mail_sent"):
    """``OUTBOX#<event id>`` / ``MAIL#<audience>``: that email went out (put-if-absent before sending)."""

    sent_at = UnicodeAttribute()


class Resource(Item, discriminator="resource"):
    """``CO#<company id>`` / ``RESOURCE#<id, 12 digits>``: a person or thing that can be booked.

    One model for Timekit resources and BookingBug people and resources (``resource_kind``).
    ``constraints`` are Timekit availability constraints as given (validated), evaluated in
    ``timezone``. Its claimed time lives in its own partition (:class:`ClaimDay`).
    """

    company_id = IntegerAttribute()
    resource_id = IntegerAttribute()
    resource_kind = UnicodeAttribute(default="resource")  # "person" or "resource"
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute()
    constraints = _maps()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    image = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    meta: MapAttribute[str, Any] = MapAttribute(default=dict)
    extra: MapAttribute[str, Any] = MapAttribute(default=dict)  # other faces' fields, kept as given
    disabled = BooleanAttribute(default=False)
    deleted = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class ClaimDay(Item, discriminator="claim_day"):
    """``RES#<resource id>`` / ``DAY#<YYYY-MM-DD>``: the time claimed on one resource that touches
    one UTC day: ``claims`` maps an owner (booking or hold id) to ``{start, end, busy_from,
    busy_until, expires_at?}`` (epoch seconds). ``version`` grows with every claim, so a
    claim is compare-and-set on what it checked; releases remove their entry without it.
    """

    company_id = IntegerAttribute()
    resource_id = IntegerAttribute()
    claims: MapAttribute[str, Any] = MapAttribute(default=dict)
    # Not a VersionAttribute: releases must not bump it. Day items are never deleted: a release
    # is an UpdateItem, which would recreate a deleted day as a bare key.
    version = IntegerAttribute()
