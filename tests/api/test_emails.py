"""What the business wrote reaches the customer's email, escaped; Timekit's step names are honoured;
the log says when an email went out (seed 003)."""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import boto3
import pytest
from icalendar import Calendar

from chalicelib.services.messaging import fanout, mail
from chalicelib.settings import reset_settings
from tests.conftest import Api, Tenant

EVENT = {"start": "2031-03-01T08:00:00+00:00", "end": "2031-03-01T09:00:00+00:00", "what": "Mens haircut"}
CUSTOMER = {"name": "Marty McFly", "email": "marty@example.com"}
WORDS = "Sorry, I'm <b>not</b> available at that location & time"


@pytest.fixture
def mail_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    reset_settings()
    return tmp_path


def _send_all(table: str) -> list[dict[str, Any]]:
    """Every outbox event as the fan-out publishes it, handed to the email sender (as its queue would)."""
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    records = [{"eventName": "INSERT", "dynamodb": {"NewImage": item}} for item in items]
    events = [e for e in (fanout._from_stream(r) for r in records) if e is not None]
    for event in sorted(events, key=lambda e: e["occurred_at"]):
        mail.handle(json.dumps(event))
    return events


def _read(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def _mails(folder: Path, event_type: str) -> list[EmailMessage]:
    return [m for m in map(_read, sorted(folder.glob("*.eml"))) if m["X-Event-Type"] == event_type]


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def _book(api: Api, tenant: Tenant, graph: str, **options: Any) -> str:
    reply = api.post("/v2/bookings", {"graph": graph, "event": EVENT, "customer": CUSTOMER, **options}, tenant.v2)
    assert reply.status == 201, reply.body
    return str(reply.body["data"]["id"])


@pytest.mark.parametrize(
    ("graph", "action", "options", "event_type"),
    [
        ("confirm_decline", "decline", {"notify_customer_declined_by_email": {"message": WORDS}}, "booking.declined"),
        ("confirm_decline", "decline", {"decline": {"message": WORDS}}, "booking.declined"),
        ("instant", "cancel", {"cancel": {"message": WORDS}}, "booking.cancelled"),
        ("instant", "cancel_by_customer", {"cancel_by_customer": {"message": WORDS}}, "booking.cancelled"),
    ],
)
def test_the_message_given_with_an_action_is_in_the_customers_email_escaped(
    api: Api,
    tenant: Tenant,
    moto_table: str,
    mail_dir: Path,
    graph: str,
    action: str,
    options: dict[str, Any],
    event_type: str,
) -> None:
    booking_id = _book(api, tenant, graph)
    acted = api.put(f"/v2/bookings/{booking_id}/{action}", options, tenant.v2)
    assert acted.status == 200, acted.body
    _send_all(moto_table)
    (sent,) = [m for m in _mails(mail_dir, event_type) if m["To"] == CUSTOMER["email"]]
    text, html = _parts(sent)
    assert WORDS in text
    assert "Sorry, I&#x27;m &lt;b&gt;not&lt;/b&gt; available at that location &amp; time" in html
    assert "<b>not</b>" not in html
    for to_owner in [m for m in _mails(mail_dir, event_type) if m["To"] != CUSTOMER["email"]]:
        assert WORDS not in _parts(to_owner)[0]  # the message is for the customer


def test_a_reschedule_message_reaches_the_customer(api: Api, tenant: Tenant, moto_table: str, mail_dir: Path) -> None:
    booking_id = _book(api, tenant, "instant")
    moved = api.post(
        f"/v2/bookings/{booking_id}/reschedule",
        {"start": "2031-04-01T08:00:00+00:00", "end": "2031-04-01T09:00:00+00:00", "message": "Running late"},
        tenant.v2,
    )
    assert moved.status == 201
    _send_all(moto_table)
    (sent,) = [m for m in _mails(mail_dir, "booking.rescheduled") if m["To"] == CUSTOMER["email"]]
    assert "Running late" in _parts(sent)[0]


def _recipients(folder: Path) -> list[tuple[str, str]]:
    return sorted((str(m["X-Event-Type"]), str(m["To"])) for m in map(_read, folder.glob("*.eml")))


def test_timekits_step_names_switch_the_engines_steps_off(
    api: Api, tenant: Tenant, moto_table: str, mail_dir: Path
) -> None:
    quiet = _book(api, tenant, "confirm_decline", send_confirm_decline_email_to_owner={"enabled": False})
    logs = [e["description"] for e in api.get(f"/v2/bookings/{quiet}", tenant.v2).body["data"]["logs"]]
    assert "Skipped notify_owner_by_email (disabled in the request)" in logs
    off = {"notify_customer_declined_by_email": {"enabled": False}}
    assert api.put(f"/v2/bookings/{quiet}/decline", off, tenant.v2).status == 200
    _send_all(moto_table)
    assert _recipients(mail_dir) == []
    # the control: the same flow without the options emails the owner, then the customer
    loud = _book(api, tenant, "confirm_decline")
    assert api.put(f"/v2/bookings/{loud}/decline", {}, tenant.v2).status == 200
    _send_all(moto_table)
    assert _recipients(mail_dir) == [
        ("booking.created", tenant.admin_email),
        ("booking.declined", CUSTOMER["email"]),
    ]


def test_the_log_reads_as_seed_003s(api: Api, tenant: Tenant, moto_table: str, mail_dir: Path) -> None:
    booking_id = _book(api, tenant, "confirm_decline")
    _send_all(moto_table)
    _send_all(moto_table)  # a redelivery: no second email, no second log line
    assert api.put(f"/v2/bookings/{booking_id}/decline", {}, tenant.v2).status == 200
    _send_all(moto_table)
    logs = [e["description"] for e in api.get(f"/v2/bookings/{booking_id}", tenant.v2).body["data"]["logs"]]
    assert logs[0] == "Changed state to: creating"
    owner_mail = logs.index(f"Email sent to {tenant.admin_email}!")
    assert logs[owner_mail - 1] == "Changed state to: tentative"
    assert logs[-2:] == ["Changed state to: declined", f"Email sent to {CUSTOMER['email']}!"]
    assert logs.count(f"Email sent to {tenant.admin_email}!") == 1
    assert len(list(mail_dir.glob("*.eml"))) == 2


def test_the_customers_email_carries_links_that_work_once(
    api: Api, tenant: Tenant, moto_table: str, mail_dir: Path
) -> None:
    booking_id = _book(api, tenant, "instant")
    _send_all(moto_table)
    (sent,) = [m for m in _mails(mail_dir, "booking.created") if m["To"] == CUSTOMER["email"]]
    text, html = _parts(sent)
    lines = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in text.splitlines() if ": http" in line}
    assert set(lines) == {"Cancel", "Reschedule"}
    cancel = lines["Cancel"]
    assert cancel.startswith(f"http://127.0.0.1:8000/v2/bookings/{booking_id}/external_action/cancel_by_customer?")
    assert cancel.replace("&", "&amp;") in html or cancel in html
    path = cancel.removeprefix("http://127.0.0.1:8000")
    assert api.get(path, {}).body["data"]["state"] == "cancelled_by_customer"
    assert api.get(path, {}).error["code"] == "link_used"
    for owner_mail in [m for m in _mails(mail_dir, "booking.created") if m["To"] != CUSTOMER["email"]]:
        assert "external_action" not in _parts(owner_mail)[0]  # the owner gets no customer links


