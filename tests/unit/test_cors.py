"""The cross-origin rules (chalicelib/domain/cors.py)."""

from __future__ import annotations

import pytest

from chalicelib.domain import cors
from chalicelib.domain.errors import ValidationFailed

SHOP = "https://shop.example"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://Shop.Example", SHOP),
        ("https://shop.example/", SHOP),
        ("https://shop.example:443", SHOP),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        (" * ", "*"),
    ],
)
def test_origins_are_kept_in_one_form(given: str, kept: str) -> None:
    assert cors.normalise_origin(given) == kept


@pytest.mark.parametrize(
    "given", ["shop.example", "ftp://shop.example", "https://shop.example/book", "https://a@shop.example", "null", ""]
)
def test_what_is_not_an_origin_is_refused(given: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        cors.normalise_origins(["https://ok.example", given])
    assert refused.value.field == "allowed_origins.1"


def test_a_list_is_deduplicated_and_capped() -> None:
    assert cors.normalise_origins([SHOP, "https://SHOP.example/"]) == [SHOP]
    with pytest.raises(ValidationFailed):
        cors.normalise_origins([f"https://s{n}.example" for n in range(cors.MAX_ORIGINS + 1)])


def test_a_company_without_a_list_allows_any_origin_by_name() -> None:
    headers = cors.response_headers("https://any.example", None)
    assert headers["Access-Control-Allow-Origin"] == "https://any.example"
    assert headers["Vary"] == "Origin"
    assert "Auth-Token" in headers["Access-Control-Expose-Headers"]


def test_a_listed_origin_is_answered_and_another_is_not() -> None:
    assert cors.response_headers(SHOP, [SHOP])["Access-Control-Allow-Origin"] == SHOP
    assert cors.response_headers("https://evil.example", [SHOP]) == {"Vary": "Origin"}
    assert cors.response_headers("null", [SHOP]) == {"Vary": "Origin"}
    assert cors.response_headers(None, [SHOP]) == {"Vary": "Origin"}


def test_public_routes_answer_star() -> None:
    assert cors.response_headers("https://any.example", ["*"])["Access-Control-Allow-Origin"] == "*"


def test_a_preflight_names_the_methods_and_headers() -> None:
    asked = "authorization, content-type, timekit-context, x-other"
    headers = cors.preflight_headers(SHOP, asked, ["GET", "POST"], None)
    assert headers["Access-Control-Allow-Origin"] == SHOP
    assert headers["Access-Control-Allow-Methods"] == "GET, OPTIONS, POST"
    allowed = headers["Access-Control-Allow-Headers"].split(", ")
    assert {"Authorization", "Content-Type", "Idempotency-Key", "timekit-context"} <= set(allowed)
    assert "x-other" not in allowed
    assert headers["Access-Control-Max-Age"] == str(cors.MAX_AGE_SECONDS)
    assert cors.preflight_headers("https://evil.example", None, ["GET"], [SHOP]) == {"Vary": "Origin"}
