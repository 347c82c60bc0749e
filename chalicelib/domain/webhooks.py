"""Webhook rules, pure: Standard Webhooks signing, the retry schedule, which targets are allowed.

Signing follows Standard Webhooks 1.0: the secret is ``whsec_`` + base64 of random
bytes; the signature is ``v1,`` + base64 of HMAC-SHA256 over ``{id}.{timestamp}.{body}``;
several signatures (a rotated secret's grace period) are separated by spaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from chalicelib.domain.errors import ValidationFailed

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the standard asks for 24 to 64
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 13
FIRST_RETRY_SECONDS = 30
BACKOFF_FACTOR = 3
MAX_RETRY_SECONDS = 12 * 3600
JITTER = 0.2  # each delay is drawn from [0.8, 1.2] x its nominal value
SQS_MAX_DELAY_SECONDS = 900


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<sig>`` per live secret (the new one first), space-separated."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use)


def nominal_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), before jitter."""
    return int(min(FIRST_RETRY_SECONDS * BACKOFF_FACTOR ** (attempt - 1), MAX_RETRY_SECONDS))


def retry_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter; None-like 0 is never returned (attempts are spread)."""
    draw = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return nominal_delay(attempt) * draw


def schedule() -> list[int]:
    """Nominal seconds after the first attempt at which each attempt runs (attempt 1 at 0)."""
    at = [0]
    for attempt in range(1, MAX_ATTEMPTS):
        at.append(at[-1] + nominal_delay(attempt))
    return at


# --- targets (SSRF) ------------------------------------------------------------------------------


def check_url_shape(url: str, *, local: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, before any DNS; ValidationFailed (field ``url``) otherwise.

    Outside the local stage only https is accepted; the local stage also takes http
    (a developer's receiver on 127.0.0.1).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("url is not a valid URL", field="url") from None
    allowed = ("https", "http") if local else ("https",)
    if parts.scheme not in allowed:
        raise ValidationFailed(f"url must use {' or '.join(allowed)}", field="url")
    if not parts.hostname:
        raise ValidationFailed("url has no host", field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("url must not carry credentials", field="url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, reserved, multicast)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_global
        and not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast)
        and not ip.is_unspecified
    )


def check_addresses(addresses: Sequence[str], *, local: bool) -> str:
    """The address to connect to, if every address the host resolves to is allowed."""
    if not addresses:
        raise ValidationFailed("url's host does not resolve", field="url")
    if not local:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise ValidationFailed(
                f"url resolves to a non-public address ({refused[0]}); webhooks go to public hosts only", field="url"
            )
    return addresses[0]
