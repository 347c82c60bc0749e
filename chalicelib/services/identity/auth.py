"""Who is calling: turns request headers into a :class:`Principal` or refuses.

Four faces, four schemes (see docs/architecture.md):
- platform operator: ``Authorization: Bearer <root key>``;
- BookingBug v1: ``App-Id`` + ``App-Key`` (public app key, or the secret api key,
  which also grants admin), admin routes also ``Auth-Token`` from login;
- Timekit v2: HTTP Basic, empty user, the secret api key as password; on the routes a booking
  page needs (``Scheme.V2_PUBLIC``) the public key too, as a publishable widget key;
- legacy XML: HTTP Basic with an administrator's email and password.
Every secret comparison is constant-time or goes through a hash lookup. Failed Basic
credentials and logins are limited per account and client address (``limits``).
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain import clock, secrets
from chalicelib.domain.errors import NotFound, Unauthorized
from chalicelib.domain.windows import Actor
from chalicelib.services.identity import limits
from chalicelib.settings import get_settings
from chalicelib.store import db, keys
from chalicelib.store.errors import ItemNotFound, refused
from chalicelib.store.models import AdminLogin, ApiKey, AuthToken, Basket, Company


class Role(StrEnum):
    PLATFORM = "platform"
    PUBLIC = "public"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    role: Role
    company_id: int | None = None
    email: str | None = None
    basket_id: str | None = None  # a booker's basket (BookingBug's basket Auth-Token); grants nothing else

    def require_company(self, company_id: int) -> None:
        """A company other than the caller's does not exist, as far as they can tell."""
        if self.company_id != company_id:
            raise NotFound("company not found", field="company_id")


def actor_of(principal: Principal) -> Actor:
    """Booking windows bind whoever books with a public key; the secret key and admins are staff."""
    return Actor.CUSTOMER if principal.role is Role.PUBLIC else Actor.STAFF


class Scheme(StrEnum):
    NONE = "none"
    PLATFORM = "platform"
    V1_PUBLIC = "v1_public"
    V1_ADMIN = "v1_admin"
    V1_BASKET = "v1_basket"
    V2 = "v2"
    V2_PUBLIC = "v2_public"  # the secret key, or the public key as a widget key (a PUBLIC principal)
    LEGACY = "legacy"


Headers = Mapping[str, str]


def authenticate(scheme: Scheme, headers: Headers, address: str | None = None) -> Principal | None:
    """The caller, from ``headers``; ``address`` (the client's IP) counts failed sign-ins."""
    if scheme is Scheme.NONE:
        return None
    if scheme is Scheme.PLATFORM:
        return _platform(headers)
    if scheme is Scheme.V1_PUBLIC:
        return _app_key(headers)
    if scheme is Scheme.V1_ADMIN:
        return _v1_admin(headers)
    if scheme is Scheme.V1_BASKET:
        return _v1_basket(headers)
    if scheme is Scheme.V2:
        return _timekit(headers, address, public=False)
    if scheme is Scheme.V2_PUBLIC:
        return _timekit(headers, address, public=True)
    return _legacy(headers, address)


def presented_key(headers: Headers) -> str | None:
    """The key a request carries (BookingBug's App-Key, or Timekit's Basic password), for rate limits."""
    if headers.get("app-key"):
        return headers["app-key"]
    try:
        return _basic(headers)[1] or None
    except Unauthorized:
        return None


def _platform(headers: Headers) -> Principal:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a platform root key is required (Authorization: Bearer ...)")
    if not secrets.equal(token.strip(), get_settings().root_key):
        raise Unauthorized("the platform root key is not valid")
    return Principal(Role.PLATFORM)


KEY_CACHE_SECONDS = 30.0
"""A found key is remembered this long per process (a warm Lambda, chalice local): one read
less per request. Unknown keys are never cached; a scheduled retirement is checked on every
use; only a retirement with no grace period takes up to this long to bite."""

_key_cache: dict[str, tuple[float, ApiKey]] = {}
_key_cache_lock = threading.Lock()


def lookup_key(raw_key: str) -> ApiKey | None:
    """The live key item for a presented key, or None (unknown or retired)."""
    digest = secrets.digest(raw_key)
    now = clock.now()
    with _key_cache_lock:
        cached = _key_cache.get(digest)
    if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
        item: ApiKey | None = cached[1]
    else:
        db.ensure_bound()
        try:
            item = ApiKey.get(keys.key_pk(digest), keys.KEY_SK)
        except ItemNotFound:
            item = None
        if item is not None:
            with _key_cache_lock:
                if len(_key_cache) > 10_000:
                    _key_cache.clear()
                _key_cache[digest] = (now, item)
    if item is None or (item.retires_at is not None and item.retires_at <= now):
        return None
    return item


def forget_cached_keys() -> None:
    """Drop the key cache (after a rotation in this process, and between tests)."""
    with _key_cache_lock:
        _key_cache.clear()


def _app_key(headers: Headers) -> Principal:
    app_id = headers.get("app-id", "")
    app_key = headers.get("app-key", "")
    if not app_id or not app_key:
        raise Unauthorized("App-Id and App-Key headers are required")
    item = lookup_key(app_key)
    if item is None or not secrets.equal(item.app_id, app_id):
        raise Unauthorized("App-Id or App-Key is not valid")
    role = Role.ADMIN if item.key_kind == "api" else Role.PUBLIC
    return Principal(role, item.company_id)


def _v1_admin(headers: Headers) -> Principal:
    principal = _app_key(headers)
    if principal.role is Role.ADMIN:
        return principal
    token = headers.get("auth-token", "")
    if not token:
        raise Unauthorized("an Auth-Token from POST /api/v1/login is required", field="Auth-Token")
    session = touch_token(token)
    if session is None or session.company_id != principal.company_id:
        raise Unauthorized("the Auth-Token is not valid or has expired", field="Auth-Token")
    return Principal(Role.ADMIN, session.company_id, session.email)


