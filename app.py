"""The Chalice app: routes come from the faces' blueprints; nothing here talks to AWS at import."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalice import Chalice, Rate, Response

from chalicelib.api.bookingbug import basket as bookingbug_basket
from chalicelib.api.bookingbug import catalogue as bookingbug_catalogue
from chalicelib.api.bookingbug import events as bookingbug_events
from chalicelib.api.bookingbug import staff as bookingbug_staff
from chalicelib.api.bookingbug import waitlists as bookingbug_waitlists
from chalicelib.api.http import docs, pages
from chalicelib.api.http.health import health_status
from chalicelib.api.http.route import normalise_chalice_errors, route
from chalicelib.api.legacy import routes as legacy
from chalicelib.api.platform import routes as platform
from chalicelib.api.timekit import bookings as timekit_bookings
from chalicelib.api.timekit import projects as timekit_projects
from chalicelib.api.timekit import resources as timekit_resources
from chalicelib.api.timekit import waitlists as timekit_waitlists
from chalicelib.api.timekit import webhooks as timekit_webhooks
from chalicelib.observability import flush_metrics, get_logger, observed
from chalicelib.services.identity.auth import Scheme
from chalicelib.services.messaging import fanout_wiring as wiring

app = Chalice(app_name="booking-engine")
app.register_blueprint(platform.bp)
app.register_blueprint(bookingbug_catalogue.bp)
app.register_blueprint(bookingbug_events.bp)
app.register_blueprint(legacy.bp)
app.register_blueprint(bookingbug_basket.bp)
app.register_blueprint(bookingbug_staff.bp)
app.register_blueprint(bookingbug_waitlists.bp)
app.register_blueprint(timekit_bookings.bp)
app.register_blueprint(timekit_resources.bp)
app.register_blueprint(timekit_webhooks.bp)
app.register_blueprint(timekit_projects.bp)
app.register_blueprint(timekit_waitlists.bp)
app.register_blueprint(docs.bp)
app.register_blueprint(pages.bp)


@app.middleware("http")
def _errors_and_logs(event: Any, get_response: Any) -> Response:
    context = app.current_request.context if app.current_request else {}
    get_logger().append_keys(request_id=(context or {}).get("requestId"))
    try:
        return normalise_chalice_errors(event, get_response)
    finally:
        flush_metrics()


@route(
    app,
    "/health",
    "GET",
    summary="200 once the table is reachable, 503 otherwise",
    scheme=Scheme.NONE,
    tag="operations",
    response="Health",
    errors=(503,),
)
def health(call: Any) -> Any:
    return health_status()


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observed
def sweep_due(event: Any) -> dict[str, Any]:
    """Every minute: apply due timers and expire lapsed holds (budget below the Lambda timeout)."""
    from chalicelib.services.selling import sweeper  # the engine loads here, not in the API's cold start

    return asdict(sweeper.sweep(budget_seconds=45.0))


# --- fan-out: outbox -> SNS -> SQS -> webhooks and emails (event sources: services/messaging/fanout_wiring.py)


@app.on_dynamodb_record(stream_arn=wiring.OUTBOX_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
@observed
def publish_outbox(event: Any) -> dict[str, Any]:
    """Each new OUTBOX item on the table's stream is published to the events topic; failures are retried."""
    from chalicelib.services.messaging import fanout

    return fanout.publish_records(event.to_dict().get("Records", []))


@app.on_sqs_message(
    queue=wiring.WEBHOOK_QUEUE,
    batch_size=wiring.WEBHOOK_BATCH_SIZE,
    maximum_batching_window_in_seconds=wiring.WEBHOOK_BATCH_WINDOW_SECONDS,
)
@observed
def deliver_webhooks(event: Any) -> dict[str, Any]:
    """Events fan out to the company's webhooks; attempts are signed, logged and retried through the queue."""
    from chalicelib.services.messaging import delivery

    return delivery.handle_messages(event.to_dict().get("Records", []))


@app.on_sqs_message(queue=wiring.EMAIL_QUEUE, batch_size=10)
@observed
def send_emails(event: Any) -> dict[str, Any]:
    """The notify_* steps of the graphs: templated emails to the owner and the customer."""
    from chalicelib.services.messaging import mail

    return mail.handle_messages(event.to_dict().get("Records", []))
