"""Secrets at rest (Stripe keys, webhook signing secrets): Fernet-encrypted with the
deployment's secret key.

The key is `REVSYNC_SECRET_KEY`, else the key file in the data folder. Either may hold
several keys (comma-separated, or one a line): the first encrypts, every one decrypts,
so a new key can be put first and the stored secrets re-encrypted with it
(`revsync.store.rotation`) before the old one is dropped.

A key file is made only for a deployment that stores no secret yet: made again later, it
would silently leave every stored secret unreadable.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import func, inspect
from sqlmodel import col, select

from revsync.settings import Settings
from revsync.store import db
from revsync.store.files import keep_private, private_dir
from revsync.store.models import Workspace

KEY_FILE = "secret.key"
VARIABLE = "REVSYNC_SECRET_KEY"
NEW_KEY = ("make one with: python -c 'from cryptography.fernet import Fernet; "
           "print(Fernet.generate_key().decode())'")


class KeyStoreError(Exception):
    """The secret key is missing, malformed, or not the one the secrets were stored with."""

    exit_code = 1  # the environment: the key file or the variable of this deployment


class MalformedKey(KeyStoreError):
    """A value given as a key is not one."""

    exit_code = 2  # the setting is wrong


@dataclass(frozen=True)
class Keys:
    """The deployment's keys: `first` encrypts, `every` decrypts (and rotates)."""

    first: Fernet
    every: MultiFernet
    source: str  # where they were read, for messages: the variable or the key file


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def keys(settings: Settings) -> Keys:
    """The keys from `REVSYNC_SECRET_KEY`, else from the key file (made if the deployment
    stores no secret yet)."""
    if settings.secret_key and settings.secret_key.strip():
        source, text = VARIABLE, settings.secret_key
    else:
        source, text = f"the key file {key_file(settings)}", _local_key(settings)
    try:
        fernets = [Fernet(part.encode()) for part in re.split(r"[\s,]+", text) if part]
    except (ValueError, TypeError):
        raise MalformedKey(f"{source} is not a Fernet key (32 url-safe base64-encoded bytes) "
                            f"or a comma-separated list of them; {NEW_KEY}") from None
    if not fernets:
        raise MalformedKey(f"{source} is empty; {NEW_KEY}")
    return Keys(fernets[0], MultiFernet(fernets), source)


def _local_key(settings: Settings) -> str:
    """The embedded default: a key file created once, readable only by its owner.

    Written to a private temporary file and linked into place, so two processes
    starting together never read a half-written key: the first link wins.
    """
    path = key_file(settings)
    if not path.exists():
        if stored_samples(settings):
            raise KeyStoreError(f"stored secrets exist but the key file {path} is missing: "
                                "restore it or set REVSYNC_SECRET_KEY")
        private_dir(path.parent)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text()


def encrypt(settings: Settings, secret: str) -> str:
    return keys(settings).first.encrypt(secret.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    found = keys(settings)
    try:
        return found.every.decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyStoreError(f"{found.source} does not decrypt a stored secret (wrong key?); "
                            "the key it was stored with must be among the keys") from None


def check(settings: Settings) -> None:
    """Refuse to run with keys that cannot read the stored secrets, saying which: missing
    (the key file lost) or wrong. One stored secret of each kind is decrypted. A fresh
    deployment gets its key file here. Run where a process that uses secrets starts."""
    found = keys(settings)
    if found.source != VARIABLE:
        private_dir(key_file(settings).parent)  # the data folder, and the key in it
        keep_private(key_file(settings))
    for workspace, kind, token in stored_samples(settings):
        try:
            found.every.decrypt(token.encode())
        except InvalidToken:
            raise undecryptable(found, kind, workspace) from None


def undecryptable(found: Keys, kind: str, workspace: str) -> KeyStoreError:
    return KeyStoreError(f"{found.source} does not decrypt the stored secrets (wrong key?): "
                         f"not the {kind} of workspace {workspace!r}")


# Every encrypted column, named for messages. The webhook signing secrets are a list.
STRIPE_KEY = "Stripe key"
ENCRYPTED = ((STRIPE_KEY, "stripe_key_encrypted"),
             ("webhook signing secret", "webhook_secrets_encrypted"),
             ("rule webhook secret", "outbound_webhook_secret_encrypted"))


def stored_samples(settings: Settings) -> list[tuple[str, str, str]]:
    """One stored secret of each kind: (workspace name, kind, token); none before the
    schema exists."""
    url = settings.resolved_database_url
    if not inspect(db.get_engine(url)).has_table(Workspace.__tablename__):
        return []
    found: list[tuple[str, str, str]] = []
    with db.session(url) as session:
        for kind, column in ENCRYPTED:
            stored = getattr(Workspace, column)
            held = (func.json_array_length(stored) > 0 if column == "webhook_secrets_encrypted"
                    else col(stored).is_not(None))
            row = session.exec(select(Workspace.name, stored).where(held)
                               .order_by(col(Workspace.id)).limit(1)).first()
            if row is not None:
                name, value = row
                found.append((name, kind, value[0] if isinstance(value, list) else value))
    return found
