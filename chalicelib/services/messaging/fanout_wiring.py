"""Names the fan-out handlers are wired to, and which event types go where.

Decorator arguments in app.py are evaluated at import (and package) time, so they
are fixed placeholders here; the infrastructure merge template (infra/) replaces
the event sources with each stage's real stream and queues. The settings
(``EVENTS_TOPIC_ARN``, ``WEBHOOK_QUEUE_URL`` ...) name the resources the code
writes to. Pure constants: app.py imports this at cold start.
"""

from __future__ import annotations

OUTBOX_STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/booking-engine/stream/placeholder"
WEBHOOK_QUEUE = "booking-engine-webhooks"
# The webhook sender takes up to 100 messages a batch, waiting at most 1 s to gather them
# (issue 15: its per-batch bookkeeping, a Query per company and a transaction per 100 new
# deliveries, is then paid once per 100 events instead of once per 10). deliver_webhooks'
# timeout, the queue's visibility timeout and delivery.STALE_CLAIM_SECONDS follow from it
# (docs/operations.md, "The functions' memory and timeout").
WEBHOOK_BATCH_SIZE = 100
WEBHOOK_BATCH_WINDOW_SECONDS = 1
EMAIL_QUEUE = "booking-engine-emails"

# Every type an outbox event can have (what a webhook subscription may ask for).
# tests/unit/test_webhook_rules.py checks that every type the code writes is listed here.
EVENT_TYPES: tuple[str, ...] = (
    "booking.created",
    "booking.confirmed",
    "booking.declined",
    "booking.paid",
    "booking.expired",
    "booking.completed",
    "booking.cancelling",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.deleted",  # DELETE /v2/bookings/{id} of an ended booking
    "hold.created",
    "hold.expired",
    "hold.released",
    "purchase.completed",
    "purchase.cancelled",
    "event_chain.created",
    "event_chain.updated",
    "event_chain.deleted",
    "event.updated",
    # issue 14: a waitlist's entries (services/selling/waitlist.py)
    "waitlist.joined",
    "waitlist.offered",  # seats freed for the entry: an offer hold, with a one-click booking link
    "waitlist.booked",  # booked with the offer's hold
    "waitlist.lapsed",  # the offer's hold expired; the seats went to the next in line
    "waitlist.left",
)

# Waitlist events that email the customer (not graph actions, so listed here).
WAITLIST_EMAIL_TYPES: tuple[str, ...] = ("waitlist.offered",)

# The types whose graph actions have notify_* steps, and the waitlist's: the email queue's filter policy.
# tests/unit/test_webhook_rules.py checks this against the graphs.
EMAIL_EVENT_TYPES: tuple[str, ...] = (
    "booking.created",
    "booking.confirmed",
    "booking.declined",
    "booking.paid",
    "booking.expired",
    "booking.cancelling",  # a group owner's cancel (its seats are cancelled after)
    "booking.cancelled",
    "booking.rescheduled",
    *WAITLIST_EMAIL_TYPES,
)

# SNS message attributes every published event carries (the subscriptions filter on "type").
ATTRIBUTE_COMPANY = "company_id"
ATTRIBUTE_TYPE = "type"
