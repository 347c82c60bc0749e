"""Structured JSON logs (Powertools Logger), created on first use to keep cold start cheap."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    # Never log request bodies or headers: they carry keys, passwords and tokens.
    return Logger(service="booking-engine")
