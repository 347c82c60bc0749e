"""Request and response types every face shares: the error shape, HAL links,
pagination, the storable check and the common scalar types.

Models build their validators on first use (``defer_build``) so that importing
the app stays cheap: Lambda cold start is import time.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Minutes = Annotated[int, Field(gt=0, le=7 * 24 * 60)]
Seconds = Annotated[int, Field(ge=0, le=10 * 366 * 86_400)]
MinorUnits = Annotated[int, Field(ge=0, le=100_000_000_00)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class Strict(BaseModel):
    """Requests: unknown fields are refused, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)


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


class PageQuery(Strict):
    model_config = ConfigDict(extra="ignore", defer_build=True)
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
