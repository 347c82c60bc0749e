"""Catalogue rules that hold whatever stores them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain.errors import ValidationFailed

CHOICE_TYPES = frozenset({"select", "select-price", "radio", "radio-price"})
PRICED_TYPES = frozenset({"select-price", "radio-price", "check-price"})


def service_durations_and_prices(
    fields: Mapping[str, Any], current_durations: Sequence[int], current_prices: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Resolve ``duration``/``durations`` and ``price``/``prices`` into parallel lists.

    BookingBug's write API takes one ``duration``; its read API shows lists where
    ``prices[i]`` is the price of ``durations[i]``.
    """
    if fields.get("duration") is not None and fields.get("durations") is not None:
        raise ValidationFailed("give duration or durations, not both", field="durations")
    if fields.get("price") is not None and fields.get("prices") is not None:
        raise ValidationFailed("give price or prices, not both", field="prices")
    durations = list(current_durations)
    if fields.get("durations") is not None:
        durations = list(fields["durations"])
    elif fields.get("duration") is not None:
        durations = [fields["duration"]]
    prices = list(current_prices)
    if fields.get("prices") is not None:
        prices = list(fields["prices"])
    elif fields.get("price") is not None:
        prices = [fields["price"]] * len(durations)
    if not durations:
        durations = [60]
    if not prices:
        prices = [0] * len(durations)
    if len(prices) == 1 and len(durations) > 1:
        prices = prices * len(durations)
    if len(prices) != len(durations):
        raise ValidationFailed(f"prices has {len(prices)} entries but durations has {len(durations)}", field="prices")
    return durations, prices


def check_service_bounds(values: Mapping[str, Any]) -> None:
    if values["min_bookings"] > values["max_bookings"]:
        raise ValidationFailed("min_bookings cannot exceed max_bookings", field="min_bookings")
    if values["min_advance_period"] > values["max_advance_period"]:
        raise ValidationFailed("min_advance_period cannot exceed max_advance_period", field="min_advance_period")


def check_question(index: int, question: Mapping[str, Any]) -> None:
    """A choice question needs options; only priced types carry option prices."""
    kind = question["detail_type"]
    options = question.get("options") or []
    where = f"questions.{index}.options"
    if kind in CHOICE_TYPES and not options:
        raise ValidationFailed(f"a {kind} question needs at least one option", field=where)
    if kind not in CHOICE_TYPES | {"check", "check-price"} and options:
        raise ValidationFailed(f"a {kind} question takes no options", field=where)
    if kind not in PRICED_TYPES and any(option.get("price") for option in options):
        raise ValidationFailed(f"only priced question types may price options ({kind})", field=where)
    if sum(1 for option in options if option.get("is_default")) > 1 and kind != "check":
        raise ValidationFailed("at most one option may be the default", field=where)
