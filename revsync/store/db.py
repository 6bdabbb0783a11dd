"""Engine creation and schema migrations (alembic, run programmatically)."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, orm, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from revsync.store.files import DIR_MODE, keep_private, private_file, with_journals

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


def _dump_json(value: Any) -> str:
    """JSON columns are written with orjson, several times faster than the stdlib encoder:
    the mirror stores every Stripe object as JSON."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# A worker runs up to `stripe_worker_threads` activities at once, each holding a
# connection for a page's commit. Connections beyond the pool are closed on return, so a
# pool smaller than the busy threads opens a new PostgreSQL session for every page.
PG_POOL_SIZE = 32
PG_MAX_OVERFLOW = 32


def _create(url: str) -> Engine:
    """`hide_parameters`: SQL errors travel into Temporal failures; emails must not."""
    json_options: dict[str, Any] = {"json_serializer": _dump_json,
                                    "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            _private_database(path)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True,
            **json_options,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW, pool_pre_ping=True,
        hide_parameters=True, **json_options,
    )


def _private_database(path: Path) -> None:
    """The SQLite file holds subscribers' emails and the outbox: owner-only before SQLite
    opens it, so its journal files (created with the database file's mode) are too. A
    folder made for it is owner-only; one that exists is the user's choice."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    private_file(path)
    keep_private(*with_journals(path))


def _sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None when it is in memory."""
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" else Path(path)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class DatabaseUnavailable(Exception):
    """The database cannot be opened or reached: the environment, not the input."""


def migrate(url: str) -> None:
    """Bring the schema to the newest revision; safe to call on every start, and from
    several processes at once (a worker, the web app and a command started together):
    one upgrades while the others wait, then finds nothing left to do.

    A database that is down, missing or cannot be created raises `DatabaseUnavailable`
    with one line saying which and why (never the password).
    """
    try:  # only reaching the database is classified; a failing migration stays loud
        with get_engine(url).connect():
            pass
    except (OperationalError, OSError) as error:
        raise DatabaseUnavailable(_unavailable(url, error)) from None
    with migration_lock(url):
        command.upgrade(alembic_config(url), "head")


def _unavailable(url: str, error: Exception) -> str:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        reason = getattr(error, "strerror", None) or str(getattr(error, "orig", error))
        return f"cannot open the database {parsed.database}: {reason}"
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if "does not exist" in reason:
        return f"the database {parsed.database!r} does not exist on {where}: create it first"
    return f"cannot reach the database at {where}: {reason}"


MIGRATION_LOCK_KEY = 0x72657673796E63  # "revsync": one advisory lock id for the upgrade
MIGRATION_LOCK_WAIT = 300.0  # seconds a process waits for another's migration


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Serialise migrations across processes.

    PostgreSQL: a session advisory lock, held on its own connection while alembic works
    on another. SQLite: an exclusive `flock` on a file beside the database (a database
    transaction would block alembic's own connection).
    """
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is None:
            yield
            return
        lock_path = path.with_name(path.name + ".migrate-lock")
        lock_path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        with private_file(lock_path).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    # Autocommit: waiting for the lock must not hold a transaction open (a migration that
    # waits for older transactions, such as CREATE INDEX CONCURRENTLY, would never finish).
    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        deadline = time.monotonic() + MIGRATION_LOCK_WAIT
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                               {"key": MIGRATION_LOCK_KEY}).scalar():
            if time.monotonic() > deadline:
                raise DatabaseUnavailable(
                    f"another process has held the migration lock for {MIGRATION_LOCK_WAIT:.0f}"
                    " s (a migration waiting on old connections?); nothing was changed")
            time.sleep(0.2)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})


def on_postgresql(session: orm.Session) -> bool:
    """Whether the session's database is PostgreSQL, for the few statements written per
    dialect (everything else is one SQLAlchemy statement for both)."""
    return session.get_bind().dialect.name == "postgresql"


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
