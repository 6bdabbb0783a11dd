"""`subscriber.last_opened_at` / `last_clicked_at` follow `email_event` through the
database's triggers, from any writer, and the migration that adds them fills them for
the events already stored."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Executable, delete, insert, select, update

from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import EmailEvent, Subscriber
from tests.store.rows import add_people

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
EVENT = EmailEvent.__table__  # type: ignore[attr-defined]
SUBSCRIBER = Subscriber.__table__  # type: ignore[attr-defined]
Latest = dict[int, tuple[datetime | None, datetime | None]]


def latest(url: str) -> Latest:
    """Each subscriber's (latest open, latest click), in UTC."""
    def utc(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    with db.get_engine(url).connect() as conn:
        rows = conn.execute(select(SUBSCRIBER.c.id, SUBSCRIBER.c.last_opened_at,
                                   SUBSCRIBER.c.last_clicked_at)).all()
    return {i: (utc(opened), utc(clicked)) for i, opened, clicked in rows}


def events(url: str, *rows: tuple[int, str, datetime]) -> None:
    """One INSERT statement of all the rows (one trigger run on PostgreSQL)."""
    write(url, insert(EVENT).values([
        {"workspace_id": 1, "subscriber_id": s, "kind": k, "occurred_at": t}
        for s, k, t in rows]))


def write(url: str, statement: Executable) -> None:
    with db.get_engine(url).begin() as conn:
        conn.execute(statement)


def test_latest_follows_inserts_deletes_and_updates(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)
    for row in ((1, "open", T), (1, "open", T + 3 * H), (1, "click", T + 2 * H),
                (2, "click", T)):
        events(url, row)
    assert latest(url) == {1: (T + 3 * H, T + 2 * H), 2: (None, T), 3: (None, None)}
    events(url, (1, "open", T - H))  # older: nothing moves
    assert latest(url)[1] == (T + 3 * H, T + 2 * H)
    write(url, delete(EVENT).where(EVENT.c.subscriber_id == 1,
                                   EVENT.c.occurred_at == T + 3 * H))
    assert latest(url)[1] == (T, T + 2 * H)  # the latest of those left
    write(url, update(EVENT).where(EVENT.c.subscriber_id == 2).values(kind="open"))
    assert latest(url)[2] == (T, None)
    write(url, update(EVENT).where(EVENT.c.subscriber_id == 1).values(subscriber_id=3))
    assert latest(url) == {1: (None, None), 2: (T, None), 3: (T, T + 2 * H)}
    write(url, update(EVENT).where(EVENT.c.kind == "click").values(occurred_at=T - 2 * H))
    assert latest(url)[3] == (T, T - 2 * H)  # moved earlier, too
    write(url, delete(EVENT))
    assert latest(url) == {1: (None, None), 2: (None, None), 3: (None, None)}


def test_one_statement_of_many_events(database_url: str) -> None:
    """PostgreSQL's triggers run once per statement: each subscriber gets the latest of
    all its rows in it, and of those it had before."""
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)
    events(url, (1, "open", T + H))
    events(url, (1, "open", T), (1, "open", T + 2 * H), (1, "click", T), (2, "open", T),
           (2, "open", T - H), (2, "click", T + 5 * H), (3, "click", T - H))
    assert latest(url) == {1: (T + 2 * H, T), 2: (T, T + 5 * H), 3: (None, T - H)}
    write(url, delete(EVENT).where(EVENT.c.occurred_at >= T + H))
    assert latest(url) == {1: (T, T), 2: (T, None), 3: (None, T - H)}


def test_the_migration_fills_the_latest_of_events_already_stored(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    config = db.alembic_config(url)
    command.downgrade(config, "0009")
    add_people(url)
    events(url, (1, "open", T), (1, "open", T + H), (1, "click", T), (2, "click", T - H))
    command.upgrade(config, "head")
    assert latest(url) == {1: (T + H, T), 2: (None, T - H), 3: (None, None)}
    events(url, (3, "open", T))  # and the triggers keep them from then on
    assert latest(url)[3] == (T, None)


def test_a_recount_waits_for_an_insert_in_flight(database_url: str) -> None:
    """PostgreSQL: deleting the latest open while another transaction inserts an older
    one, in either order, leaves the latest of the events both committed."""
    if not database_url.startswith("postgresql"):
        return  # SQLite has one writer at a time
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)
    events(url, (1, "open", T - H), (1, "open", T + H))
    engine = db.get_engine(url)
    remove = delete(EVENT).where(EVENT.c.occurred_at == T + H)
    older = insert(EVENT).values(workspace_id=1, subscriber_id=1, kind="open", occurred_at=T)
    for first, second in ((older, remove), (remove, older)):
        with engine.connect() as one, engine.connect() as two:
            one.execute(first)
            waiting = threading.Thread(target=two.execute, args=(second,))
            waiting.start()  # may wait for `one`'s locks until it commits
            one.commit()
            waiting.join()
            two.commit()
        assert latest(url)[1] == (T, None)
        write(url, delete(EVENT).where(EVENT.c.occurred_at == T))
        events(url, (1, "open", T + H))
