"""Rate limits of the public routes: per key and client address, per minute.

A fixed one-minute window: one counter item per (key, address, minute), incremented by one
atomic ``ADD`` per request (so each public request costs one write), removed by the table's
TTL two minutes after its window. Past the limit the request is refused with 429 and
``Retry-After`` (the seconds to the next window) before the view runs. Fixed windows let a
caller send up to twice the limit across a window boundary; the stage throttle in front
(infra/template.yaml) bounds the total.
"""

from __future__ import annotations

import math

from chalicelib.domain import clock, secrets
from chalicelib.domain.errors import TooManyRequests
from chalicelib.store import db, keys
from chalicelib.store.models import RateCounter

WINDOW_SECONDS = 60
ANONYMOUS = "anonymous"


def count_request(key: str | None, address: str, limit: int, now: float | None = None) -> int:
    """Count one request of ``key`` (None: no key) from ``address``; 429 past ``limit`` a minute."""
    db.ensure_bound()
    moment = clock.now() if now is None else now
    window = int(moment // WINDOW_SECONDS) * WINDOW_SECONDS
    caller = secrets.digest(key) if key else ANONYMOUS
    counter = RateCounter(keys.rate_pk(caller, address or "unknown"), keys.rate_sk(window))
    counter.update(
        actions=[
            RateCounter.requests.add(1),
            RateCounter.kind.set(RateCounter),  # the discriminator, as a put would write it
            RateCounter.ttl.set(window + 2 * WINDOW_SECONDS),
        ]
    )
    used = counter.requests
    if used > limit:
        retry_after = max(1, math.ceil(window + WINDOW_SECONDS - moment))
        raise TooManyRequests(
            f"more than {limit} requests a minute from this address with this key; retry in {retry_after} s",
            retry_after=retry_after,
        )
    return used
