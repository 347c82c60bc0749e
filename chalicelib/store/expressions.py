"""The types of a write's condition and update actions, for services' signatures.

Services build conditions and actions from model attributes (``Hold.status == ...``,
``Hold.extensions.add(1)``); these names let them annotate those without importing PynamoDB.
"""

from __future__ import annotations

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action as UpdateAction

__all__ = ["Condition", "UpdateAction"]
