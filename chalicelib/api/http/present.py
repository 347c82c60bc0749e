"""Presenters: a response model read from a stored item's attributes.

Kept apart from the schemas, and free of pydantic at import time, so that a route
module can import it without building models at cold start (schemas load lazily).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

OutModel = TypeVar("OutModel", bound="BaseModel")


class _Attributes:
    """An item's attributes, some of them given instead: what a presenter validates."""

    __slots__ = ("_given", "_item")

    def __init__(self, item: object, given: Mapping[str, Any]) -> None:
        self._item = item
        self._given = given

    def __getattr__(self, name: str) -> Any:
        # Only called for names the proxy itself lacks: every field pydantic reads.
        return self._given[name] if name in self._given else getattr(self._item, name)


def present(model: type[OutModel], item: object, **given: Any) -> OutModel:
    """``model`` read from ``item``'s attributes (``from_attributes``), field by name.

    ``given`` holds only what the item does not store as the API shows it: renamed or
    derived fields, links, constants. A field neither stored nor given is an error, not
    a silent default.
    """
    return model.model_validate(_Attributes(item, given), from_attributes=True)
