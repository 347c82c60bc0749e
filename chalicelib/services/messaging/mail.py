"""The email sender: the notify_* steps of the graphs, driven by the same events as the webhooks.

An event from the email queue names the steps its action ran (``notify``); each of
``notify_owner_by_email`` (to the company's admin email) and
``notify_customer_by_email`` (to the booking's customer) becomes one templated
email. A marker item written put-if-absent before sending makes a twice-delivered
event one email; a failed send removes it and the message is retried. Deployed,
SES sends the template (:mod:`chalicelib.services.messaging.mail_templates`); the local stage writes
an .eml file to ``MAIL_DIR`` instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.graphs import GRAPHS, Step
from chalicelib.observability import get_logger
from chalicelib.services.identity import customer_links
from chalicelib.services.messaging import calendars
from chalicelib.services.messaging import mail_templates as templates
from chalicelib.services.messaging.fanout_wiring import EMAIL_EVENT_TYPES
from chalicelib.settings import get_settings
from chalicelib.store import aws, db, keys
from chalicelib.store.errors import refused
from chalicelib.store.models import Booking, BookingLog, Company, MailSent

STEP_AUDIENCE = {
    Step.NOTIFY_OWNER_BY_EMAIL.value: templates.OWNER,
    Step.NOTIFY_CUSTOMER_BY_EMAIL.value: templates.CUSTOMER,
}
MARKER_TTL_SECONDS = 7 * 86_400


def handle_messages(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """An SQS batch through Powertools' BatchProcessor: each failed message is reported, and only it returns."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    db.ensure_bound()

    def one(record: SQSRecord) -> None:
        try:
            handle(record.body or "")
        except Exception:
            get_logger().exception("email message failed; it will be retried")
            raise

    # An all-failed batch is reported like any other, not raised: the queue retries each message.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response({"Records": records}, one, processor))


def handle(body: str) -> list[str]:
    """Send the event's emails; returns the audiences emailed now."""
    try:
        event = json.loads(body)
    except ValueError:
        get_logger().error("email message is not JSON; dropped")
        return []
    if event.get("type") not in EMAIL_EVENT_TYPES:
        return []
    sent = []
    for audience in audiences(event):
        if send_once(event, audience):
            sent.append(audience)
    return sent


def audiences(event: Mapping[str, Any]) -> list[str]:
    """Who this event emails: the steps its action ran, or (events a Step Functions mirror wrote,
    without ``notify``) the notify steps of the graph's action that reaches the event's state."""
    notify = event.get("notify")
    if notify is None:
        data = event.get("data") or {}
        graph = GRAPHS.get(str(data.get("graph")))
        actions = [graph.create, *(a for acts in graph.states.values() for a in acts)] if graph else []
        reaching = next((a for a in actions if a.to == data.get("state")), None)
        notify = [step.value for step in reaching.steps] if reaching else []
    return [STEP_AUDIENCE[step] for step in notify if step in STEP_AUDIENCE]


def recipient(event: Mapping[str, Any], audience: str, company: Company | None) -> str | None:
    if audience == templates.OWNER:
        return company.admin_email if company else None
    customers = (event.get("data") or {}).get("customers") or []
    email = customers[0].get("email") if customers and isinstance(customers[0], Mapping) else None
    return str(email) if email else None


def send_once(event: Mapping[str, Any], audience: str) -> bool:
    company = _company(int(event["company_id"]))
    to = recipient(event, audience, company)
    if not to:
        return False
    marker = MailSent(keys.outbox_pk(str(event["id"])), keys.mail_sk(audience), sent_at=db.iso(clock.utcnow()))
    marker.ttl = int(clock.utcnow().timestamp()) + MARKER_TTL_SECONDS
    if refused(lambda: marker.save(condition=MailSent.pk.does_not_exist())):
        return False  # a duplicate of an event already emailed
    key = templates.template_key(str(event["type"]), audience)
    data = templates.template_data(
        event, company.name if company else "", _message(event, audience), _action_links(event, audience)
    )
    try:
        deliver(key, data, to, event, invitation(event))
    except Exception:
        marker.delete()  # not sent: the retried message may try again
        raise
    log_sent(event, audience, to)
    return True


