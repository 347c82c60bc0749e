"""Errors the domain and services raise; the API layer maps each to one HTTP status.

Every error carries a stable machine ``code``, a human ``message`` and, when one
input is to blame, the ``field``. ``extra`` holds members added to the error body
(for instance ``possible_actions`` on a refused action).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code the API answers with: its usual status and what it means.

    A member is its code (a str), so ``code=ErrorCode.HOLD_EXPIRED`` serialises as
    ``"hold_expired"``. The status is the one the code is answered with; an error
    class decides the status it is raised with, and the two agree except where the
    sentence says otherwise.
    """

    status: int
    sentence: str

    def __new__(cls, value: str, status: int = 400, sentence: str = "") -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.sentence = sentence
        return member

    BAD_REQUEST = "bad_request", 400, "The request cannot be read."
    MALFORMED_JSON = "malformed_json", 400, "The body is not valid JSON."
    MALFORMED_XML = "malformed_xml", 400, "The body is not well-formed XML."
    XML_FORBIDDEN = "xml_forbidden", 400, "The XML uses entities or a DTD, which are refused."
    UNAUTHORIZED = "unauthorized", 401, "Credentials are missing or not valid for this route."
    LINK_INVALID = "link_invalid", 401, "The customer link's signature does not verify."
    LINK_EXPIRED = "link_expired", 401, "The customer link is past its lifetime."
    FORBIDDEN = "forbidden", 403, "The credentials are valid but may not do this."
    LINK_MISMATCH = "link_mismatch", 403, "The customer link is for another booking or action."
    NOT_FOUND = "not_found", 404, "No such object for this caller (another company's objects included)."
    CONFLICT = "conflict", 409, "The change collides with another one (keys rotated concurrently)."
    VERSION_CONFLICT = "version_conflict", 409, "The object changed between read and write; read it again and retry."
    BOOKING_ACTIVE = "booking_active", 409, "The booking is still live; end it before deleting its record."
    STATE_CONFLICT = "state_conflict", 409, "The booking changed meanwhile; its state now refuses the action."
    ACTION_NOT_ALLOWED = "action_not_allowed", 409, "The booking's graph does not allow this action in its state."
    DUPLICATE_REFERENCE = "duplicate_reference", 409, "The reference is taken in this company."
    DUPLICATE_SLUG = "duplicate_slug", 409, "The project slug is taken."
    DUPLICATE_SLOT = (
        "duplicate_slot",
        409,
        "Two slots or events would start at the same time (422 when within one request).",
    )
    NO_SPACE_LEFT = "no_space_left", 409, "Fewer seats are free than asked for."
    BUSY = "busy", 409, "The seats kept changing while the request tried; retry."
    TIME_TAKEN = "time_taken", 409, "The resource is already busy at that time."
    TIME_CONTENDED = "time_contended", 409, "The resource's calendar changed too fast to claim the time; retry."
    HOLD_EXPIRED = "hold_expired", 409, "The hold (reservation or basket item) has expired or ended."
    EXTENSION_LIMIT = "extension_limit", 409, "The hold has been extended as often as allowed."
    GROUP_CLOSED = "group_closed", 409, "The group booking takes no more seats."
    BASKET_CHANGED = "basket_changed", 409, "The basket changed meanwhile; read it and retry."
    BASKET_CHECKED_OUT = "basket_checked_out", 409, "The basket has been checked out."
    EVENT_DISABLED = "event_disabled", 409, "The event is not bookable."
    EVENT_STARTED = "event_started", 409, "The event has started."
    GROUP_STARTED = "group_started", 409, "The group booking has started; it takes no more seats."
    EVENT_GROUP_IN_USE = "event_group_in_use", 409, "The event group is still used by sessions."
    SERVICE_DISABLED = "service_disabled", 409, "The service is not bookable."
    RESOURCE_DISABLED = "resource_disabled", 409, "The resource is not bookable."
    SLOT_STARTED = "slot_started", 409, "The slot has started."
    SLOT_HAS_BOOKINGS = "slot_has_bookings", 409, "The slot has bookings and cannot change."
    BOOKING_CLOSED = "booking_closed", 409, "Too close to the start for a customer to book."
    BOOKING_NOT_OPEN = "booking_not_open", 409, "Too far ahead for a customer to book yet."
    CANCELLATION_CLOSED = "cancellation_closed", 409, "Too close to the start for a customer to cancel or move."
    LINK_USED = "link_used", 409, "The customer link has already been used."
    SPACES_LEFT = "spaces_left", 409, "Seats are still free: book them instead of joining the waitlist."
    ALREADY_WAITING = "already_waiting", 409, "This customer is already on the waitlist."
    WAITLIST_LEFT = "waitlist_left", 409, "The waitlist entry has already been booked, lapsed or left."
    NO_TIME = "no_time", 409, "The booking has no time to put in a calendar."
    DELIVERY_PENDING = "delivery_pending", 409, "A delivery is still being attempted."
    IDEMPOTENCY_IN_PROGRESS = (
        "idempotency_in_progress",
        409,
        "A request with this Idempotency-Key is still being processed.",
    )
    PRECONDITION_FAILED = "precondition_failed", 412, "If-Match names a version the object is no longer at."
    RATE_LIMITED = "rate_limited", 429, "A public caller went past its rate; retry after the seconds given."
    TOO_MANY_REQUESTS = (
        "too_many_requests",
        429,
        "Too many failed sign-ins for the account or the address; retry after the seconds given.",
    )
    PAYLOAD_TOO_LARGE = "payload_too_large", 413, "The body is over the size limit."
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "The body is not in a media type this route reads."
    VALIDATION_ERROR = "validation_error", 422, "A value is refused; field names it."
    UNKNOWN_FIELD = "unknown_field", 422, "The body has a member this route does not know."
    INVALID_QUANTITY = "invalid_quantity", 422, "The number asked for is out of range."
    INVALID_DURATION = "invalid_duration", 422, "The duration is not one this allows."
    INVALID_TIME = "invalid_time", 422, "The time cannot be read."
    IN_THE_PAST = "in_the_past", 422, "The start asked for is in the past."
    INVALID_TIMEZONE = "invalid_timezone", 422, "The time zone is not a known IANA name."
    INVALID_RANGE = "invalid_range", 422, "The range ends before it starts."
    INVALID_INTERVAL = "invalid_interval", 422, "The interval ends before it starts."
    INVALID_SCHEDULE = "invalid_schedule", 422, "The schedule cannot be read."
    INVALID_CONSTRAINT = "invalid_constraint", 422, "An availability constraint cannot be read."
    INVALID_PADDING = "invalid_padding", 422, "The padding before or after is out of range."
    TIME_NOT_ON_MINUTE = "time_not_on_minute", 422, "Times are whole minutes."
    TIME_NOT_ON_STEP = "time_not_on_step", 422, "The time is not on the slot step."
    RANGE_TOO_WIDE = "range_too_wide", 422, "The date range asked for is too wide."
    WINDOW_TOO_LONG = "window_too_long", 422, "The time window asked for is too long."
    INTERVAL_TOO_LONG = "interval_too_long", 422, "The interval is too long."
    SCHEDULE_TOO_LONG = "schedule_too_long", 422, "The schedule produces too many occurrences."
    COURSE_TOO_LONG = "course_too_long", 422, "The course has too many events."
    LENGTH_TOO_LONG = "length_too_long", 422, "The length is over the limit."
    BUFFER_TOO_LONG = "buffer_too_long", 422, "The buffer is over the limit."
    TOO_MANY_SLOTS = "too_many_slots", 422, "The request has too many slots."
    TOO_MANY_EVENTS = "too_many_events", 422, "The request has too many events."
    TOO_MANY_CONSTRAINTS = "too_many_constraints", 422, "The request has too many constraints."
    EMPTY_BASKET = "empty_basket", 422, "The basket has no items."
    BASKET_FULL = "basket_full", 422, "The basket holds as many items as allowed."
    MAX_NUM_BOOKINGS_EXCEEDED = "max_num_bookings_exceeded", 422, "The booker would hold more spaces than allowed."
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        422,
        "The Idempotency-Key was used with a different request body.",
    )
    INTERNAL_ERROR = "internal_error", 500, "An unexpected failure; details are logged, not shown."
    UNAVAILABLE = "unavailable", 503, "The table is not reachable."


