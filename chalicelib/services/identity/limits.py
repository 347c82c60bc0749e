"""Brute-force limits on sign-in: failed logins and failed HTTP Basic credentials, counted per
account (the email, or the key presented) and per client address in fixed windows.

A subject over its limit is refused with 429 and ``Retry-After`` before any password is
checked, so a guessing client costs no scrypt. Each failure is one atomic ``ADD`` on a
counter item per (subject, window) that DynamoDB's TTL removes after the window.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chalicelib.domain import secrets
from chalicelib.domain.errors import ErrorCode, TooManyRequests
from chalicelib.settings import get_settings
from chalicelib.store import db, keys
from chalicelib.store.models import FailureCount

WINDOW_SECONDS = 900
# Failures per window (settings): per account 10 by default, as a person mistyping is far
# below it and a guesser reaches it fast; per address 50, as offices and carriers share one.


@dataclass(frozen=True)
class Subject:
    scope: str  # "account" or "address"
    value: str

    @property
    def limit(self) -> int:
        settings = get_settings()
        if self.scope == "account":
            return settings.signin_failures_per_account
        return settings.signin_failures_per_address

    def key(self, window: int) -> tuple[str, str]:
        # Hashed: the item names no email or address, and any length fits a key.
        return keys.failures_pk(self.scope, secrets.digest(self.value.lower())), keys.failures_sk(window)


def subjects(account: str | None, address: str | None) -> list[Subject]:
    found = []
    if account:
        found.append(Subject("account", account))
    if address:
        found.append(Subject("address", address))
    return found


def _window(now: float) -> int:
    return int(now) - int(now) % WINDOW_SECONDS


CLEAN_SECONDS = 1.0
"""How long this process trusts a read that found subjects without failures (issue 15).
Every v2 request is checked against its address's counter before its key; in an on-sale
from one integrator's server that is one more read per booking, all on one key. The check
was never atomic with the failures it counts (concurrent guesses all pass it), so trusting
a clean read for a second widens that by at most a second per process; any failure counted
by this process drops it, and a subject with failures is read every time."""
_clean: dict[tuple[str, str], float] = {}
_clean_lock = threading.Lock()


def _known_clean(wanted: list[tuple[str, str]], moment: float) -> bool:
    with _clean_lock:
        return all(moment - _clean.get(key, -CLEAN_SECONDS) < CLEAN_SECONDS for key in wanted)


def check(limited: list[Subject], now: float | None = None) -> None:
    """Refuse (429) if any subject has used up its failures in this window."""
    if not limited:
        return
    at = time.time() if now is None else now
    window = _window(at)
    wanted = {subject.key(window): subject for subject in limited}
    moment = time.monotonic()
    if _known_clean(list(wanted), moment):
        return
    db.ensure_bound()
    failing: set[tuple[str, str]] = set()
    for item in FailureCount.batch_get(list(wanted)):
        subject = wanted[(item.pk, item.sk)]
        failing.add((item.pk, item.sk))
        if item.failures >= subject.limit:
            retry_after = max(1, window + WINDOW_SECONDS - int(at))
            raise TooManyRequests(
                f"too many failed sign-ins for this {subject.scope}; retry after {retry_after} seconds",
                retry_after=retry_after,
                code=ErrorCode.TOO_MANY_REQUESTS,
            )
    with _clean_lock:
        if len(_clean) > 10_000:
            _clean.clear()
        for key in wanted:
            if key not in failing:
                _clean[key] = moment


def forget_clean() -> None:
    with _clean_lock:
        _clean.clear()


def failed(limited: list[Subject], now: float | None = None) -> None:
    """Count one failure against every subject (an atomic ADD each)."""
    at = time.time() if now is None else now
    window = _window(at)
    db.ensure_bound()
    for subject in limited:
        pk, sk = subject.key(window)
        with _clean_lock:
            _clean.pop((pk, sk), None)
        FailureCount(pk, sk).update(
            actions=[
                FailureCount.failures.add(1),
                FailureCount.ttl.set(window + 2 * WINDOW_SECONDS),
                FailureCount.kind.set(FailureCount),
            ]
        )
