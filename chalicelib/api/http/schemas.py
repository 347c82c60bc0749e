"""Request and response types every face shares: the error shape, HAL links,
pagination, the storable check and the common scalar types.

Models build their validators on first use (``defer_build``) so that importing
the app stays cheap: Lambda cold start is import time.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic import Strict as StrictMode
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}.*")


class NumberAsText:
    """An integer that may also come as its decimal text ("60"), as the seeds send some.

    Only the canonical spelling: no sign but "-", no leading zeros, no fraction, no bool."""

    @staticmethod
    def parse(value: Any) -> Any:
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.parse, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        number = handler(schema)
        return {"anyOf": [number, {"type": "string", "pattern": "^-?(0|[1-9][0-9]{0,17})$"}]}


def _iso_text(pattern: re.Pattern[str], what: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        # Without this, pydantic reads 0 or "0" as a Unix time: a booking moved to 1970.
        if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
            raise ValueError(f"must be {what}")
        return value

    return BeforeValidator(check)


AS_TEXT = NumberAsText()
Day = Annotated[date, StrictMode(False), _iso_text(_ISO_DATE, "an ISO 8601 date (YYYY-MM-DD)")]
Instant = Annotated[
    AwareDatetime, StrictMode(False), _iso_text(_ISO_INSTANT, "an ISO 8601 date and time with its offset")
]
"""Dates and times come only as ISO 8601 text (request models are otherwise strict)."""

# Names are one line of text: no control characters (NUL included); longer text keeps its
# line breaks and tabs but no NUL or other C0 controls, which no form or template shows.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Text = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$")]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Minutes = Annotated[int, Field(gt=0, le=7 * 24 * 60)]
Seconds = Annotated[int, Field(ge=0, le=10 * 366 * 86_400)]
MinorUnits = Annotated[int, Field(ge=0, le=100_000_000_00)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Id = Annotated[int, Field(gt=0, lt=10**18)]
"""Ids of companies and catalogue objects: positive, and bounded (DynamoDB numbers have 38 digits)."""


class Strict(BaseModel):
    """Requests: unknown fields are refused, so a typo never silently does nothing, and
    types are strict as the OpenAPI document says: no ``0`` for a date, ``false`` for a
    number or ``0`` for a boolean. Numbers as text only where a type says so
    (:class:`NumberAsText`), dates and times only as ISO text (:data:`Day`, :data:`Instant`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True, strict=True)


class Query(BaseModel):
    """Query strings: every value is text, so numbers are read from text; unknown
    parameters are ignored (clients add cache-busters and tracking parameters)."""

    model_config = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)


class Out(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)


class ErrorDetail(Out):
    code: str
    message: str
    field: str | None = None


class ErrorBody(Out):
    model_config = ConfigDict(defer_build=True, extra="allow")
    error: ErrorDetail


class Link(Out):
    href: str
    templated: bool | None = None


Links = dict[str, Link]


class Health(Out):
    status: Literal["ok"]


# --- pagination -----------------------------------------------------------------


class PageQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 30


def check_storable(value: Any, depth: int) -> None:
    """DynamoDB refuses empty map keys and numbers past 38 digits or 1e126; deep nesting buys nothing but cost."""
    if depth > 5:
        raise ValueError("nests deeper than 5 levels")
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) > 38:
        raise ValueError("numbers have at most 38 digits")
    if isinstance(value, float) and value != 0 and not 1e-130 <= abs(value) < 1e126:
        raise ValueError("numbers lie between 1e-130 and 1e126 in magnitude")
    if isinstance(value, dict):
        for key, item in value.items():
            if not key or len(key) > 255:
                raise ValueError("keys must be 1 to 255 characters")
            check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_storable(item, depth + 1)
