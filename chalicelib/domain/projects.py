"""Timekit projects: what a booking page (Timekit's widget) needs to run, as data.

A project names the resources a page books, the availability query it asks (posted back
verbatim by the widget into ``/v2/availability``), the booking it creates (``booking``,
merged last into ``POST /v2/bookings``, so its ``graph`` decides what the page books), the
customer form and the page's texts. The widget applies no local defaults in project mode
(it would throw on a slot click without ``ui.localization.success_message``), so a project
always carries them: :func:`with_widget_defaults` fills what the caller left out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.graphs import GRAPHS

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
GROUP_GRAPHS = frozenset({"group_customer", "group_customer_payment"})
# What a page may create with the public key: a customer's booking, never a group owner (a class).
PAGE_GRAPHS = frozenset(GRAPHS) - {"group_owner"}
DEFAULT_GRAPH = "instant"
AVAILABILITY_MODES = frozenset({"roundrobin_random", "roundrobin_prioritized", "exclusive", "mutual"})

DEFAULT_UI: dict[str, Any] = {
    "display_name": "",
    "availability_view": "agendaWeek",
    "show_credits": False,
    "localization": {
        "allocated_resource_prefix": "with",
        "submit_button": "Book it",
        "success_message": "We have received your booking and sent a confirmation to %s",
    },
}
DEFAULT_CUSTOMER_FIELDS: dict[str, Any] = {
    "name": {"title": "Name", "required": True},
    "email": {"title": "E-mail", "format": "email", "required": True},
}
DEFAULT_AVAILABILITY: dict[str, Any] = {"mode": "roundrobin_random", "length": "1 hour"}


def check_slug(slug: str) -> str:
    if not SLUG.fullmatch(slug):
        raise ValidationFailed(
            "a slug is 1 to 64 lower-case letters, digits and inner hyphens (it is the hosted page's address)",
            field="slug",
        )
    return slug


def slug_from_name(name: str) -> str:
    """A slug proposal for a project created without one (uniqueness is the store's job)."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return words or "project"


def _merged(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(dict(defaults))
    for key, value in (given or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def with_widget_defaults(project: Mapping[str, Any]) -> dict[str, Any]:
    """The project with the widget's required settings filled in under what it says."""
    out = dict(project)
    out["ui"] = _merged(DEFAULT_UI, project.get("ui"))
    out["customer_fields"] = _merged(DEFAULT_CUSTOMER_FIELDS, project.get("customer_fields"))
    out["availability"] = _merged(DEFAULT_AVAILABILITY, project.get("availability"))
    out["booking"] = _merged({"graph": DEFAULT_GRAPH}, project.get("booking"))
    return out


def check_rules(project: Mapping[str, Any]) -> None:
    """What would break the page or let it book what it must not; the rest is kept as sent."""
    booking = project.get("booking") or {}
    graph = booking.get("graph", DEFAULT_GRAPH)
    if graph not in PAGE_GRAPHS:
        allowed = ", ".join(sorted(PAGE_GRAPHS))
        raise ValidationFailed(f"a project books one of {allowed}", field="booking.graph")
    mode = (project.get("availability") or {}).get("mode")
    if mode is not None and mode not in AVAILABILITY_MODES:
        raise ValidationFailed(f"mode is one of {', '.join(sorted(AVAILABILITY_MODES))}", field="availability.mode")
    message = ((project.get("ui") or {}).get("localization") or {}).get("success_message")
    if message is not None and not isinstance(message, str):
        raise ValidationFailed("success_message is text ('%s' stands for the email)", field="ui.localization")
    for name in ("name", "email"):
        if not isinstance((project.get("customer_fields") or {}).get(name, {}), Mapping):
            raise ValidationFailed(f"customer_fields.{name} is an object", field=f"customer_fields.{name}")


def is_group_project(project: Mapping[str, Any]) -> bool:
    return (project.get("booking") or {}).get("graph") in GROUP_GRAPHS
