"""Email templates as data: SES templates in the deployed stages (issue 6 generates
AWS::SES::Template resources from :data:`TEMPLATES`), rendered here into .eml files locally.

Placeholders are ``{{name}}`` only (no Handlebars logic), so SES and :func:`render`
produce the same text. Every template receives the fields of :func:`template_data`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

OWNER = "owner"
CUSTOMER = "customer"
AUDIENCES = (OWNER, CUSTOMER)

# event type -> (what happened, in words)
_HAPPENED = {
    "booking.created": "is booked",
    "booking.confirmed": "is confirmed",
    "booking.declined": "was declined",
    "booking.paid": "is paid",
    "booking.expired": "expired unpaid",
    "booking.cancelling": "is cancelled",
    "booking.cancelled": "is cancelled",
    "booking.rescheduled": "was rescheduled",
}


def template_key(event_type: str, audience: str) -> str:
    """E.g. ``booking-confirmed-customer``."""
    return f"{event_type.replace('.', '-')}-{audience}"


def template_name(key: str, stage: str) -> str:
    """The SES template's name: per stage, since SES template names are per account and region."""
    return f"booking-engine-{stage}-{key}"


def _template(event_type: str, audience: str) -> dict[str, str]:
    happened = _HAPPENED[event_type]
    greeting = "Hello {{customer_name}}," if audience == CUSTOMER else "Hello,"
    who = "Your booking" if audience == CUSTOMER else "The booking of {{customer_name}} ({{customer_email}})"
    # A customer's email carries their one-click action links (empty when the state offers none).
    links_text = "{{action_links}}\n" if audience == CUSTOMER else ""
    links_html = '<p style="white-space: pre-line">{{action_links}}</p>' if audience == CUSTOMER else ""
    text = (
        f"{greeting}\n\n{who} for {{{{what}}}} on {{{{start}}}} {happened}.\n"
        "State: {{state}}. Reference: {{booking_id}}.\n{{message}}\n"
        f"{links_text}\n{{{{company_name}}}}\n"
    )
    body_html = (
        f"<p>{greeting}</p><p>{who} for <b>{{{{what}}}}</b> on {{{{start}}}} {happened}.</p>"
        "<p>State: {{state}}. Reference: {{booking_id}}.</p><p>{{message}}</p>"
        f"{links_html}<p>{{{{company_name}}}}</p>"
    )
    return {
        "subject": f"{{{{what}}}} on {{{{start}}}} {happened}",
        "text": text,
        "html": body_html,
    }


def _offer_template() -> dict[str, str]:
    """A waitlist offer, to the customer: the seat is held until the offer lapses; one click books it."""
    return {
        "subject": "A seat for {{what}} on {{start}} is held for you",
        "text": (
            "Hello {{customer_name}},\n\nA seat for {{what}} on {{start}} has come free and is held for you "
            "until {{offer_expires}}. After that it goes to the next person waiting.\n"
            "{{action_links}}\nReference: {{booking_id}}.\n\n{{company_name}}\n"
        ),
        "html": (
            "<p>Hello {{customer_name}},</p><p>A seat for <b>{{what}}</b> on {{start}} has come free and is held "
            "for you until {{offer_expires}}. After that it goes to the next person waiting.</p>"
            '<p style="white-space: pre-line">{{action_links}}</p><p>Reference: {{booking_id}}.</p>'
            "<p>{{company_name}}</p>"
        ),
    }


TEMPLATES: dict[str, dict[str, str]] = {
    template_key(event_type, audience): _template(event_type, audience)
    for event_type in _HAPPENED
    for audience in AUDIENCES
} | {template_key("waitlist.offered", CUSTOMER): _offer_template()}

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def render(key: str, data: Mapping[str, Any]) -> dict[str, str]:
    """Subject, text and html of a template with ``data`` filled in (html-escaped in the html part)."""
    template = TEMPLATES[key]

    def fill(text: str, escape: bool) -> str:
        def value(match: re.Match[str]) -> str:
            raw = str(data.get(match.group(1), ""))
            return html.escape(raw) if escape else raw

        return _PLACEHOLDER.sub(value, text)

    return {
        "subject": fill(template["subject"], False),
        "text": fill(template["text"], False),
        "html": fill(template["html"], True),
    }


ACTION_WORDS = {"cancel_by_customer": "Cancel", "reschedule_by_customer": "Reschedule", "book_offer": "Book it"}


def links_text(links: Mapping[str, str]) -> str:
    """ "Cancel: <url>" lines, in a fixed order."""
    return "\n".join(f"{ACTION_WORDS.get(action, action)}: {url}" for action, url in sorted(links.items()))


def template_data(
    event: Mapping[str, Any], company_name: str, message: str | None, links: Mapping[str, str] | None = None
) -> dict[str, str]:
    data = event.get("data") or {}
    customers = data.get("customers") or [{}]
    customer = customers[0] if isinstance(customers[0], Mapping) else {}
    booking_event = (data.get("attributes") or {}).get("event_info") or data.get("event_info") or {}
    return {
        "booking_id": str(data.get("id") or event.get("subject_id") or ""),
        "state": str(data.get("state") or ""),
        "what": str(booking_event.get("what") or "your booking"),
        "start": str(booking_event.get("start") or ""),
        "customer_name": str(customer.get("name") or ""),
        "customer_email": str(customer.get("email") or ""),
        "company_name": company_name,
        "message": message or "",
        "action_links": links_text(links or {}),
        "offer_expires": str((data.get("offer") or {}).get("expires_at") or ""),
    }
