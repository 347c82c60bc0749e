"""Signed customer links: what lets a booking page (the public key) reschedule or cancel one
booking, the customer's own, and nothing else.

The token is an HMAC-SHA256 of the company and booking ids under the platform root key, so it
needs no storage, names exactly one booking, and stops working when the root key is rotated.
A page sends it as ``Timekit-Customer-Token``. A reschedule makes a new booking (a new id):
its answer carries the new booking's links.

Timekit's customer action links (``external_action``, issue 14) are the same thing for a
customer without a page, with more bounds: a JWT (HS256, under a key derived per company from
the root key) names one booking, one action and an expiry, and the action's transaction
records its id put-if-absent, so a link works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from chalicelib.domain import secrets
from chalicelib.domain.errors import ErrorCode, Forbidden, NotFound, Unauthorized
from chalicelib.settings import get_settings

HEADER = "Timekit-Customer-Token"


def _sign(message: str) -> str:
    digest = hmac.new(get_settings().root_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(company_id: int, booking_id: str) -> str:
    return _sign(f"customer-link:{company_id}:{booking_id}")


def check(company_id: int, booking_id: str, token: str | None) -> None:
    if not token or not secrets.equal(token, token_for(company_id, booking_id)):
        raise Unauthorized(
            f"a booking page acts on a booking only through its customer's link ({HEADER})", field=HEADER
        )


def feed_token(company_id: int, resource_id: int) -> str:
    """The secret in a resource's calendar feed URL (rotating the root key changes every feed URL)."""
    return _sign(f"resource-feed:{company_id}:{resource_id}")


def check_feed(company_id: int, resource_id: int, token: str) -> None:
    if not secrets.equal(token, feed_token(company_id, resource_id)):
        raise NotFound("no such calendar feed", field="token")  # a wrong secret reveals nothing


# --- action links: one click from an email performs one action once ---------------------------------

ACTIONS = ("cancel_by_customer", "reschedule_by_customer")
LINK_LIFETIME = timedelta(days=30)
_ISSUER = "booking-engine/action-link"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class ActionLink:
    company_id: int
    booking_id: str
    action: str
    link_id: str  # the JWT id: what the used-marker is keyed on
    expires_at: int  # epoch seconds


def offered(graph_name: str, state: str) -> list[str]:
    """The customer actions a booking of ``graph_name`` resting in ``state`` allows now."""
    from chalicelib.domain.graphs import GRAPHS  # the graphs load with the first booking, not at cold start

    graph = GRAPHS.get(graph_name)
    if graph is None:
        return []
    return [name for name in ACTIONS if (action := graph.action(state, name)) is not None and action.manual]


def _company_key(company_id: int) -> bytes:
    # Per company, derived rather than stored: no secret to keep per tenant, and rotating the
    # root key revokes every link at once. A link of one company never verifies for another.
    return hmac.new(get_settings().root_key.encode(), f"action-link:{company_id}".encode(), hashlib.sha256).digest()


def action_signature(company_id: int, booking_id: str, action: str, now: datetime) -> str:
    """A JWT bound to one booking of one company and one action, valid for LINK_LIFETIME."""
    claims = {
        "iss": _ISSUER,
        "cid": company_id,
        "sub": booking_id,
        "act": action,
        "jti": str(uuid.uuid4()),
        "iat": int(now.timestamp()),
        "exp": int((now + LINK_LIFETIME).timestamp()),
    }
    import jwt  # on first use: PyJWT pulls in cryptography, ~60 ms of every cold start otherwise

    return jwt.encode(claims, _company_key(company_id), algorithm=_ALGORITHM)


def action_urls(base_url: str, company_id: int, booking_id: str, actions: list[str], now: datetime) -> dict[str, str]:
    """One-click links (``external_action``) for ``actions`` of one booking, each signed on its own."""
    root = base_url.rstrip("/")
    return {
        action: f"{root}/v2/bookings/{booking_id}/external_action/{action}?"
        + urlencode({"signature": action_signature(company_id, booking_id, action, now)})
        for action in actions
    }


BOOK_OFFER = "book_offer"  # a waitlist offer's link: the signed subject is the offer's hold


def offer_url(base_url: str, company_id: int, hold_id: str, now: datetime) -> str:
    """The one-click link that books a waitlist offer with its hold (``GET /v2/waitlist/offers/...``)."""
    signature = action_signature(company_id, hold_id, BOOK_OFFER, now)
    return f"{base_url.rstrip('/')}/v2/waitlist/offers/{hold_id}/book?" + urlencode({"signature": signature})


def read_action_signature(booking_id: str, action: str, signature: str, now: datetime) -> ActionLink:
    """The link ``signature`` proves, or 401 (tampered, expired, not ours) / 403 (another booking or action)."""
    import jwt

    try:
        unverified = jwt.decode(signature, options={"verify_signature": False})
        company_id = int(unverified["cid"])
        claims = jwt.decode(
            signature,
            _company_key(company_id),
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            # expiry is checked below against the engine's clock, not the library's
            options={"require": ["exp", "jti", "sub", "act", "cid"], "verify_exp": False},
        )
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        raise Unauthorized("this link is not valid", field="signature", code=ErrorCode.LINK_INVALID) from None
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthorized("this link has expired", field="signature", code=ErrorCode.LINK_EXPIRED)
    if claims["sub"] != booking_id or claims["act"] != action:
        raise Forbidden("this link is for another booking or action", field="signature", code=ErrorCode.LINK_MISMATCH)
    return ActionLink(company_id, booking_id, action, str(claims["jti"]), int(claims["exp"]))
