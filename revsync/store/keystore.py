"""Stripe keys at rest: Fernet-encrypted with the deployment's secret key."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from revsync.settings import Settings


class KeyStoreError(Exception):
    """The secret key is missing, malformed, or not the one the key was stored with."""


def _fernet(settings: Settings) -> Fernet:
    key = settings.secret_key or _local_key(settings.data_dir / "secret.key")
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError) as error:
        raise KeyStoreError(
            "REVSYNC_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from error


def _local_key(path: Path) -> str:
    """The embedded default: a key file created once, readable only by its owner.

    Written to a private temporary file and linked into place, so two processes
    starting together never read a half-written key: the first link wins.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def encrypt(settings: Settings, api_key: str) -> str:
    return _fernet(settings).encrypt(api_key.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    try:
        return _fernet(settings).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise KeyStoreError(
            "the stored Stripe key cannot be decrypted with this REVSYNC_SECRET_KEY; "
            "run `connect` again"
        ) from error
