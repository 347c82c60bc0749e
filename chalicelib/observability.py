"""Structured JSON logs and CloudWatch metrics (Powertools), created on first use to keep cold start cheap.

Metrics are EMF lines on stdout: CloudWatch turns them into metrics, no API call is made.
They are buffered per invocation and written by ``flush_metrics`` (the HTTP middleware
and ``observed`` handlers in app.py call it once at the end).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache, wraps
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "booking-engine"


class Metric(StrEnum):
    """Every metric the engine emits (unit: count)."""

    BOOKINGS_CREATED = "BookingsCreated"
    SOLD_OUT_REFUSALS = "SoldOutRefusals"  # 409 no_space_left answered
    TIME_TAKEN_REFUSALS = "TimeTakenRefusals"  # 409 time_taken answered
    WEBHOOK_DELIVERY_FAILURES = "WebhookDeliveryFailures"  # an attempt that did not get a 2xx


# Lambda runs one request per process, but `make run` and the benchmarks serve several on
# threads: Powertools' metric set is a plain dict, so adding and flushing take turns.
_metrics_lock = threading.Lock()

# The refusals worth watching: answered codes counted as metrics.
_REFUSALS = {"no_space_left": Metric.SOLD_OUT_REFUSALS, "time_taken": Metric.TIME_TAKEN_REFUSALS}


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    # Never log request bodies or headers: they carry keys, passwords and tokens.
    return Logger(service=SERVICE)


@lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    from chalicelib.settings import get_settings

    return Metrics(namespace=get_settings().metrics_namespace, service=SERVICE)


def count(metric: Metric, value: int = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    with _metrics_lock:
        get_metrics().add_metric(name=metric.value, unit=MetricUnit.Count, value=value)


def count_refusal(code: str) -> None:
    """Count an error answered to a client when it is one of the refusals watched."""
    metric = _REFUSALS.get(code)
    if metric is not None:
        count(metric)


def flush_metrics() -> None:
    """Write this invocation's metrics as one EMF line; nothing when none were counted."""
    metrics = get_metrics()
    with _metrics_lock:
        if metrics.metric_set:  # Powertools warns on an empty flush; most requests count nothing
            metrics.flush_metrics()


def observed(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A non-HTTP handler: its logs carry the Lambda context, its metrics are flushed when it ends.

    Chalice hands these handlers one event object with the Lambda context as
    ``event.context``; Powertools' ``inject_lambda_context`` wants ``(event, context)``,
    so the handler is adapted to it (function name, memory, ARN, request id, cold start).
    """

    @wraps(handler)
    def run(event: Any) -> Any:
        context = getattr(event, "context", None)
        try:
            if context is None:  # called directly, outside Lambda (tests, the local dispatcher)
                return handler(event)

            def invoke(_event: Any, _context: Any) -> Any:  # typed, so the wrapped call is too (mypy strict)
                return handler(event)

            # clear_state: keys one invocation appended never leak into the next on a warm container
            with_context = get_logger().inject_lambda_context(invoke, clear_state=True)
            return with_context(event, context)
        finally:
            flush_metrics()

    return run
