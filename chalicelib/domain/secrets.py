"""Keys, tokens and password hashes. Pure standard library; no storage.

API keys and tokens are 256-bit random values, so a fast SHA-256 digest is
enough to store them (no dictionary to guess from); passwords are low-entropy
and get scrypt, a slow, memory-hard KDF.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_SCRYPT_R = 8
_SCRYPT_P = 1


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def new_app_id() -> str:
    return secrets.token_hex(4)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str, *, n: int) -> str:
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt, n)
    return "$".join(["scrypt", str(n), base64.b64encode(salt).decode(), base64.b64encode(derived).decode()])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n_text, salt_b64, derived_b64 = stored.split("$")
        n = int(n_text)
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(derived_b64)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(_scrypt(password, salt, n), expected)


def equal(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=256 * n * _SCRYPT_R, dklen=32
    )
