"""How the store's reads and writes fail, in words the services use.

Services catch these names, never PynamoDB's, so that PynamoDB stays inside
``store/`` (the import contract in ``.importlinter`` holds it there).
"""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError

# An item read by its key is absent (``Model.get``).
ItemNotFound = DoesNotExist

# A single-item write (save, update, delete) failed: a refused condition or an outage.
WriteFailed = (PutError, UpdateError, DeleteError)

# A transaction was cancelled; ``store.transact`` tells refusals from conflicts.
TransactionFailed = TransactWriteError


def condition_failed(error: Exception) -> bool:
    """A single-item write refused by its condition (not a transaction)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def refused(write: Callable[[], object]) -> bool:
    """Run one conditional single-item write: True when its condition refused it (nothing
    was written; what that means is the caller's), False when it was written. Any other
    failure, an outage say, propagates.

    The one place that tells a refusal from an error; a transaction's refusals are
    ``store.transact``'s.
    """
    try:
        write()
    except WriteFailed as error:
        if condition_failed(error):
            return True
        raise
    return False
