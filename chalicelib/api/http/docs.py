"""``GET /openapi.json``: the API's own OpenAPI 3.1 description.

The generator (:mod:`chalicelib.api.http.openapi`) is imported inside the view, on the
first request for the document, so it adds nothing to cold start.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http.route import OPERATIONS, Call, route
from chalicelib.services.identity.auth import Scheme

bp = Blueprint(__name__)
TAG = "docs"
PATH = "/openapi.json"

# Built once per (server URL, route count): the routes are all declared at import.
_documents: dict[tuple[str, int], dict[str, Any]] = {}


@route(
    bp,
    PATH,
    "GET",
    summary="This API's OpenAPI 3.1 document",
    scheme=Scheme.NONE,
    tag=TAG,
    response=None,
)
def openapi_document(call: Call) -> dict[str, Any]:
    server_url = call.base_url
    key = (server_url, len(OPERATIONS))
    document = _documents.get(key)
    if document is None:
        from chalicelib.api.http.openapi import build_openapi

        document = build_openapi(OPERATIONS, server_url=server_url)
        if len(_documents) > 16:  # Host is caller-controlled: keep the cache bounded.
            _documents.clear()
        _documents[key] = document
    return document
