"""The secret key: made once on a fresh deployment, never again while secrets it encrypted
are stored; a missing or wrong key is refused, saying which; several keys for rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from revsync.settings import Settings
from revsync.store import db, keystore, workspaces

KINDS = ("stripe_key_encrypted", "webhook_secrets_encrypted",
         "outbound_webhook_secret_encrypted")


@pytest.fixture
def file_settings(settings: Settings) -> Settings:
    """The embedded default: no REVSYNC_SECRET_KEY, a key file in the data folder."""
    return settings.model_copy(update={"secret_key": None})


def key_file(settings: Settings) -> Path:
    return settings.data_dir / "secret.key"


def store(settings: Settings, kind: str, value: str = "sk_test_stored") -> None:
    """One workspace holding one secret of one kind, encrypted with the settings' key."""
    token = keystore.encrypt(settings, value)
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, kind.replace("_", "-"))
        setattr(workspace, kind, [token] if kind == "webhook_secrets_encrypted" else token)
        session.add(workspace)
        session.commit()


def test_a_fresh_deployment_starts_and_makes_its_key(file_settings: Settings) -> None:
    keystore.check(file_settings)
    assert key_file(file_settings).exists()
    token = keystore.encrypt(file_settings, "sk_test_x")
    assert keystore.decrypt(file_settings, token) == "sk_test_x"


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_key_file_is_refused_while_secrets_are_stored(
        file_settings: Settings, kind: str) -> None:
    store(file_settings, kind)
    key_file(file_settings).unlink()
    with pytest.raises(keystore.KeyStoreError) as raised:
        keystore.check(file_settings)
    assert str(raised.value) == (
        f"stored secrets exist but the key file {key_file(file_settings)} is missing: "
        "restore it or set REVSYNC_SECRET_KEY")
    with pytest.raises(keystore.KeyStoreError, match="is missing"):
        keystore.encrypt(file_settings, "sk_test_new")  # no new key behind the old one's back
    assert not key_file(file_settings).exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_key_is_refused_saying_so(settings: Settings, kind: str) -> None:
    store(settings, kind)
    wrong = settings.model_copy(update={"secret_key": Fernet.generate_key().decode()})
    with pytest.raises(keystore.KeyStoreError) as raised:
        keystore.check(wrong)
    assert str(raised.value).startswith(
        "REVSYNC_SECRET_KEY does not decrypt the stored secrets (wrong key?)")
    keystore.check(settings)


def test_a_wrong_key_file_is_named(file_settings: Settings) -> None:
    store(file_settings, "stripe_key_encrypted")
    key_file(file_settings).write_text(Fernet.generate_key().decode())
    with pytest.raises(keystore.KeyStoreError) as raised:
        keystore.check(file_settings)
    assert str(raised.value).startswith(
        f"the key file {key_file(file_settings)} does not decrypt the stored secrets")
