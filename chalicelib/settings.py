"""One settings object, read from the environment lazily (never at import time).

Chalice sets a function's environment only while a handler runs (and the test
client swaps ``os.environ`` per call), so nothing here may be read at import;
the pydantic class itself is built on the first call, keeping cold start cheap.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.settings_model import Settings

_ENV = {
    "stage": "STAGE",
    "table_name": "TABLE_NAME",
    "region": "AWS_DEFAULT_REGION",
    "dynamodb_endpoint": "DYNAMODB_ENDPOINT",
    "root_key": "BOOKING_ROOT_KEY",
    "key_grace_seconds": "KEY_GRACE_SECONDS",
    "auth_token_ttl_seconds": "AUTH_TOKEN_TTL_SECONDS",
    "max_body_bytes": "MAX_BODY_BYTES",
    "password_hash_n": "PASSWORD_HASH_N",
    "aws_connect_timeout_seconds": "AWS_CONNECT_TIMEOUT_SECONDS",
    "aws_read_timeout_seconds": "AWS_READ_TIMEOUT_SECONDS",
    "aws_max_attempts": "AWS_MAX_ATTEMPTS",
    "unavailable_retry_after_seconds": "UNAVAILABLE_RETRY_AFTER_SECONDS",
    "events_topic_arn": "EVENTS_TOPIC_ARN",
    "webhook_queue_url": "WEBHOOK_QUEUE_URL",
    "webhook_dlq_url": "WEBHOOK_DLQ_URL",
    "email_queue_url": "EMAIL_QUEUE_URL",
    "mail_from": "MAIL_FROM",
    "mail_dir": "MAIL_DIR",
    "public_requests_per_minute": "PUBLIC_REQUESTS_PER_MINUTE",
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    from chalicelib.settings_model import Settings

    values = {field: os.environ[var] for field, var in _ENV.items() if os.environ.get(var)}
    return Settings.model_validate(values)


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
