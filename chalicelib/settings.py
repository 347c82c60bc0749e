"""One settings object, read from the environment lazily (never at import time).

Chalice sets a function's environment only while a handler runs (and the test
client swaps ``os.environ`` per call), so nothing here may be read at import.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field

LOCAL_ROOT_KEY = "local-root-key-change-me"
"""Development default for the platform key; only the ``local`` stage accepts it."""


class Settings(BaseModel):
    stage: str = "local"
    table_name: str = "booking-engine"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    root_key: str = Field(default=LOCAL_ROOT_KEY, min_length=16, repr=False)
    key_grace_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)
    auth_token_ttl_seconds: int = Field(default=86_400, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    password_hash_n: int = Field(default=2**14, ge=2**10)

    def model_post_init(self, _context: object) -> None:
        if self.stage != "local" and self.root_key == LOCAL_ROOT_KEY:
            raise ValueError("BOOKING_ROOT_KEY must be set outside the local stage")


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
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    values = {field: os.environ[var] for field, var in _ENV.items() if os.environ.get(var)}
    return Settings.model_validate(values)


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
