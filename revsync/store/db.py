"""Engine creation and schema migrations (alembic, run programmatically)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the single writer; busy_timeout makes writers queue."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """`locked_session` transactions take the write lock when they begin.

    Other transactions keep the driver's behaviour: it begins before the first write,
    so reads before it never hold a snapshot that a later write would have to upgrade
    (SQLite fails such an upgrade at once, without waiting, if another writer came in).
    """
    if connection.get_execution_options().get(LOCKED_OPTION, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


LOCKED_OPTION = "revsync_write_lock"
_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One pooled engine per URL per process."""
    if url not in _engines:
        _engines[url] = _create(url)
    return _engines[url]


def dispose_all() -> None:
    """Close every pooled connection (tests resetting a database; forked processes)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def _create(url: str) -> Engine:
    """`hide_parameters`: SQL errors travel into Temporal failures; emails must not."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    command.upgrade(alembic_config(url), "head")


def session(url: str) -> Session:
    """A new session on the shared engine; `expire_on_commit` off so rows stay readable."""
    return Session(get_engine(url), expire_on_commit=False)


def locked_session(url: str) -> Session:
    """A session for read-compare-write transactions on subscribers.

    PostgreSQL locks the rows read `FOR UPDATE`; SQLite ignores that clause, so there
    the transaction takes the database's write lock when it begins (`BEGIN IMMEDIATE`).
    """
    engine = get_engine(url).execution_options(**{LOCKED_OPTION: True})
    return Session(engine, expire_on_commit=False)
