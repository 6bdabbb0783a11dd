"""Key rotation: secrets stored with key A, the keys set to "B,A", `rotate`; then B alone
reads every secret, A alone none, and rotating again changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from revsync.settings import Settings
from revsync.store import db, keystore, rotation, workspaces
from tests.helpers.cli import run
from tests.helpers.secrets import stored_secrets

A, B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
STORED = 5  # workspaces, each with a secret of each kind (two webhook signing secrets)
SECRETS = STORED * 4


def with_keys(settings: Settings, keys: str) -> Settings:
    return settings.model_copy(update={"secret_key": keys})


def store_secrets(settings: Settings) -> None:
    """Workspaces w0..w4, each holding every kind of secret, encrypted with A."""
    with_a = with_keys(settings, A)
    with db.session(settings.resolved_database_url) as session:
        for n in range(STORED):
            workspace = workspaces.get_or_create(session, f"w{n}")
            workspace.stripe_key_encrypted = keystore.encrypt(with_a, f"sk_test_{n}")
            workspace.webhook_secrets_encrypted = [keystore.encrypt(with_a, f"whsec_{n}{s}")
                                                   for s in "ab"]
            workspace.outbound_webhook_secret_encrypted = keystore.encrypt(with_a, f"out{n}")
            session.add(workspace)
        session.commit()


def test_rotated_secrets_are_read_by_the_new_key_alone(settings: Settings) -> None:
    store_secrets(settings)
    before = stored_secrets(with_keys(settings, A))
    both = with_keys(settings, f"{B},{A}")
    done = rotation.rotate(both, batch=2)  # three batches
    assert (done.rotated, done.current, done.connect_copies) == (SECRETS, 0, 0)
    again = rotation.rotate(both, batch=2)
    assert (again.rotated, again.current) == (0, SECRETS)
    only_b = with_keys(settings, B)
    keystore.check(only_b)
    assert stored_secrets(only_b) == before
    with pytest.raises(keystore.KeyStoreError, match="wrong key"):
        keystore.check(with_keys(settings, A))


def test_a_secret_no_key_reads_stops_the_rotation_naming_it(settings: Settings) -> None:
    store_secrets(settings)
    with db.session(settings.resolved_database_url) as session:
        last = workspaces.by_name(session, f"w{STORED - 1}")
        last.outbound_webhook_secret_encrypted = Fernet(Fernet.generate_key()).encrypt(
            b"other").decode()
        session.add(last)
        session.commit()
    with pytest.raises(keystore.KeyStoreError) as raised:
        rotation.rotate(with_keys(settings, f"{B},{A}"), batch=2)
    assert str(raised.value) == (
        "REVSYNC_SECRET_KEY does not decrypt the stored secrets (wrong key?): not the rule "
        f"webhook secret of workspace 'w{STORED - 1}'")
    # The batches before it are done; the failing one is left as it was.
    assert len(stored_secrets(with_keys(settings, B), ("w0", "w1", "w2", "w3"))) == 16
    with db.session(settings.resolved_database_url) as session:
        left = workspaces.by_name(session, "w4").stripe_key_encrypted
    assert left is not None and keystore.decrypt(with_keys(settings, A), left) == "sk_test_4"


def test_a_connect_workspaces_stored_platform_key_is_dropped(settings: Settings) -> None:
    with_a = with_keys(settings, A)
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, "connected")
        workspace.stripe_account = "acct_shop"
        workspace.stripe_key_encrypted = keystore.encrypt(with_a, "sk_live_platform")
        session.add(workspace)
        session.commit()
    done = rotation.rotate(with_keys(settings, f"{B},{A}"))
    assert done.connect_copies == 1
    assert stored_secrets(with_keys(settings, B)) == [workspaces.CONNECT_KEY]


def test_the_command_rotates_with_the_key_files_lines(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_secrets(settings)
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("REVSYNC_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("REVSYNC_SECRET_KEY", raising=False)
    key_file = settings.data_dir / "secret.key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(f"{B}\n{A}\n")
    code, out = run("secrets", "rotate")
    assert (code, out) == (0, f"re-encrypted {SECRETS} secrets with the first key; 0 "
                              "already were")
    key_file.write_text(f"{B}\n")
    assert run("secrets", "rotate") == (
        0, f"re-encrypted 0 secrets with the first key; {SECRETS} already were")
    assert len(stored_secrets(with_keys(settings, B))) == SECRETS
