"""Cross-origin rules: which web pages may call the API from a browser, and with what.

Pure: the route decorator feeds in the request's ``Origin``, the preflight's requested
method and headers, and the company's allowed origins; it gets headers back.

- A preflight (``OPTIONS``) carries no credentials, so it cannot tell the company on
  ``/v2``; it is answered for any origin that the path's company (when the path names one)
  allows. It only lets the browser send the real request: the real response then carries
  ``Access-Control-Allow-Origin`` only when the caller's company allows that origin, so a
  page on another site never reads it.
- A company's ``allowed_origins`` is a list of origins (``https://shop.example``) or
  ``["*"]``; unset means any origin. The keys are not cookies: a browser sends them only
  when the page's own script does, so allowing any origin does not let one site act as a
  visitor of another; a company restricts the list to keep its public key on its own sites.
- Public, read-only routes (the OpenAPI document, the hosted project, static assets) are
  ``*`` for everyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from chalicelib.domain.errors import ValidationFailed

ANY = "*"
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "App-Id", "App-Key", "Auth-Token")
ALLOWED_PREFIX = "timekit-"  # Timekit-App, Timekit-Context, Timekit-Timezone, ...
EXPOSED_HEADERS = ("Auth-Token", "Location", "Retry-After", "Idempotency-Key", "Timekit-TestMode")
MAX_AGE_SECONDS = 600
MAX_ORIGINS = 20


def normalise_origin(value: str, *, field: str = "allowed_origins") -> str:
    """``scheme://host[:port]`` in lower case, or ``*``; anything else is refused."""
    text = value.strip()
    if text == ANY:
        return ANY
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"{value!r} is not an origin such as https://shop.example", field=field)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationFailed(f"{value!r} is an address, not an origin: scheme, host and port only", field=field)
    try:
        port = parts.port
    except ValueError:
        raise ValidationFailed(f"{value!r} has an invalid port", field=field) from None
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port not in (None, default) else "")


def normalise_origins(values: Iterable[str]) -> list[str]:
    origins: list[str] = []
    for index, value in enumerate(values):
        origin = normalise_origin(value, field=f"allowed_origins.{index}")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise ValidationFailed(f"at most {MAX_ORIGINS} origins", field="allowed_origins")
    return origins


def allows(origin: str, allowed: Sequence[str] | None) -> bool:
    """Whether a page at ``origin`` may read responses; ``None`` (not configured) allows any."""
    if allowed is None or ANY in allowed:
        return True
    try:
        return normalise_origin(origin) in allowed
    except ValidationFailed:
        return False  # "null" (a file or sandboxed page) and other non-origins


def response_headers(origin: str | None, allowed: Sequence[str] | None) -> dict[str, str]:
    """Headers for a real (non-preflight) response."""
    if allowed is not None and list(allowed) == [ANY]:
        return {"Access-Control-Allow-Origin": ANY, "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS)}
    vary = {"Vary": "Origin"}  # the answer depends on Origin: caches must keep them apart
    if origin is None or not allows(origin, allowed):
        return vary
    return {**vary, "Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS)}


def preflight_headers(
    origin: str | None, requested_headers: str | None, methods: Iterable[str], allowed: Sequence[str] | None
) -> dict[str, str]:
    """Headers for an ``OPTIONS`` preflight of a path answering ``methods``."""
    headers = response_headers(origin, allowed)
    if "Access-Control-Allow-Origin" not in headers:
        return headers
    asked = [name.strip() for name in (requested_headers or "").split(",") if name.strip()]
    extra = [name for name in asked if name.lower().startswith(ALLOWED_PREFIX)]
    headers.pop("Access-Control-Expose-Headers")
    headers.update(
        {
            "Access-Control-Allow-Methods": ", ".join(sorted({*methods, "OPTIONS"})),
            "Access-Control-Allow-Headers": ", ".join([*ALLOWED_HEADERS, *extra]),
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        }
    )
    return headers