def log_sent(event: Mapping[str, Any], audience: str, to: str) -> None:
    """ "Email sent to <address>!" in the booking's log, as seed 003's logs read.

    Its own item (put-if-absent per event and audience, so a redelivery logs once), at the
    booking's current log number: the log reads in the order things happened, and the
    booking itself is not written (its version and ETag stay).
    """
    if not str(event.get("type", "")).startswith("booking."):
        return
    pk = keys.booking_pk(str(event["subject_id"]))
    try:
        booking = Booking.get(pk, keys.BOOKING_SK, consistent_read=True)
    except Booking.DoesNotExist:
        return
    entry = {"description": f"Email sent to {to}!", "success": True, "state": booking.state, "data": {}}
    item = BookingLog(
        pk,
        keys.mail_log_sk(str(event["id"]), audience),
        seq=booking.log_count,
        entries=[entry],
        created_at=db.iso(clock.utcnow()),
    )
    refused(lambda: item.save(condition=BookingLog.pk.does_not_exist()))  # refused: a redelivery, logged already


def _message(event: Mapping[str, Any], audience: str) -> str | None:
    return str(event["message"]) if audience == templates.CUSTOMER and event.get("message") else None


def _action_links(event: Mapping[str, Any], audience: str) -> dict[str, str]:
    """The customer's one-click links for what the booking's graph allows in the state reported."""
    data = event.get("data") or {}
    offer = data.get("offer") or {}
    if audience == templates.CUSTOMER and event.get("type") == "waitlist.offered" and offer.get("reservation_id"):
        url = customer_links.offer_url(
            get_settings().public_base_url, int(event["company_id"]), str(offer["reservation_id"]), clock.utcnow()
        )
        return {customer_links.BOOK_OFFER: url}
    if audience != templates.CUSTOMER or not str(event.get("type", "")).startswith("booking.") or not data.get("id"):
        return {}
    offered = customer_links.offered(str(data.get("graph")), str(data.get("state")))
    return customer_links.action_urls(
        get_settings().public_base_url, int(event["company_id"]), str(data["id"]), offered, clock.utcnow()
    )


def _company(company_id: int) -> Company | None:
    try:
        return Company.get(keys.company_pk(company_id), keys.COMPANY_SK)
    except Company.DoesNotExist:
        return None


def invitation(event: Mapping[str, Any]) -> bytes | None:
    """The booking's calendar file to attach (REQUEST, or CANCEL once it has ended); a reschedule's
    is the new booking's (the same UID, the new time)."""
    if not str(event.get("type", "")).startswith("booking."):
        return None
    try:
        booking = Booking.get(keys.booking_pk(str(event["subject_id"])), keys.BOOKING_SK, consistent_read=True)
        if booking.rescheduled_to:
            booking = Booking.get(keys.booking_pk(booking.rescheduled_to), keys.BOOKING_SK, consistent_read=True)
    except Booking.DoesNotExist:
        return None
    return calendars.invitation(booking) if booking.start_at and booking.end_at else None


def deliver(
    key: str, data: Mapping[str, str], to: str, event: Mapping[str, Any], attachment: bytes | None = None
) -> None:
    settings = get_settings()
    if settings.stage == "local":
        write_eml(key, data, to, event, attachment)
        return
    if attachment is not None:
        # SES templates cannot carry an attachment: the invitation goes as a raw MIME email,
        # rendered from the same template data.
        aws.client("ses").send_raw_email(
            Source=settings.mail_from,
            Destinations=[to],
            RawMessage={"Data": bytes(compose(key, data, to, event, attachment))},
        )
        return
    aws.client("ses").send_templated_email(
        Source=settings.mail_from,
        Destination={"ToAddresses": [to]},
        Template=templates.template_name(key, settings.stage),
        TemplateData=json.dumps(dict(data)),
    )


def write_eml(
    key: str, data: Mapping[str, str], to: str, event: Mapping[str, Any], attachment: bytes | None = None
) -> Path:
    message = compose(key, data, to, event, attachment)
    folder = Path(get_settings().mail_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{str(event['occurred_at']).replace(':', '')}-{event['id']}-{key}.eml"
    path.write_bytes(bytes(message))
    return path


def compose(
    key: str, data: Mapping[str, str], to: str, event: Mapping[str, Any], attachment: bytes | None = None
) -> EmailMessage:
    """The email as MIME: text and html alternatives and, when given, the calendar invitation
    (``text/calendar; method=REQUEST`` or ``CANCEL``, as RFC 6047 asks)."""
    rendered = templates.render(key, data)
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = to
    message["Subject"] = rendered["subject"]
    message["Date"] = format_datetime(clock.utcnow())
    message["Message-ID"] = make_msgid(domain="booking-engine.local")
    message["X-Event-Id"] = str(event["id"])
    message["X-Event-Type"] = str(event["type"])
    message.set_content(rendered["text"])
    message.add_alternative(rendered["html"], subtype="html")
    if attachment is not None:
        method = "CANCEL" if b"METHOD:CANCEL" in attachment else "REQUEST"
        message.add_attachment(
            attachment, maintype="text", subtype="calendar", filename="booking.ics", params={"method": method}
        )
    return message
