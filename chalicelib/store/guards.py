"""Uniqueness guards under a company's partition (a reference, an email -> the id it names)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store import db, keys
from chalicelib.store.models import Guard


def target(company_id: int, guard_sk: str, *, pk: str | None = None) -> int | None:
    """The id the guard names, or None when nothing holds that reference or email. Guards live
    under the company's partition unless ``pk`` names their own (a client's email guard)."""
    db.ensure_bound()
    try:
        return Guard.get(pk or keys.company_pk(company_id), guard_sk).target_id
    except DoesNotExist:
        return None
