"""Request and response models of the webhook subscriptions (Timekit v2 face)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.http.schemas import Out, Query, Strict

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z_]+$", max_length=60)]
Events = Annotated[list[EventType], Field(min_length=1, max_length=50)]


class WebhookIn(Strict):
    url: Url
    events: Events
    enabled: bool = True


class WebhookUpdate(Strict):
    url: Url | None = None
    events: Events | None = None
    enabled: bool | None = None


class RotateIn(Strict):
    grace_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] = 86_400


class DeliveriesQuery(Query):
    limit: Annotated[int, Field(ge=1, le=100)] = 30


class WebhookData(Out):
    id: int
    url: str
    events: list[str]
    enabled: bool
    created_at: str
    updated_at: str
    old_secret_expires_at: str | None = None
    secret: str | None = Field(default=None, description="whsec_ + base64 key; only in the create and rotate replies")


class WebhookOut(Out):
    data: WebhookData


class WebhookList(Out):
    data: list[WebhookData]


class Attempt(Out):
    attempt: int
    at: str
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    outcome: Literal["delivered", "retry_scheduled", "dead_lettered", "abandoned"]


class DeliveryData(Out):
    id: str
    webhook_id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: list[Attempt]
    next_attempt_at: str | None = None
    created_at: str
    updated_at: str


class DeliveryOut(Out):
    data: DeliveryData


class DeliveryList(Out):
    data: list[DeliveryData]
