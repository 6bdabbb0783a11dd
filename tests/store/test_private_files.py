"""What the product keeps on disk is its owner's alone: the data folder 0700; the SQLite
database, its journals, the migration lock, the key file and the dev server's files
0600 (made so, or tightened when an earlier run left them readable by others)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from revsync.settings import Settings
from revsync.store import db, keystore
from revsync.temporal import dev_server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def start(data_dir: Path) -> None:
    """What a worker does first, on embedded defaults: migrate, then check the key."""
    settings = Settings(data_dir=data_dir, database_url=None, secret_key=None)
    db.migrate(settings.resolved_database_url)
    keystore.encrypt(settings, "sk_test_x")
    keystore.check(settings)


def test_a_fresh_data_folder_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    start(data)
    assert mode(data) == 0o700
    names = ["revsync.sqlite", "revsync.sqlite-wal", "revsync.sqlite-shm",
             "revsync.sqlite.migrate-lock", "secret.key"]
    assert {name: oct(mode(data / name)) for name in names} == dict.fromkeys(names, "0o600")


def test_an_earlier_runs_open_files_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret.key").write_bytes(Fernet.generate_key())
    (data / "revsync.sqlite").touch()
    (data / "revsync.sqlite-wal").touch()
    for path in (data, *data.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    start(data)
    assert mode(data) == 0o700
    assert {path.name: oct(mode(path)) for path in data.iterdir()} == {
        path.name: "0o600" for path in data.iterdir()}


def test_the_dev_servers_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """A stand-in `temporal` that writes its database and a log line, then exits."""
    binary = tmp_path / "temporal"
    binary.write_text('#!/bin/sh\nfor a; do [ "$prev" = --db-filename ] && echo x > "$a"; '
                      'prev=$a; done\necho started\n')
    binary.chmod(0o700)
    monkeypatch.setattr(dev_server, "temporal_binary", lambda: str(binary))
    monkeypatch.setattr(dev_server, "address_configured", lambda: False)
    monkeypatch.setattr(dev_server, "listening", lambda *_, **__: False)
    data = tmp_path / "data"
    with pytest.raises(dev_server.TemporalServerError):
        dev_server.ensure_dev_server(data, wait=1.0)
    assert (data / "temporal.log").read_text() == "started\n"
    assert mode(data) == 0o700
    assert mode(data / "temporal.log") == mode(data / "temporal.sqlite") == 0o600
