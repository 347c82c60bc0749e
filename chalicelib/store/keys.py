"""Key builders: the only place that knows how partition and sort keys are spelled."""

from __future__ import annotations

import zlib

COUNTER_PK = "COUNTER"
COUNTER_SK = "IDS"
ID_COUNTERS = 16  # counters ids made at a sale's rate (clients) come from, chosen at random
ID_RANGE = 10**10  # ids of spread counter n are n * ID_RANGE + 1 ...; the single COUNTER stays below


def counter_pk(counter: int) -> str:
    """Counter 0 is the single ``COUNTER`` (ordered ids for the catalogue); 1.. are spread."""
    return COUNTER_PK if counter == 0 else f"{COUNTER_PK}#{counter}"


COMPANY_SK = "COMPANY"
KEY_SK = "KEY"
TOKEN_SK = "TOKEN"
CLIENT_DETAILS_SK = "CLIENTDETAILS"


def company_pk(company_id: int) -> str:
    return f"CO#{company_id}"


def key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def login_pk(email: str) -> str:
    return f"LOGIN#{email.lower()}"


def login_sk(company_id: int) -> str:
    return f"CO#{company_id}"


def failures_pk(scope: str, subject_hash: str) -> str:
    """Failed sign-ins of one account or client address (``scope`` says which)."""
    return f"LIMIT#{scope}#{subject_hash}"


def failures_sk(window_start: int) -> str:
    return f"W#{window_start}"


def token_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


def service_sk(service_id: int) -> str:
    return f"SERVICE#{service_id:012d}"


SERVICE_PREFIX = "SERVICE#"


def service_ref_sk(reference: str) -> str:
    return f"SERVICEREF#{reference}"


def question_group_sk(group_id: int) -> str:
    return f"QGROUP#{group_id:012d}"


QUESTION_GROUP_PREFIX = "QGROUP#"


def client_sk(client_id: int) -> str:
    return f"CLIENT#{client_id:012d}"


CLIENT_PREFIX = "CLIENT#"
CLIENT_LISTING_PARTITIONS = 16  # a company's client listing: an on-sale of new clients spreads over 16


def client_pk(company_id: int, client_id: int) -> str:
    """A client's own partition (issue 15): a checkout by a new client writes it, which under
    ``CO#<c>`` would put every new booker of a sale on the company's one partition."""
    return f"CO#{company_id}#{client_sk(client_id)}"


def company_clients(company_id: int, partition: int = 0) -> str:
    """GSI1 partition: one of a company's ``CLIENT_LISTING_PARTITIONS`` client listings, by id;
    a client goes to ``spread(str(client id))``."""
    return _partition(f"CO#{company_id}#CLIENTS", partition)


def company_client_partitions(company_id: int) -> list[str]:
    return [company_clients(company_id, n) for n in range(CLIENT_LISTING_PARTITIONS)]


def client_email_sk(email: str) -> str:
    return f"CLIENTEMAIL#{email.lower()}"


def client_email_pk(company_id: int, email: str) -> str:
    """The email guard's own partition (issue 15), written with every new client, like the client."""
    return f"CO#{company_id}#{client_email_sk(email)}"


def client_ref_sk(reference: str) -> str:
    return f"CLIENTREF#{reference}"


BOOKING_SK = "BOOKING"
HOLD_SK = "HOLD"
EVENT_SK = "EVENT"
LOG_PREFIX = "LOG#"
SHARD_PREFIX = "SHARD#"
# Write-hot index keys are spread over partitions (issue 15): one partition takes about
# 1,000 write units/s, and a busy sale must not pour all its writes into one.
EXPIRY_SHARDS = 32  # the sweeper reads this many expiry partitions (one Query each)
BOOKING_LISTING_PARTITIONS = 16  # a company's booking listing: 4,000 bookings/s -> 250/s each


def booking_pk(booking_id: str) -> str:
    return f"BK#{booking_id}"


def log_sk(number: int) -> str:
    # Not zero-padded: the Step Functions mirrors build it with States.Format; readers sort by seq.
    return f"LOG#{number}"


def used_link_pk(link_id: str) -> str:
    """A customer action link (its JWT id) that has been used: put-if-absent in the action's transaction."""
    return f"LINK#{link_id}"


USED_LINK_SK = "USED"


def mail_log_sk(event_id: str, audience: str) -> str:
    # After every numbered log item in key order, so a stable sort by seq puts it after its number's.
    return f"LOG#mail#{event_id}#{audience}"


def shard_pk(capacity_id: str, shard: str) -> str:
    """One capacity shard's own partition (``CAP#<capacity>#SHARD#03``): shards of one capacity
    under one partition key would share that partition's 1,000 write units/s."""
    return f"CAP#{capacity_id}#{shard}"


