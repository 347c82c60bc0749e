"""The error shape every face answers with, {"error": {"code", "message", "field"}},
in the route's own media type, and the rewrite of errors Chalice produces itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.domain.errors import BookingError, ValidationFailed
from chalicelib.observability import count_refusal

if TYPE_CHECKING:
    from pydantic import ValidationError

JSON_TYPE = "application/json"
XML_TYPES = ("application/xml", "text/xml")
CALENDAR_TYPE = "text/calendar; charset=utf-8"


def calendar_reply(body: bytes) -> Response:
    """An iCalendar file (a booking's, a purchase's, a feed) as the answer."""
    return Response(body=body.decode(), status_code=200, headers={"Content-Type": CALENDAR_TYPE})


def error_body(error: BookingError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field is not None:
        payload["field"] = error.field
    payload.update(error.extra)
    return {"error": payload}


def error_response(error: BookingError, headers: dict[str, str] | None = None) -> Response:
    count_refusal(error.code)
    return Response(
        body=error_body(error),
        status_code=error.status,
        headers={"Content-Type": JSON_TYPE, **error.headers, **(headers or {})},
    )


def validation_error(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    problems = exc.errors(include_url=False, include_input=False)
    first = problems[0]
    field_path = ".".join(str(part) for part in first["loc"])
    if prefix:
        field_path = f"{prefix}.{field_path}" if field_path else prefix
    details = [{"field": ".".join(str(p) for p in problem["loc"]), "message": problem["msg"]} for problem in problems]
    return ValidationFailed(
        f"{field_path or 'body'}: {first['msg']}", field=field_path or None, extra={"details": details}
    )


def error_in(produces: str, error: BookingError) -> Response:
    """Errors come in the route's own media type: XML routes answer XML errors."""
    if produces in XML_TYPES:
        from chalicelib.api.legacy import xmlio

        count_refusal(error.code)
        return xmlio.error_response(error)
    return error_response(error)
