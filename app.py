"""The Chalice app: routes come from the faces' blueprints; nothing here talks to AWS at import."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalice import Chalice, Rate, Response

from chalicelib.api import docs, events_v1, legacy, platform, v1, v1_basket, v2
from chalicelib.api.health import health_status
from chalicelib.api.http import normalise_chalice_errors, route
from chalicelib.api.logs import get_logger
from chalicelib.services import sweeper
from chalicelib.services.auth import Scheme

app = Chalice(app_name="booking-engine")
app.register_blueprint(platform.bp)
app.register_blueprint(v1.bp)
app.register_blueprint(events_v1.bp)
app.register_blueprint(legacy.bp)
app.register_blueprint(v1_basket.bp)
app.register_blueprint(v2.bp)
app.register_blueprint(docs.bp)


@app.middleware("http")
def _errors_and_logs(event: Any, get_response: Any) -> Response:
    context = app.current_request.context if app.current_request else {}
    get_logger().append_keys(request_id=(context or {}).get("requestId"))
    return normalise_chalice_errors(event, get_response)


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
def sweep_due(event: Any) -> dict[str, Any]:
    """Every minute: apply due timers and expire lapsed holds (budget below the Lambda timeout)."""
    return asdict(sweeper.sweep(budget_seconds=45.0))