def shard_sk(shard: int) -> str:
    return f"SHARD#{shard:02d}"


def hold_pk(hold_id: str) -> str:
    return f"HOLD#{hold_id}"


def outbox_pk(event_id: str) -> str:
    return f"OUTBOX#{event_id}"


def _partition(base: str, partition: int) -> str:
    # Partition 0 is the key as it was before issue 15 spread it, so items written then still list.
    return base if partition == 0 else f"{base}#{partition}"


def spread(item_id: str, partitions: int) -> int:
    """Which of ``partitions`` an item's listing entry goes to: a stable hash of its id."""
    return zlib.crc32(item_id.encode()) % partitions


def shard_number(shard_key: str) -> int:
    """``SHARD#07`` -> 7."""
    return int(shard_key.removeprefix(SHARD_PREFIX))


def first_shard(shard_keys: list[str]) -> int:
    """The listing partition of something placed on capacity shards: its lowest shard's number,
    so a capacity's listings spread exactly as its seat writes do."""
    return min((shard_number(key) for key in shard_keys), default=0)


def company_bookings(company_id: int, partition: int = 0) -> str:
    """GSI1 partition: one of a company's ``BOOKING_LISTING_PARTITIONS`` booking listings,
    newest first by created time; a booking goes to ``spread(booking id)``."""
    return _partition(f"CO#{company_id}#BOOKINGS", partition)


def company_booking_partitions(company_id: int) -> list[str]:
    return [company_bookings(company_id, n) for n in range(BOOKING_LISTING_PARTITIONS)]


def owner_seats(owner_booking_id: str, partition: int = 0) -> str:
    """GSI2 partition: a group owner's seat bookings taken on capacity shard ``partition``."""
    return _partition(f"OWNER#{owner_booking_id}", partition)


def capacity_holds(capacity_id: str, partition: int = 0) -> str:
    """GSI1 partition: the holds on one capacity shard, by expiry (to reclaim lapsed ones)."""
    return _partition(f"CAP#{capacity_id}#HOLDS", partition)


def basket_pk(basket_id: str) -> str:
    return f"BASKET#{basket_id}"


BASKET_SK = "BASKET"


def basket_holds(basket_id: str) -> str:
    """GSI2 partition: the holds (items) of one basket."""
    return f"BASKET#{basket_id}"


def purchase_pk(purchase_id: str) -> str:
    return f"PURCHASE#{purchase_id}"


PURCHASE_SK = "PURCHASE"


def purchase_long_pk(long_id: str) -> str:
    """The guard that finds a purchase by its long id (the booker's link) and keeps it unique."""
    return f"PURCHASELONG#{long_id}"


PURCHASE_LONG_SK = "PURCHASELONG"


def booker_count_pk(company_id: int, unit: str, email: str) -> str:
    """A booker count's own partition: an on-sale writes one per purchase, which under the
    company's partition would put every purchase of the sale on one key."""
    return f"CO#{company_id}#{booker_count_sk(unit, email)}"


def booker_count_sk(unit: str, email: str) -> str:
    """Under the company's partition: the spaces one booker (by email) holds on one bookable
    unit (``CHAIN-<id>`` for a course, ``EVENT-<id>`` for an occurrence), for max_num_bookings."""
    return f"BOOKERCOUNT#{unit}#{email.lower()}"


def expiry_partition(item_pk: str) -> str:
    """Expiry index partition, spread over ``EXPIRY_SHARDS`` so no single partition is hot."""
    return f"DUE#{spread(item_pk, EXPIRY_SHARDS)}"


def expiry_partitions() -> list[str]:
    return [f"DUE#{n}" for n in range(EXPIRY_SHARDS)]


WEBHOOK_PREFIX = "WEBHOOK#"
DELIVERY_PREFIX = "DELIVERY#"


def webhook_sk(webhook_id: int) -> str:
    return f"WEBHOOK#{webhook_id:012d}"


DELIVERY_PARTITIONS = 64  # a webhook's deliveries: 4,000 events/s x up to 6 table units -> ~375 units/s each


def delivery_partition(event_id: str) -> int:
    """Which of a webhook's ``DELIVERY_PARTITIONS`` an event's delivery goes to: from the event id
    alone, so the key stays deterministic (a duplicated event collides) and one GetItem finds it."""
    return spread(event_id, DELIVERY_PARTITIONS)


def webhook_pk(webhook_id: int, partition: int = 0) -> str:
    """One of a webhook's ``DELIVERY_PARTITIONS`` delivery partitions (issue 15): every event
    fanned out to one subscription under one key would take the sale's whole rate there."""
    return _partition(f"WEBHOOK#{webhook_id}", partition)


def delivery_pk(webhook_id: int, event_id: str) -> str:
    """The partition of the (webhook, event) delivery: ``WEBHOOK#<id>[#<p>]``."""
    return webhook_pk(webhook_id, delivery_partition(event_id))


