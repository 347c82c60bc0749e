"""The AWS clients' limits (settings refused when one call could outlast API Gateway) and which
failures are "unavailable" (503) rather than a bug (500)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from pydantic import ValidationError
from pynamodb.exceptions import GetError, TransactWriteError

from chalicelib.settings_model import Settings
from chalicelib.store.aws import CALL_BUDGET_SECONDS, is_unavailable, worst_case_seconds


def _client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}, **extra}
    return ClientError(response, "TransactWriteItems")


def test_the_defaults_fit_under_api_gateway_and_larger_limits_are_refused() -> None:
    defaults = Settings()
    worst = worst_case_seconds(
        defaults.aws_connect_timeout_seconds, defaults.aws_read_timeout_seconds, defaults.aws_max_attempts
    )
    assert worst == 3 * (2 + 4) + 1 + 2 <= CALL_BUDGET_SECONDS < 29
    with pytest.raises(ValidationError, match="fits under API Gateway's 29 s"):
        Settings(aws_read_timeout_seconds=10)
    with pytest.raises(ValidationError, match="fits under API Gateway's 29 s"):
        Settings(aws_max_attempts=6)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ThrottlingException"),
        _client_error("InternalServerError", 500),
        _client_error(
            "TransactionCanceledException",
            CancellationReasons=[{"Code": "None"}, {"Code": "ThrottlingError"}],
        ),
    ],
    ids=["refused", "read-timeout", "throughput", "throttling", "server-error", "cancelled-throttled"],
)
def test_unreachable_slow_throttled_or_failing_aws_is_unavailable_even_when_wrapped(error: Exception) -> None:
    assert is_unavailable(error)
    wrapped = GetError("Failed to get item", error)  # PynamoDB keeps botocore's error in .cause
    assert is_unavailable(wrapped)
    try:
        try:
            raise error
        except Exception as inner:
            raise RuntimeError("idempotency store failed") from inner
    except RuntimeError as outer:
        assert is_unavailable(outer)


@pytest.mark.parametrize(
    "error",
    [
        NoCredentialsError(),
        ParamValidationError(report="bad"),
        _client_error("ValidationException"),
        _client_error("ConditionalCheckFailedException"),
        TransactWriteError(
            "refused",
            _client_error(
                "TransactionCanceledException",
                CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}],
            ),
        ),
        ValueError("a bug"),
    ],
    ids=["no-credentials", "bad-parameters", "validation", "condition", "cancelled-by-condition", "bug"],
)
def test_a_refusal_or_a_bug_is_not_unavailable(error: Exception) -> None:
    assert not is_unavailable(error)
