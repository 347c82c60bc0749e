"""The error shape every face answers with, {"error": {"code", "message", "field"}},
in the route's own media type, and the rewrite of errors Chalice produces itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.domain.errors import BookingError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from pydantic import ValidationError

JSON_TYPE = "application/json"
XML_TYPES = ("application/xml", "text/xml")


def error_body(error: BookingError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field is not None:
        payload["field"] = error.field
    payload.update(error.extra)
    return {"error": payload}


def error_response(error: BookingError, headers: dict[str, str] | None = None) -> Response:
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

        return xmlio.error_response(error)
    return error_response(error)


def normalise_chalice_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Middleware: rewrite errors Chalice produced itself (405, 500) into our shape."""
    response = get_response(event)
    body = response.body
    if response.status_code == 405 and _names_nothing(event):
        return error_response(NotFound("no such resource"))
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = str(body.get("Code", "error"))
        message = str(body.get("Message", ""))
        if response.status_code >= 500:
            message = "an internal error occurred"
        response.body = {"error": {"code": _snake(code), "message": message}}
        response.headers["Content-Type"] = JSON_TYPE
    return response


def _names_nothing(request: Any) -> bool:
    from chalicelib.api.http.route import path_names_nothing

    context = getattr(request, "context", None) or {}
    resource = context.get("resourcePath")
    return bool(resource) and path_names_nothing(str(resource), getattr(request, "uri_params", None) or {})


def _snake(name: str) -> str:
    out = [f"_{ch.lower()}" if ch.isupper() else ch for ch in name.removesuffix("Error")]
    return "".join(out).lstrip("_")