def delivery_sk(event_id: str) -> str:
    """One delivery per (webhook, event): the key itself deduplicates a twice-delivered event."""
    return f"DELIVERY#{event_id}"


def webhook_deliveries(webhook_id: int, partition: int = 0) -> str:
    """GSI1 partition: one of a webhook's ``DELIVERY_PARTITIONS`` delivery listings, newest first
    by creation time; a delivery is listed on its table partition's number."""
    return _partition(f"WEBHOOK#{webhook_id}#DELIVERIES", partition)


def webhook_delivery_partitions(webhook_id: int) -> list[str]:
    return [webhook_deliveries(webhook_id, n) for n in range(DELIVERY_PARTITIONS)]


def mail_sk(audience: str) -> str:
    """Beside its outbox event: marks an event's email to one audience as sent (sent once)."""
    return f"MAIL#{audience}"


# --- booking pages (issue 12): projects, their hosted slugs, public rate counters ----------

PROJECT_PREFIX = "PROJECT#"
SLUG_SK = "SLUG"


def project_sk(project_id: str) -> str:
    """Under the company's partition: one Timekit project."""
    return f"PROJECT#{project_id}"


def slug_pk(slug: str) -> str:
    """A hosted page's slug, global (the hosted GET carries no credentials): names the project."""
    return f"SLUG#{slug}"


def rate_pk(key_digest: str, address: str) -> str:
    """One caller of the public routes: a key (its SHA-256, or ``anonymous``) from one address."""
    return f"RATE#{key_digest}#{address}"


def rate_sk(window_start: int) -> str:
    """``MIN#<epoch seconds of the minute>``: one counter per minute window."""
    return f"MIN#{window_start}"


# --- events (issue 4): groups, chains (sessions) and their occurrences ---------------------

EVENT_GROUP_PREFIX = "EGROUP#"
CHAIN_PREFIX = "CHAIN#"
EVENT_PREFIX = "EVENT#"


def event_group_sk(group_id: int) -> str:
    return f"EGROUP#{group_id:012d}"


def chain_sk(chain_id: int) -> str:
    return f"CHAIN#{chain_id:012d}"


def event_sk(event_id: int) -> str:
    return f"EVENT#{event_id:012d}"


def company_events(company_id: int) -> str:
    """GSI1 partition: a company's events, by start (``<start UTC ISO>#<id>``)."""
    return f"CO#{company_id}#EVENTS"


def chain_events(chain_id: int) -> str:
    """GSI2 partition: one chain's events, by start."""
    return f"CHAIN#{chain_id}"


def event_start_sk(start_utc_iso: str, event_id: int) -> str:
    return f"{start_utc_iso}#{event_id:012d}"


def event_capacity(event_id: int) -> str:
    """An event's seats are the capacity ``CAP#EVENT-<id>``."""
    return f"EVENT-{event_id}"


def waitlist_pk(capacity_id: str) -> str:
    """One capacity's waitlist (``WAIT#EVENT-12``): its entries in join order. A partition per
    capacity, never per company or deployment, so a popular class queues on its own key."""
    return f"WAIT#{capacity_id}"


WAITLIST_ENTRY_PREFIX = "ENTRY#"


def waitlist_sk(entry_id: str) -> str:
    """An entry id starts with its join time (epoch microseconds, fixed width), so key order is FIFO."""
    return f"{WAITLIST_ENTRY_PREFIX}{entry_id}"


def slot_capacity(service_id: int, start_utc_compact: str, duration: int) -> str:
    """A service slot's seats: ``CAP#SLOT-<service id>-<UTC start, 20310303T090000Z>-<minutes>``.

    Opened lazily by the first add_item on that slot (a conditional put); slots of
    different durations that overlap are separate capacities.
    """
    return f"SLOT-{service_id}-{start_utc_compact}-{duration}"


# --- time as a capacity (issue 11): resources and their claimed time ------------------------

RESOURCE_PREFIX = "RESOURCE#"
CLAIM_DAY_PREFIX = "DAY#"


def resource_sk(resource_id: int) -> str:
    """Under the company's partition: one resource (a Timekit resource, a BookingBug person or resource)."""
    return f"RESOURCE#{resource_id:012d}"


def resource_ref_sk(reference: str) -> str:
    """Under the company's partition: the guard that finds a resource by reference and keeps it unique."""
    return f"RESOURCEREF#{reference}"


def resource_pk(resource_id: int | str) -> str:
    """A resource's own partition: its claimed time, one item per UTC day (text: a template too)."""
    return f"RES#{resource_id}"


def claim_day_sk(day_iso: str) -> str:
    """``DAY#2024-05-06``: ISO dates sort as dates, so a window of days is one key range."""
    return f"DAY#{day_iso}"
