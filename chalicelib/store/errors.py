"""How the store's reads and writes fail, in words the services use.

Services catch these names, never PynamoDB's, so that PynamoDB stays inside
``store/`` (the import contract in ``.importlinter`` holds it there).
"""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError

# An item read by its key is absent (``Model.get``).
ItemNotFound = DoesNotExist

# A single-item write (save, update, delete) failed; ``condition_failed`` tells a refused
# condition (nothing written, the caller's answer) from an outage (re-raise).
WriteFailed = (PutError, UpdateError, DeleteError)

# A transaction was cancelled; ``store.transact`` tells refusals from conflicts.
TransactionFailed = TransactWriteError


def condition_failed(error: Exception) -> bool:
    """A single-item write refused by its condition (not a transaction)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"
