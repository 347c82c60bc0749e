"""``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header) on top of Powertools.

Rules: the same key and body replay the stored response without running again;
the same key with another body is 422; while the first is still running, 409.
Keys are scoped to the company (the record's key hashes company and key
together, so one tenant's key can never return another's response). Records
live 24 hours (``EXPIRY_SECONDS``). A request that fails validation before it runs
is not stored; a request that ran stores its response, refusals (409) included,
so a retry sees what the first attempt saw. Unexpected errors store nothing.

Records sit in the single table as ``IDEMP#<sha256>`` / ``IDEMP``: Powertools'
own composite-key mode would put every record in one partition.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from chalicelib.domain.errors import Conflict, ErrorCode, ValidationFailed
from chalicelib.settings import get_settings
from chalicelib.store import db, schema

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

EXPIRY_SECONDS = 24 * 3600
RECORD_SK = "IDEMP"
Reply = dict[str, Any]  # {"status": int, "body": Any, "headers": {...}}


IN_PROGRESS_SECONDS = 30  # API Gateway gives a request 29 s; a record older than that is from a dead run


class _Deadline:
    """Stands in for a Lambda context where there is none (chalice local, tests)."""

    def __init__(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._until - time.monotonic()) * 1000), 0)


@lru_cache(maxsize=4)
def _layer(table_name: str) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer

    class SingleTable(DynamoDBPersistenceLayer):
        def _get_key(self, idempotency_key: str) -> dict[str, Any]:
            return {schema.PK: {"S": idempotency_key}, schema.SK: {"S": RECORD_SK}}

    return SingleTable(
        table_name=table_name,
        key_attr=schema.PK,
        expiry_attr=schema.TTL_ATTRIBUTE,
        boto3_client=db.low_level_client(),
    )


def _config(lambda_context: Any) -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    config = IdempotencyConfig(
        event_key_jmespath="[company, key]",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=EXPIRY_SECONDS,
        hash_function="sha256",
        use_local_cache=False,
    )
    # The in-progress record expires with the invocation, so a run that died never blocks its key for long.
    has_deadline = hasattr(lambda_context, "get_remaining_time_in_millis")
    context = lambda_context if has_deadline else _Deadline(IN_PROGRESS_SECONDS)
    config.register_lambda_context(cast("LambdaContext", context))  # it only asks for the time left
    return config


def run_once(
    company_id: int, key: str, fingerprint: Any, execute: Callable[[], Reply], lambda_context: Any = None
) -> Reply:
    """Run ``execute`` once per (company, key); replay its reply for the same fingerprint."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if not key or len(key) > 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
    layer, config = _layer(get_settings().table_name), _config(lambda_context)

    def run(request: dict[str, Any]) -> Reply:
        return execute()

    # Powertools' decorator is untyped: name what it returns (the same call, made once per key).
    guard = idempotent_function(
        data_keyword_argument="request", config=config, persistence_store=layer, key_prefix="IDEMP"
    )
    once = cast("Callable[..., Reply]", guard(run))

    try:
        result: Reply = once(request={"company": company_id, "key": key, "fingerprint": fingerprint})
    except IdempotencyValidationError:
        raise ValidationFailed(
            "this Idempotency-Key was used with a different request body",
            field="Idempotency-Key",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "a request with this Idempotency-Key is still being processed; retry later",
            field="Idempotency-Key",
            code=ErrorCode.IDEMPOTENCY_IN_PROGRESS,
        ) from None
    return result
