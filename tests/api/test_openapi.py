"""The OpenAPI document: valid 3.1, complete, committed, served, and lazy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from werkzeug.test import Client

from app import app
from chalicelib.api.http.openapi import build_openapi
from chalicelib.api.http.route import OPERATIONS
from devtools.openapi_dump import render
from tests.wsgi_adapter import ChaliceWSGI

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi(OPERATIONS)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method.upper()): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)
    validate(build_openapi(OPERATIONS, server_url="https://api.example.com/api"), cls=OpenAPIV31SpecValidator)


def test_no_space_left_keeps_the_reference_body_and_is_documented(document: dict[str, Any]) -> None:
    conflict = document["paths"]["/api/v1/{company_id}/basket/add_item"]["post"]["responses"]["409"]
    shapes = conflict["content"]["application/json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/NoSpaceLeftOut"} in shapes
    body = document["components"]["schemas"]["NoSpaceLeftOut"]
    assert body["properties"]["message"]["const"] == "NoSpaceLeftError"


def test_every_route_is_documented_and_every_operation_is_routed(document: dict[str, Any]) -> None:
    routed = {(path, method.upper()) for path, methods in app.routes.items() for method in methods}
    # OPTIONS: the CORS preflight the route decorator adds to every path (docs/api.md, "CORS").
    preflights = {(path, method) for path, method in routed if method == "OPTIONS"}
    assert {path for path, _ in preflights} == set(app.routes), "a path without its preflight"
    documented = set(_operations(document))
    assert sorted(routed - preflights - documented) == [], "routes missing from the document"
    assert sorted(documented - routed) == [], "documented operations that the app does not route"


def test_operation_ids_are_unique_and_every_operation_describes_its_errors(document: dict[str, Any]) -> None:
    ops = _operations(document)
    ids = [op["operationId"] for op in ops.values()]
    assert len(ids) == len(set(ids))
    for (path, method), op in ops.items():
        assert op["summary"] and op["tags"], (method, path)
        for status, response in op["responses"].items():
            if int(status) >= 400 and "application/xml" in response["content"]:
                assert list(response["content"]) == ["application/xml"], (method, path, status)  # legacy XML face
            elif int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                error_body = {"$ref": "#/components/schemas/ErrorBody"}
                # a status that may also answer another documented shape (BookingBug's NoSpaceLeftError)
                assert schema == error_body or error_body in schema.get("anyOf", []), (method, path, status)


def test_the_build_is_deterministic() -> None:
    first = json.dumps(build_openapi(OPERATIONS))
    assert json.dumps(build_openapi(list(reversed(OPERATIONS)))) == first


def test_the_committed_document_is_current() -> None:
    committed = ROOT / "docs" / "openapi.json"
    assert committed.exists(), "run `python -m devtools.openapi_dump docs/openapi.json`"
    assert committed.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `python -m devtools.openapi_dump docs/openapi.json` (make docs)"
    )


def test_the_api_serves_its_document_with_its_own_url() -> None:
    response = Client(ChaliceWSGI(app)).get("/openapi.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    served = response.get_json()
    assert served["servers"] == [{"url": "http://localhost"}]
    assert served["paths"] == json.loads(json.dumps(build_openapi(OPERATIONS)["paths"]))


def test_the_generator_is_not_imported_at_cold_start() -> None:
    code = "import sys, app; assert 'chalicelib.api.http.openapi' not in sys.modules, 'imported at cold start'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
