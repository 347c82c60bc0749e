"""Webhook subscriptions, their delivery log and replays (Timekit v2 face, HTTP Basic with the API key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http.route import Call, LazyModule, route
from chalicelib.services.identity.auth import Scheme

if TYPE_CHECKING:
    from chalicelib.api.timekit import schemas_webhooks as s
else:
    s = LazyModule("chalicelib.api.timekit.schemas_webhooks")

bp = Blueprint(__name__)
TAG = "webhooks"
V2 = Scheme.V2
IDS = {"webhook_id": "integer", "delivery_id": "string"}


def _cid(call: Call) -> int:
    assert call.auth.company_id is not None
    return call.auth.company_id


def _out(webhook: Any, *, with_secret: bool = False) -> Any:
    from chalicelib.services.messaging import webhooks

    return s.WebhookOut(data=s.WebhookData.model_validate(webhooks.view(webhook, with_secret=with_secret)))


@route(
    bp,
    "/v2/webhooks",
    "POST",
    summary="Subscribe a URL to event types; the reply shows the signing secret once",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas_webhooks:WebhookIn",
    response="timekit.schemas_webhooks:WebhookOut",
    status=201,
)
def create_webhook(call: Call) -> Any:
    from chalicelib.services.messaging import webhooks

    body = call.body(s.WebhookIn)
    return _out(webhooks.create(_cid(call), body.url, body.events, body.enabled), with_secret=True)


@route(
    bp,
    "/v2/webhooks",
    "GET",
    summary="The company's webhooks",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas_webhooks:WebhookList",
)
def list_webhooks(call: Call) -> Any:
    from chalicelib.services.messaging import webhooks

    return s.WebhookList(data=[s.WebhookData.model_validate(webhooks.view(w)) for w in webhooks.of_company(_cid(call))])


@route(
    bp,
    "/v2/webhooks/{webhook_id}",
    "GET",
    summary="One webhook (without its secret)",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas_webhooks:WebhookOut",
    errors=(404,),
    path_types=IDS,
)
def get_webhook(call: Call, webhook_id: int) -> Any:
    from chalicelib.services.messaging import webhooks

    return _out(webhooks.get(_cid(call), webhook_id))


@route(
    bp,
    "/v2/webhooks/{webhook_id}",
    "PUT",
    summary="Change a webhook's url, events or enabled",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas_webhooks:WebhookUpdate",
    response="timekit.schemas_webhooks:WebhookOut",
    errors=(404, 409),
    path_types=IDS,
)
def update_webhook(call: Call, webhook_id: int) -> Any:
    from chalicelib.services.messaging import webhooks

    body = call.body(s.WebhookUpdate)
    return _out(webhooks.update(_cid(call), webhook_id, url=body.url, events=body.events, enabled=body.enabled))


@route(
    bp,
    "/v2/webhooks/{webhook_id}",
    "DELETE",
    summary="Delete a webhook (pending retries stop)",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas_webhooks:WebhookOut",
    errors=(404,),
    path_types=IDS,
)
def delete_webhook(call: Call, webhook_id: int) -> Any:
    from chalicelib.services.messaging import webhooks

    webhook = webhooks.get(_cid(call), webhook_id)
    webhooks.delete(_cid(call), webhook_id)
    return _out(webhook)


@route(
    bp,
    "/v2/webhooks/{webhook_id}/secret",
    "POST",
    summary="Rotate the signing secret; the old one signs too for grace_seconds (two signatures)",
    scheme=V2,
    tag=TAG,
    request="timekit.schemas_webhooks:RotateIn",
    response="timekit.schemas_webhooks:WebhookOut",
    errors=(404, 409),
    path_types=IDS,
)
def rotate_webhook_secret(call: Call, webhook_id: int) -> Any:
    from chalicelib.services.messaging import webhooks

    body = call.body(s.RotateIn)
    return _out(webhooks.rotate_secret(_cid(call), webhook_id, body.grace_seconds), with_secret=True)


def _delivery(delivery: Any) -> Any:
    from chalicelib.services.messaging import webhooks

    return s.DeliveryData.model_validate(webhooks.delivery_view(delivery))


@route(
    bp,
    "/v2/webhooks/{webhook_id}/deliveries",
    "GET",
    summary="The delivery log, newest first: every attempt with status code, latency and error",
    scheme=V2,
    tag=TAG,
    query="timekit.schemas_webhooks:DeliveriesQuery",
    response="timekit.schemas_webhooks:DeliveryList",
    errors=(404,),
    path_types=IDS,
)
def list_deliveries(call: Call, webhook_id: int) -> Any:
    from chalicelib.services.messaging import webhooks

    limit = call.query(s.DeliveriesQuery).limit
    return s.DeliveryList(data=[_delivery(d) for d in webhooks.deliveries(_cid(call), webhook_id, limit)])


@route(
    bp,
    "/v2/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    "POST",
    summary="Send a finished delivery again (same body and webhook-id), on a fresh retry schedule",
    scheme=V2,
    tag=TAG,
    response="timekit.schemas_webhooks:DeliveryOut",
    status=202,
    errors=(404, 409),
    path_types=IDS,
)
def replay_delivery(call: Call, webhook_id: int, delivery_id: str) -> Any:
    from chalicelib.services.messaging import delivery, webhooks

    replayed = delivery.replay(_cid(call), webhook_id, delivery_id)
    return s.DeliveryOut(data=_delivery(webhooks.get_delivery(_cid(call), webhook_id, replayed.event_id)))
