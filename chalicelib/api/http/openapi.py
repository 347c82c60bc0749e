"""The OpenAPI 3.1 document, built from :data:`chalicelib.api.http.route.OPERATIONS`.

Only ``GET /openapi.json`` and the dev tooling import this module (lazily), so it
costs nothing at cold start. The output is deterministic: paths, methods,
parameters, responses and components all come out in a fixed order, so the
committed ``docs/openapi.json`` only changes when the API does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.api.http.errors import JSON_TYPE, XML_TYPES
from chalicelib.api.http.route import Operation, resolve
from chalicelib.api.http.schemas import ErrorBody
from chalicelib.services.identity.auth import Scheme

OPENAPI_VERSION = "3.1.0"
TITLE = "Booking engine"
API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
METHOD_ORDER = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
_PARAM = re.compile(r"{([^}/]+)}")

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "PlatformRootKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "Platform operator: `Authorization: Bearer <root key>`.",
    },
    "AppId": {
        "type": "apiKey",
        "in": "header",
        "name": "App-Id",
        "description": "BookingBug v1: the company's application id.",
    },
    "AppKey": {
        "type": "apiKey",
        "in": "header",
        "name": "App-Key",
        "description": "BookingBug v1: the company's public application key.",
    },
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "App-Key",
        "description": "BookingBug v1: the company's secret api key, sent as App-Key; grants admin access.",
    },
    "AuthToken": {
        "type": "apiKey",
        "in": "header",
        "name": "Auth-Token",
        "description": "BookingBug v1: an administrator's session token from `POST /api/v1/login`.",
    },
    "BasketToken": {
        "type": "apiKey",
        "in": "header",
        "name": "Auth-Token",
        "description": "BookingBug v1: a basket's token, from the `Auth-Token` header of the first `basket/add_item`.",
    },
    "TimekitBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "Timekit v2: HTTP Basic with an empty user and the secret api key as password.",
    },
    "TimekitWidgetKey": {
        "type": "http",
        "scheme": "basic",
        "description": "Timekit v2 booking pages: HTTP Basic with an empty user and the company's public key "
        "(`pk_...`, publishable) as password; only on the routes a booking page needs.",
    },
    "LegacyBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "Legacy XML: HTTP Basic with an administrator's email and password.",
    },
}

SECURITY: dict[Scheme, list[dict[str, list[str]]]] = {
    Scheme.NONE: [],
    Scheme.PLATFORM: [{"PlatformRootKey": []}],
    Scheme.V1_PUBLIC: [{"AppId": [], "AppKey": []}, {"AppId": [], "ApiKey": []}],
    Scheme.V1_ADMIN: [{"AppId": [], "AppKey": [], "AuthToken": []}, {"AppId": [], "ApiKey": []}],
    Scheme.V1_BASKET: [{"AppId": [], "AppKey": [], "BasketToken": []}, {"AppId": [], "ApiKey": [], "BasketToken": []}],
    Scheme.V2: [{"TimekitBasic": []}],
    Scheme.V2_PUBLIC: [{"TimekitBasic": []}, {"TimekitWidgetKey": []}],
    Scheme.LEGACY: [{"LegacyBasic": []}],
}

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Run the request at most once: a retry with the same key and body replays the first "
    "response (with `Idempotent-Replayed: true`); the same key with another body is refused.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
REPLAYED: dict[str, Any] = {
    "description": "`true` when this response is the stored reply to an earlier request with the same key.",
    "schema": {"type": "string", "enum": ["true"]},
}
RETRY_AFTER: dict[str, Any] = {
    "description": "Seconds to wait before retrying: the database or another AWS service is unreachable, "
    "too slow or throttling.",
    "schema": {"type": "integer", "minimum": 1},
}
GENERIC_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
TEXT: dict[str, Any] = {"type": "string"}


def operation_id(method: str, path: str) -> str:
    """``GET /api/v1/{company_id}/services`` -> ``get_api_v1_company_id_services``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"
    return f"{method.lower()}_{slug}"


def _is_xml(media_type: str) -> bool:
    return media_type in XML_TYPES or media_type.endswith("+xml")


def _sort_key(op: Operation) -> tuple[str, int, str]:
    method = op.method.upper()
    rank = METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)
    return op.path, rank, method