def _v1_basket(headers: Headers) -> Principal:
    """App keys plus a basket's Auth-Token (from add_item). An admin session token is not
    a basket, and a basket token is not a session (it is never stored under TOKEN#)."""
    principal = _app_key(headers)
    token = headers.get("auth-token", "")
    if not token:
        raise Unauthorized("the basket's Auth-Token from add_item is required", field="Auth-Token")
    basket = find_basket(token)
    if basket is None or basket.company_id != principal.company_id:
        raise Unauthorized("the Auth-Token is not a live basket of this company", field="Auth-Token")
    return Principal(Role.PUBLIC, principal.company_id, basket_id=basket.basket_id)


BASKET_TOKEN_PREFIX = "bsk"


def new_basket_token(basket_id: str) -> str:
    """``bsk.<basket id>.<256 random bits>``: the id finds the basket, the digest proves the token."""
    return f"{BASKET_TOKEN_PREFIX}.{basket_id}.{secrets.new_secret('k')}"


def find_basket(token: str) -> Basket | None:
    prefix, _, rest = token.partition(".")
    basket_id, _, secret = rest.partition(".")
    if prefix != BASKET_TOKEN_PREFIX or not basket_id or not secret or len(token) > 200:
        return None
    db.ensure_bound()
    try:
        basket = Basket.get(keys.basket_pk(basket_id), keys.BASKET_SK, consistent_read=True)
    except ItemNotFound:
        return None
    if not secrets.equal(basket.token_hash, secrets.digest(token)):
        return None
    return basket


def touch_token(token: str) -> AuthToken | None:
    """The live session for a token, its expiry slid forward (24 h after last use)."""
    db.ensure_bound()
    try:
        item = AuthToken.get(keys.token_pk(secrets.digest(token)), keys.TOKEN_SK)
    except ItemNotFound:
        return None
    now = clock.now()
    if item.expires_at <= now or _revoked(item):
        return None
    ttl = get_settings().auth_token_ttl_seconds
    # Slide at most every five minutes: a write per request would cost more than it buys.
    if item.expires_at - now < ttl - 300:
        item.update(
            actions=[AuthToken.expires_at.set(int(now + ttl)), AuthToken.ttl.set(int(now + ttl))],
            condition=AuthToken.pk.exists(),
        )
    return item


def _revoked(token: AuthToken) -> bool:
    """Issued before its company last revoked all tokens (a key rotation that asked to)."""
    try:
        company = Company.get(keys.company_pk(token.company_id), keys.COMPANY_SK)
    except ItemNotFound:
        return True
    revoked_at = company.tokens_revoked_at
    return revoked_at is not None and (token.issued_at or 0) < revoked_at


def revoke_token(token: str, company_id: int) -> bool:
    """Log out: delete this session token of this company; False if there was none."""

    db.ensure_bound()
    session = AuthToken(keys.token_pk(secrets.digest(token)), keys.TOKEN_SK)
    return not refused(lambda: session.delete(condition=AuthToken.company_id == company_id))


def _basic(headers: Headers) -> tuple[str, str]:
    value = headers.get("authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("HTTP Basic authentication is required")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are not valid base64") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthorized("the Basic credentials must be user:password")
    return user, password


def _timekit(headers: Headers, address: str | None, *, public: bool) -> Principal:
    user, api_key = _basic(headers)
    limited = limits.subjects(None, address)
    limits.check(limited)
    if user:
        # Timekit's rule: an empty user and the app's key (resource keys do not exist here).
        limits.failed(limited)
        raise Unauthorized("send an empty user and the API key as the password (Basic :<api key>)")
    item = lookup_key(api_key) if api_key else None
    if item is None or (item.key_kind != "api" and not public):
        # The public key is valid, but not here: the same 401 as an unknown key.
        limits.failed(limited)
        raise Unauthorized("the API key is not valid")
    timekit_app = headers.get("timekit-app")
    if timekit_app is not None and not secrets.equal(timekit_app, item.app_id):
        raise Unauthorized("Timekit-App does not match the API key's app", field="Timekit-App")
    return Principal(Role.ADMIN if item.key_kind == "api" else Role.PUBLIC, item.company_id)


def _legacy(headers: Headers, address: str | None) -> Principal:
    email, password = _basic(headers)
    login = find_login_limited(email, password, None, address)
    if login is None:
        raise Unauthorized("the email or password is not valid")
    return Principal(Role.ADMIN, login.company_id, login.email)


def find_login_limited(email: str, password: str, company_id: int | None, address: str | None) -> AdminLogin | None:
    """:func:`find_login` behind the brute-force limits: over a limit is 429 before any scrypt."""
    limited = limits.subjects(email, address)
    limits.check(limited)
    found = find_login(email, password, company_id)
    if found is None:
        limits.failed(limited)
    return found


def find_login(email: str, password: str, company_id: int | None = None) -> AdminLogin | None:
    """The administrator with this email and password (in one company, if named).

    One email may administer several companies; without a company the lowest
    company id whose password matches wins (documented in the API reference).
    """
    db.ensure_bound()
    candidates = list(AdminLogin.query(keys.login_pk(email)))
    if company_id is not None:
        candidates = [c for c in candidates if c.company_id == company_id]
    matched = None
    for candidate in sorted(candidates, key=lambda c: c.company_id):
        if secrets.verify_password(password, candidate.password_hash) and matched is None:
            matched = candidate
    if not candidates:
        # Spend the same time as a real check so response time does not reveal emails.
        secrets.verify_password(password, _DUMMY_HASH)
    return matched


_DUMMY_HASH = "scrypt$16384$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