class BookingError(Exception):
    status = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: ErrorCode | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.extra = extra or {}
        self.headers: dict[str, str] = {}  # response headers the error brings (Retry-After)


class BadRequest(BookingError):
    status = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST


class Unauthorized(BookingError):
    status = 401
    code = ErrorCode.UNAUTHORIZED


class Forbidden(BookingError):
    status = 403
    code = ErrorCode.FORBIDDEN


class NotFound(BookingError):
    status = 404
    code = ErrorCode.NOT_FOUND


class Conflict(BookingError):
    status = 409
    code = ErrorCode.CONFLICT


class PreconditionFailed(BookingError):
    status = 412
    code = ErrorCode.PRECONDITION_FAILED


class PayloadTooLarge(BookingError):
    status = 413
    code = ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(BookingError):
    status = 415
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class ValidationFailed(BookingError):
    status = 422
    code = ErrorCode.VALIDATION_ERROR


class Unavailable(BookingError):
    status = 503
    code = ErrorCode.UNAVAILABLE


class TooManyRequests(BookingError):
    """429: a public caller (a key from one address) went past its rate (``rate_limited``), or
    an account or address has too many failed sign-ins (``too_many_requests``);
    ``retry_after`` seconds, also sent as ``Retry-After``."""

    status = 429
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int, code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after
        self.headers["Retry-After"] = str(retry_after)