def _model_set(operations: Sequence[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(ErrorBody, "serialization")}
    for op in operations:
        if op.request is not None and not _is_xml(op.consumes):
            wanted.add((op.request, "validation"))
        if op.query is not None:
            wanted.add((op.query, "validation"))
        if op.response is not None and not _is_xml(op.produces):
            wanted.add((op.response, "serialization"))
        for _status, ref in getattr(op, "error_bodies", ()):
            model = resolve(ref)
            assert model is not None
            wanted.add((model, "serialization"))
    return sorted(wanted, key=lambda pair: (pair[0].__module__, pair[0].__qualname__, pair[1]))


def _deref(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    prefix = REF_TEMPLATE.format(model="")
    if isinstance(ref, str) and ref.startswith(prefix):
        target: dict[str, Any] = defs[ref[len(prefix) :]]
        return target
    return schema


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    params = []
    for name in _PARAM.findall(op.path):
        kind = op.path_types.get(name, "integer")
        schema: dict[str, Any] = {"type": "integer", "minimum": 1} if kind == "integer" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _query_parameters(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(model_schema.get("required", []))
    params = []
    for name, schema in sorted(model_schema.get("properties", {}).items()):
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if isinstance(schema, dict) and "description" in schema:
            param["description"] = schema["description"]
        params.append(param)
    return params


def _content(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def _describe(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def build_openapi(operations: Sequence[Operation], server_url: str | None = None) -> dict[str, Any]:
    """An OpenAPI 3.1 document describing ``operations``."""
    ordered = sorted(operations, key=_sort_key)
    refs, top = models_json_schema(_model_set(ordered), ref_template=REF_TEMPLATE, by_alias=True)
    defs: dict[str, Any] = top.get("$defs", {})
    error_ref = refs[(ErrorBody, "serialization")]

    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for op in ordered:
        method = op.method.lower()
        op_id = operation_id(op.method, op.path)
        base, counter = op_id, 2
        while op_id in used_ids:
            op_id, counter = f"{base}_{counter}", counter + 1
        used_ids.add(op_id)

        doc: dict[str, Any] = {
            "operationId": op_id,
            "summary": op.summary,
            "tags": [op.tag],
            "security": SECURITY[op.scheme],
        }
        parameters = _path_parameters(op)
        if op.query is not None:
            parameters += _query_parameters(_deref(refs[(op.query, "validation")], defs))
        if getattr(op, "idempotent", False):
            parameters.append(IDEMPOTENCY_KEY)
        if parameters:
            doc["parameters"] = parameters

        if _is_xml(op.consumes):
            doc["requestBody"] = {"required": True, "content": _content(op.consumes, TEXT)}
        elif op.request is not None:
            model_schema = _deref(refs[(op.request, "validation")], defs)
            doc["requestBody"] = {
                "required": bool(model_schema.get("required")),
                "content": _content(JSON_TYPE, refs[(op.request, "validation")]),
            }

        success: dict[str, Any] = {"description": _describe(op.status)}
        if op.response is not None:
            schema = TEXT if _is_xml(op.produces) else refs[(op.response, "serialization")]
            success["content"] = _content(op.produces, schema)
        elif op.status != HTTPStatus.NO_CONTENT and (op.method.upper() == "GET" or _is_xml(op.produces)):
            # A GET without a model (the OpenAPI document itself) answers a body
            # whose shape is not modelled: describe it as any object (or text).
            success["content"] = _content(op.produces, TEXT if _is_xml(op.produces) else GENERIC_OBJECT)
        for media_type in op.also_produces:
            success.setdefault("content", {}).update(_content(media_type, TEXT))
        if getattr(op, "idempotent", False):
            success["headers"] = {"Idempotent-Replayed": REPLAYED}
        responses: dict[str, Any] = {str(op.status): success}
        for status in op.also_status:
            responses[str(status)] = {**success, "description": _describe(status)}
        other_bodies = {status: resolve(ref) for status, ref in getattr(op, "error_bodies", ())}
        for status in sorted(set(op.errors) - {op.status}):
            schema = error_ref
            other = other_bodies.get(status)
            if other is not None:
                schema = {"anyOf": [error_ref, refs[(other, "serialization")]]}
            content = _content(op.produces, TEXT) if _is_xml(op.produces) else _content(JSON_TYPE, schema)
            responses[str(status)] = {"description": _describe(status), "content": content}
            if status == HTTPStatus.SERVICE_UNAVAILABLE:
                responses[str(status)]["headers"] = {"Retry-After": RETRY_AFTER}
        doc["responses"] = responses

        paths.setdefault(op.path, {})[method] = doc

    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": "Serverless booking engine: platform, BookingBug v1, Timekit v2 and legacy XML faces.",
        },
        "tags": [{"name": name} for name in sorted({op.tag for op in ordered})],
        "paths": paths,
        "components": {
            "schemas": {name: defs[name] for name in sorted(defs)},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    if server_url is not None:
        document["servers"] = [{"url": server_url}]
    return document
