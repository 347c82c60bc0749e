"""Signed customer links: what lets a booking page (the public key) reschedule or cancel one
booking, the customer's own, and nothing else.

The token is an HMAC-SHA256 of the company and booking ids under the platform root key, so it
needs no storage, names exactly one booking, and stops working when the root key is rotated.
A page sends it as ``Timekit-Customer-Token``. A reschedule makes a new booking (a new id):
its answer carries the new booking's links.

Timekit's customer action links (``external_action``, issue 14) are the same thing for a
customer without a page: they belong here, so one mechanism signs and checks every customer link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.domain import secrets
from chalicelib.domain.errors import Unauthorized
from chalicelib.settings import get_settings

HEADER = "Timekit-Customer-Token"


def token_for(company_id: int, booking_id: str) -> str:
    message = f"customer-link:{company_id}:{booking_id}".encode()
    digest = hmac.new(get_settings().root_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check(company_id: int, booking_id: str, token: str | None) -> None:
    if not token or not secrets.equal(token, token_for(company_id, booking_id)):
        raise Unauthorized(
            f"a booking page acts on a booking only through its customer's link ({HEADER})", field=HEADER
        )