def _invite(message: EmailMessage) -> tuple[str, Any]:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(part.get_content()).walk("VEVENT")
    return str(part.get_param("method")), event


def test_emails_attach_the_calendar_file_request_then_cancel(
    api: Api, tenant: Tenant, moto_table: str, mail_dir: Path
) -> None:
    booking_id = _book(api, tenant, "instant")
    assert api.put(f"/v2/bookings/{booking_id}/cancel", {}, tenant.v2).status == 200
    _send_all(moto_table)
    (booked,) = [m for m in _mails(mail_dir, "booking.created") if m["To"] == CUSTOMER["email"]]
    (cancelled,) = [m for m in _mails(mail_dir, "booking.cancelled") if m["To"] == CUSTOMER["email"]]
    cancel_method, cancel_event = _invite(cancelled)
    assert cancel_method == "CANCEL" and str(cancel_event["STATUS"]) == "CANCELLED"
    _method, booked_event = _invite(booked)  # sent after the cancel here: the file says what is true when sent
    assert str(booked_event["UID"]) == str(cancel_event["UID"]) == f"{booking_id}@booking-engine"


def test_a_reschedule_email_sends_the_new_time_under_the_same_uid(
    api: Api, tenant: Tenant, moto_table: str, mail_dir: Path
) -> None:
    booking_id = _book(api, tenant, "instant")
    move = {"start": "2031-04-01T08:00:00+00:00", "end": "2031-04-01T09:00:00+00:00"}
    assert api.post(f"/v2/bookings/{booking_id}/reschedule", move, tenant.v2).status == 201
    _send_all(moto_table)
    (sent,) = [m for m in _mails(mail_dir, "booking.rescheduled") if m["To"] == CUSTOMER["email"]]
    method, event = _invite(sent)
    assert method == "REQUEST" and str(event["UID"]) == f"{booking_id}@booking-engine"
    assert event.decoded("DTSTART").isoformat() == "2031-04-01T08:00:00+00:00" and int(event["SEQUENCE"]) >= 1


def test_deployed_emails_with_an_invitation_go_to_ses_as_raw_mime(
    api: Api, tenant: Tenant, moto_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SES templates cannot attach: an email carrying the calendar file is sent raw (moto's SES)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    booking_id = _book(api, tenant, "instant")
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("BOOKING_ROOT_KEY", "a-deployed-root-key-" + "x" * 32)
    monkeypatch.setenv("MAIL_FROM", "bookings@dev.example.com")
    reset_settings()
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="bookings@dev.example.com")
    _send_all(moto_table)
    assert ses.get_send_quota()["SentLast24Hours"] >= 1
    raw = [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]
    sent = [BytesParser(policy=policy.default).parsebytes(m.raw_data.encode()) for m in raw]
    (to_customer,) = [m for m in sent if m["To"] == CUSTOMER["email"] and m["X-Event-Type"] == "booking.created"]
    assert isinstance(to_customer, EmailMessage)
    assert to_customer["From"] == "bookings@dev.example.com" and "Mens haircut" in str(to_customer["Subject"])
    method, event = _invite(to_customer)
    assert method == "REQUEST" and str(event["UID"]) == f"{booking_id}@booking-engine"
    text, html = _parts(to_customer)
    assert "is booked" in text and "Mens haircut" in html
