"""Companies, their keys and their administrators."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain import clock, cors, secrets
from chalicelib.domain.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from chalicelib.settings import get_settings
from chalicelib.store import db, keys, warm
from chalicelib.store.errors import ItemNotFound, refused
from chalicelib.store.expressions import UpdateAction
from chalicelib.store.models import AdminLogin, ApiKey, AuthToken, Company
from chalicelib.store.transact import Transaction, transact


@dataclass(frozen=True)
class IssuedKeys:
    """Secrets as issued: shown to the caller once; the secret key is never stored in clear (the
    public key is, on the company: it is publishable, and hosted booking pages hand it out)."""

    app_key: str | None
    api_key: str | None
    old_keys_retire_at: int | None = None  # epoch seconds, after a rotation


@dataclass(frozen=True)
class NewCompany:
    company: Company
    keys: IssuedKeys


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown IANA time zone {name!r}", field="timezone") from None
    return name


def create_company(
    name: str,
    admin_email: str,
    admin_password: str,
    timezone: str = "Europe/London",
    allowed_origins: list[str] | None = None,
) -> NewCompany:
    db.ensure_bound()
    settings = get_settings()
    check_timezone(timezone)
    company_id = db.allocate_ids()
    app_id = secrets.new_app_id()
    app_key = secrets.new_secret("pk")
    api_key = secrets.new_secret("sk")
    now = db.iso(clock.utcnow())
    company = Company(
        keys.company_pk(company_id),
        keys.COMPANY_SK,
        company_id=company_id,
        name=name,
        app_id=app_id,
        timezone=timezone,
        admin_email=admin_email.lower(),
        api_key_hash=secrets.digest(api_key),
        app_key_hash=secrets.digest(app_key),
        created_at=now,
        public_key=app_key,
        allowed_origins=None if allowed_origins is None else cors.normalise_origins(allowed_origins),
    )
    login = AdminLogin(
        keys.login_pk(admin_email),
        keys.login_sk(company_id),
        company_id=company_id,
        email=admin_email.lower(),
        password_hash=secrets.hash_password(admin_password, n=settings.password_hash_n),
    )

    def build(tx: Transaction) -> None:
        tx.save(company, condition=Company.pk.does_not_exist())
        tx.save(login, condition=AdminLogin.pk.does_not_exist())
        for raw, kind in ((api_key, "api"), (app_key, "app")):
            tx.save(_key_item(raw, kind, company_id, app_id, now), condition=ApiKey.pk.does_not_exist())

    transact(build)
    return NewCompany(company, IssuedKeys(app_key=app_key, api_key=api_key))


def _key_item(raw: str, kind: str, company_id: int, app_id: str, now: str) -> ApiKey:
    return ApiKey(
        keys.key_pk(secrets.digest(raw)),
        keys.KEY_SK,
        company_id=company_id,
        app_id=app_id,
        key_kind=kind,
        created_at=now,
    )


def get_company(company_id: int) -> Company:
    db.ensure_bound()
    try:
        return Company.get(keys.company_pk(company_id), keys.COMPANY_SK)
    except ItemNotFound:
        raise NotFound("company not found", field="company_id") from None


def company_for_sale(company_id: int) -> Company:
    """The company as read at most ``warm.SECONDS`` ago by this process: for the sale path's
    settings (hold time, zone), never for a compare-and-set (store/warm.py says why)."""
    return warm.read(company_id, "company", lambda: get_company(company_id))


def rotate_keys(company_id: int, kinds: set[str], grace_seconds: int | None, revoke_tokens: bool = False) -> IssuedKeys:
    """Issue new keys; the old ones keep working for ``grace_seconds`` then retire.
    With ``revoke_tokens``, every Auth-Token issued so far stops working at once.

    Compare-and-set on the company's current key hashes: of two concurrent
    rotations exactly one wins, the other gets 409.
    """
    company = get_company(company_id)
    settings = get_settings()
    grace = settings.key_grace_seconds if grace_seconds is None else grace_seconds
    retires_at = int(clock.now()) + grace
    now = db.iso(clock.utcnow())
    issued: dict[str, str] = {}
    transact(
        lambda tx: _rotate(tx, company, kinds, issued, retires_at, now, clock.now() if revoke_tokens else None),
        lambda _: Conflict("the keys were rotated concurrently; read the company and retry"),
    )
    from chalicelib.services.identity.auth import forget_cached_keys

    forget_cached_keys()  # this process sees the retirement at once; others within KEY_CACHE_SECONDS
    warm.forget(company_id)
    return IssuedKeys(app_key=issued.get("app"), api_key=issued.get("api"), old_keys_retire_at=retires_at)


def _rotate(
    tx: Transaction,
    company: Company,
    kinds: set[str],
    issued: dict[str, str],
    retires_at: int,
    now: str,
    revoked_at: float | None,
) -> None:
    actions: list[UpdateAction] = [] if revoked_at is None else [Company.tokens_revoked_at.set(revoked_at)]
    for kind, attr in (("api", Company.api_key_hash), ("app", Company.app_key_hash)):
        if kind not in kinds:
            continue
        raw = secrets.new_secret("sk" if kind == "api" else "pk")
        issued[kind] = raw
        old_hash = getattr(company, attr.attr_name)
        tx.save(
            _key_item(raw, kind, company.company_id, company.app_id, now),
            condition=ApiKey.pk.does_not_exist(),
        )
        tx.update(
            ApiKey(keys.key_pk(old_hash), keys.KEY_SK),
            actions=[ApiKey.retires_at.set(retires_at), ApiKey.ttl.set(retires_at + 86_400)],
            condition=ApiKey.pk.exists() & ApiKey.retires_at.does_not_exist(),
        )
        actions.append(attr.set(secrets.digest(raw)))
        if kind == "app":
            actions.append(Company.public_key.set(raw))
    # Compare-and-set on the version read above.
    tx.update(company, actions=actions, condition=Company.version == company.version)


def set_allowed_origins(
    company_id: int, origins: list[str] | None, *, waitlist_offer_time: int | None = None
) -> Company:
    """Replace the company's CORS origins (None: any origin) and, when given, its waitlist offer
    window; compare-and-set on its version."""
    company = get_company(company_id)
    kept = None if origins is None else cors.normalise_origins(origins)
    origins_action = Company.allowed_origins.remove() if kept is None else Company.allowed_origins.set(kept)
    actions: list[UpdateAction] = [origins_action]
    if waitlist_offer_time is not None:
        actions.append(Company.waitlist_offer_time.set(waitlist_offer_time))
    if refused(lambda: company.update(actions=actions, condition=Company.version == company.version)):
        raise Conflict("the company changed since it was read; retry")
    with _origins_lock:
        _origins_cache.pop(company_id, None)
    warm.forget(company_id)
    return company


ORIGINS_CACHE_SECONDS = 30.0
"""A company's origins are remembered this long per process: CORS costs no read per request.
A change reaches other warm processes within this time."""
_origins_cache: dict[int, tuple[float, list[str] | None]] = {}
_origins_lock = threading.Lock()


def allowed_origins(company_id: int) -> list[str] | None:
    """The company's CORS origins (None: any origin, also for a company that does not exist)."""
    now = time.monotonic()
    with _origins_lock:
        cached = _origins_cache.get(company_id)
    if cached is not None and now - cached[0] < ORIGINS_CACHE_SECONDS:
        return cached[1]
    db.ensure_bound()
    try:
        origins = Company.get(keys.company_pk(company_id), keys.COMPANY_SK).allowed_origins
    except ItemNotFound:
        origins = None
    found = None if origins is None else list(origins)
    with _origins_lock:
        if len(_origins_cache) > 10_000:
            _origins_cache.clear()
        _origins_cache[company_id] = (now, found)
    return found


def forget_cached_origins() -> None:
    with _origins_lock:
        _origins_cache.clear()


@dataclass(frozen=True)
class Session:
    token: str
    company: Company
    email: str
    expires_at: int


def login(email: str, password: str, company_id: int | None, address: str | None = None) -> Session:
    """Exchange an administrator's email and password for an Auth-Token."""
    from chalicelib.services.identity.auth import find_login_limited

    found = find_login_limited(email, password, company_id, address)
    if found is None:
        raise Unauthorized("the email or password is not valid")
    token = secrets.new_secret("tok")
    issued_at = clock.now()
    expires_at = int(issued_at) + get_settings().auth_token_ttl_seconds
    AuthToken(
        keys.token_pk(secrets.digest(token)),
        keys.TOKEN_SK,
        company_id=found.company_id,
        email=found.email,
        expires_at=expires_at,
        issued_at=issued_at,
        ttl=expires_at,
    ).save(condition=AuthToken.pk.does_not_exist())
    return Session(token, get_company(found.company_id), found.email, expires_at)
