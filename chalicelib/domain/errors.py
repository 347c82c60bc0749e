"""Errors the domain and services raise; the API layer maps each to one HTTP status.

Every error carries a stable machine ``code``, a human ``message`` and, when one
input is to blame, the ``field``. ``extra`` holds members added to the error body
(for instance ``possible_actions`` on a refused action).
"""

from __future__ import annotations

from typing import Any


class BookingError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.extra = extra or {}


class BadRequest(BookingError):
    status = 400
    code = "bad_request"


class Unauthorized(BookingError):
    status = 401
    code = "unauthorized"


class Forbidden(BookingError):
    status = 403
    code = "forbidden"


class NotFound(BookingError):
    status = 404
    code = "not_found"


class Conflict(BookingError):
    status = 409
    code = "conflict"


class PreconditionFailed(BookingError):
    status = 412
    code = "precondition_failed"


class PayloadTooLarge(BookingError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(BookingError):
    status = 415
    code = "unsupported_media_type"


class ValidationFailed(BookingError):
    status = 422
    code = "validation_error"


class Unavailable(BookingError):
    status = 503
    code = "unavailable"


class TooManyRequests(BookingError):
    """429: a public caller (a key from one address) went past its rate; ``retry_after`` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, extra={"retry_after": retry_after})
        self.retry_after = retry_after
