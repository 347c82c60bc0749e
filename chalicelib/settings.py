"""One settings object, read from the environment lazily (never at import time).

Chalice sets a function's environment only while a handler runs (and the test
client swaps ``os.environ`` per call), so nothing here may be read at import;
the pydantic class itself is built on the first call, keeping cold start cheap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.settings_model import Settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    from chalicelib.settings_model import Settings

    return Settings()  # pydantic-settings reads os.environ now, at the first call


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
