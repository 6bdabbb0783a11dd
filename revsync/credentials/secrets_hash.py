"""Generating credential secrets, storing their digests, and checking the platform key.

Every secret revsync mints carries 256 random bits, so its SHA-256 digest is enough at
rest: a slow password hash (bcrypt, argon2) exists to make guessing a low-entropy
password expensive, and nobody can enumerate 2**256 secrets at any speed. A fast,
unsalted digest also lets a request find its key by an index lookup on the digest,
instead of trying a slow hash against every key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from revsync.settings import Settings

API_KEY_TAG = "rsk"
PREFIX_BYTES = 4  # 8 hex characters shown in lists to tell keys apart, not secret


def digest(secret: str) -> str:
    """The stored form of a secret (hex SHA-256 of its UTF-8 bytes)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """(prefix, whole key): `rsk_<prefix>_<43 random characters>`."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{API_KEY_TAG}_{prefix}_{secrets.token_urlsafe(32)}"


def looks_like_api_key(presented: str) -> bool:
    return presented.startswith(API_KEY_TAG + "_")


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def is_platform_key(settings: Settings, presented: str) -> bool:
    """Whether `presented` is the platform key, compared in constant time as bytes
    (compare_digest on str refuses non-ASCII, which would turn a crafted header into a
    500). False when no platform key is configured."""
    if settings.platform_key is None:
        return False
    return hmac.compare_digest(presented.encode(),
                               settings.platform_key.get_secret_value().encode())
