"""Every AWS client's timeouts and retries, and which failures mean "unavailable, retry later".

botocore's defaults (60 s connect, 60 s read; PynamoDB's 15 s and 30 s, 4 attempts) let a
frozen database hold a request for minutes, long after API Gateway gave up at 29 s (and
a write sent then may still commit later). Every client here (PynamoDB's, and boto3's
for SNS, SQS, SES) gets the settings' connect and read timeouts and at most
``aws_max_attempts`` attempts (botocore's standard retry mode, which also retries
throttling), so one call ends within :func:`worst_case_seconds`; the settings refuse
values over :data:`CALL_BUDGET_SECONDS`. A request's calls run one after another and the
first failure ends it, answered 503 by the route decorator (:func:`is_unavailable`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from botocore.config import Config

CALL_BUDGET_SECONDS = 25.0
"""Under API Gateway's 29 s (and the API function's 29 s Lambda timeout), with room for the work itself."""

THROTTLED_BACKOFF_BASE = 1.0  # botocore standard mode: rand(0, 1) * min(1 s * 2**i, 20 s) after a throttle
THROTTLED_BACKOFF_CAP = 20.0

# Error codes that say "not now" rather than "no": throttling, capacity, the service's own trouble.
UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
# A cancelled transaction's per-item reasons with the same meaning.
UNAVAILABLE_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})


def worst_case_seconds(connect_timeout: float, read_timeout: float, max_attempts: int) -> float:
    """The longest one call can take: every attempt timing out, with the longest backoff between them."""
    backoff = sum(
        min(THROTTLED_BACKOFF_BASE * 2.0 ** (attempt - 1), THROTTLED_BACKOFF_CAP) for attempt in range(1, max_attempts)
    )
    return float(max_attempts * (connect_timeout + read_timeout) + backoff)


def client_config() -> Config:
    from botocore.config import Config

    settings = get_settings()
    return Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"total_max_attempts": settings.aws_max_attempts, "mode": "standard"},
    )


def client(service: str) -> Any:
    """A boto3 client with the settings' region, timeouts and retries."""
    import boto3

    return boto3.client(service, region_name=get_settings().region, config=client_config())  # type: ignore[call-overload]  # service is a runtime name


def is_unavailable(error: BaseException) -> bool:
    """The error, or one it was raised from, says AWS is unreachable, slow, throttling or failing."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (ConnectionError, HTTPClientError)):  # refused, timed out, reset
            return True
        if isinstance(current, ClientError):
            response: Any = current.response
            code = str(response.get("Error", {}).get("Code", ""))
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if code in UNAVAILABLE_CODES or status >= 500 or _transient_cancellation(response):
                return True
        # PynamoDB wraps botocore's error in .cause; anything else chains it in __cause__ or __context__.
        pending.extend([getattr(current, "cause", None), current.__cause__, current.__context__])
    return False


def _transient_cancellation(response: Any) -> bool:
    """A cancelled transaction whose items were throttled or in conflict, none refused by its condition."""
    codes = {str(reason.get("Code")) for reason in response.get("CancellationReasons") or [] if reason}
    return bool(codes & UNAVAILABLE_REASONS) and "ConditionalCheckFailed" not in codes
