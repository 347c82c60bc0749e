"""CloudWatch metrics (EMF lines on stdout): what the engine counts and when it writes them."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.observability import Metric
from chalicelib.settings import reset_settings
from tests.api.test_resources_and_availability import DAY, _resource
from tests.api.test_resources_and_availability import _book as _book_time
from tests.api.test_v2_bookings import _group, _seat
from tests.conftest import Api, Tenant


@pytest.fixture(autouse=True)
def metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("METRICS_NAMESPACE", "BookingEngineTest")
    reset_settings()
    observability.get_metrics.cache_clear()
    observability.get_metrics().clear_metrics()
    yield
    observability.get_metrics().clear_metrics()
    observability.get_metrics.cache_clear()
    reset_settings()


def _emf_lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [line for line in lines if "CloudWatchMetrics" in line["_aws"]]


def _totals(lines: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in lines:
        for metric in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = line[metric["Name"]]
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(value if isinstance(value, list) else [value])
    return totals


def test_bookings_and_sold_out_refusals_are_counted_and_flushed_per_request(
    api: Api, tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = _group(api, tenant, seats=3)
    capsys.readouterr()  # what setting up wrote
    assert _seat(api, tenant, owner["id"], 2).status == 201
    booked = _emf_lines(capsys.readouterr().out)
    assert len(booked) == 1  # one request, one line
    [definition] = booked[0]["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "BookingEngineTest"
    assert definition["Metrics"] == [{"Name": "BookingsCreated", "Unit": "Count"}]
    assert booked[0]["BookingsCreated"] == [1.0] and booked[0]["service"] == "booking-engine"
    refused = _seat(api, tenant, owner["id"], 2)
    assert refused.status == 409 and refused.error["code"] == "no_space_left"
    assert _totals(_emf_lines(capsys.readouterr().out)) == {"SoldOutRefusals": 1.0}
    assert api.get("/health").status in (200, 503)
    assert _emf_lines(capsys.readouterr().out) == []  # nothing counted, nothing written


def test_time_taken_refusals_are_counted(api: Api, tenant: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _resource(api, tenant)
    assert _book_time(api, tenant, doc["id"], f"{DAY}T10:00:00Z", f"{DAY}T11:00:00Z").status == 201
    capsys.readouterr()
    twice = _book_time(api, tenant, doc["id"], f"{DAY}T10:30:00Z", f"{DAY}T11:30:00Z")
    assert twice.status == 409 and twice.error["code"] == "time_taken"
    assert _totals(_emf_lines(capsys.readouterr().out)) == {"TimeTakenRefusals": 1.0}


def test_an_observed_handler_flushes_its_metrics_even_when_it_fails(capsys: pytest.CaptureFixture[str]) -> None:
    @observability.observed
    def failing(event: object) -> None:
        observability.count(Metric.WEBHOOK_DELIVERY_FAILURES, 2)
        raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        failing({})
    assert _totals(_emf_lines(capsys.readouterr().out)) == {"WebhookDeliveryFailures": 2.0}
    assert failing.__name__ == "failing"  # Chalice names the Lambda function after it


def test_a_non_http_handler_logs_with_its_lambda_context(api: Api) -> None:
    client = api.client
    first = client.lambda_.invoke("sweep_due", client.events.generate_cw_event("Scheduled Event", "", {}, []))
    assert isinstance(first.payload, dict)
    second = client.lambda_.invoke("sweep_due", client.events.generate_cw_event("Scheduled Event", "", {}, []))
    assert isinstance(second.payload, dict)
    keys = observability.get_logger().get_current_keys()
    assert keys["function_name"] == "sweep_due" and keys["cold_start"] is False  # the second in this process
    assert keys["function_request_id"] and keys["function_memory_size"]


def test_the_context_reaches_the_handlers_log_lines(capsys: pytest.CaptureFixture[str]) -> None:
    from chalice.local import LambdaContext

    # The logger's handler holds the stdout it was created with; point it at this test's capture.
    handler_out = observability.get_logger().registered_handler
    assert isinstance(handler_out, logging.StreamHandler)
    before = handler_out.setStream(sys.stdout)

    @observability.observed
    def handler(event: object) -> str:
        observability.get_logger().info("swept")
        return "done"

    context = LambdaContext("sweep_due", memory_size=256)
    event = SimpleNamespace(context=context)  # what Chalice hands a handler: the event, its context attached
    try:
        assert handler(event) == "done"
    finally:
        handler_out.setStream(before)
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines() if '"swept"' in text]
    assert line["function_name"] == "sweep_due" and line["function_memory_size"] == 256
    assert line["function_request_id"] == context.aws_request_id and isinstance(line["cold_start"], bool)
