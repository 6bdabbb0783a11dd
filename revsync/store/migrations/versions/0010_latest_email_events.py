"""each subscriber's latest open and click

`subscriber.last_opened_at` / `last_clicked_at` hold the time of the subscriber's latest
email event of that kind (NULL without one), whatever its age. A segment's
`opened_emails_last_30_days = 0` (or `> 0`) then tests the row it reads anyway: no open
in [now - 30 days, now] exactly when the latest open is missing or older than the
window, and there is one when the latest lies inside it; only a latest open after `now`
(a future event) leaves it to the events. A new index, (workspace, mrr, latest open,
latest click, id), counts `mrr >= 50 AND opened_emails_last_30_days = 0` from one index
range without reading the rows or the events. The columns stay out of the two revenue
indexes the tag-bit counts read, whose entries they would widen: PostgreSQL's
index-only counts slow down with the width of the entries they step through.

The revenue indexes gain `id` after the revenue column: a page of `tag = trial AND
mrr = 0` then walks the `mrr = 0` entries in id order from the page's start and stops
after a page, instead of sorting every subscriber without revenue by id.

Triggers on `email_event` keep the columns, as the tag-bit triggers keep `tag_bits`,
so every writer of events is covered (the CSV import, the API, a bulk load, the rows a
removed subscriber takes with it). An inserted event can only move the latest later;
a deleted or changed one recomputes the subscriber's latest from its remaining events
(`ix_email_event_sub_kind_time` answers that with one index probe per kind). The
upgrade fills the columns from the events already stored.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# email_event.kind -> the subscriber column holding its latest time (this revision's own
# copy of what revsync.segments.sql reads).
LATEST = {"open": "last_opened_at", "click": "last_clicked_at"}
REVENUE = ("mrr", "ltv")
ENGAGEMENT_INDEX = "ix_subscriber_ws_mrr_latest"
SQLITE_TRIGGERS = ("email_event_latest_insert", "email_event_latest_delete",
                   "email_event_latest_update")
# PostgreSQL: once per statement over its transition tables, as for the tag bits (0008):
# an import of many events rewrites each subscriber it touches once, not once per event.
PG_TRIGGERS = {"INSERT": ("email_event_latest_insert", "NEW TABLE AS new_rows"),
               "DELETE": ("email_event_latest_delete", "OLD TABLE AS old_rows"),
               "UPDATE": ("email_event_latest_update",
                          "OLD TABLE AS old_rows NEW TABLE AS new_rows")}


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    # Dropped first, so the fill below rewrites rows without maintaining these indexes.
    for revenue in REVENUE:
        op.drop_index(f"ix_subscriber_ws_{revenue}", "subscriber")
    for column in LATEST.values():
        op.add_column("subscriber", sa.Column(column, sa.DateTime(timezone=True),
                                              nullable=True))
    latest = ", ".join(f"max(CASE WHEN kind = '{kind}' THEN occurred_at END) AS {column}"
                       for kind, column in LATEST.items())
    assigned = ", ".join(f"{column} = m.{column}" for column in LATEST.values())
    op.execute(f"UPDATE subscriber SET {assigned} FROM (SELECT subscriber_id, {latest} "
               "FROM email_event GROUP BY subscriber_id) AS m WHERE subscriber.id = "
               "m.subscriber_id")
    _revenue_indexes(["id", "tag_bits"])
    op.create_index(ENGAGEMENT_INDEX, "subscriber",
                    ["workspace_id", "mrr", *LATEST.values(), "id"])
    if postgres:
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name, _ in PG_TRIGGERS.values():
            op.execute(f"DROP TRIGGER {name} ON email_event")
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    for revenue in REVENUE:
        op.drop_index(f"ix_subscriber_ws_{revenue}", "subscriber")
    op.drop_index(ENGAGEMENT_INDEX, "subscriber")
    for column in LATEST.values():
        op.drop_column("subscriber", column)
    _revenue_indexes(["tag_bits"])


def _revenue_indexes(after: list[str]) -> None:
    for revenue in REVENUE:
        op.create_index(f"ix_subscriber_ws_{revenue}", "subscriber",
                        ["workspace_id", revenue, *after])


def _recomputed(subscriber: str) -> str:
    """Each column set to the latest of the subscriber's remaining events of its kind."""
    return ", ".join(f"{column} = (SELECT max(occurred_at) FROM email_event "
                     f"WHERE subscriber_id = {subscriber} AND kind = '{kind}')"
                     for kind, column in LATEST.items())


def _sqlite_triggers() -> None:
    later = " ".join(
        f"UPDATE subscriber SET {column} = NEW.occurred_at WHERE id = NEW.subscriber_id "
        f"AND NEW.kind = '{kind}' AND ({column} IS NULL OR {column} < NEW.occurred_at);"
        for kind, column in LATEST.items())

    def refresh(subscriber: str) -> str:
        return f"UPDATE subscriber SET {_recomputed(subscriber)} WHERE id = {subscriber};"

    op.execute(f"CREATE TRIGGER email_event_latest_insert AFTER INSERT ON email_event "
               f"BEGIN {later} END")
    op.execute(f"CREATE TRIGGER email_event_latest_delete AFTER DELETE ON email_event "
               f"BEGIN {refresh('OLD.subscriber_id')} END")
    op.execute(f"CREATE TRIGGER email_event_latest_update AFTER UPDATE OF subscriber_id, "
               f"kind, occurred_at ON email_event "
               f"BEGIN {refresh('OLD.subscriber_id')} {refresh('NEW.subscriber_id')} END")


def _postgresql_triggers() -> None:
    latest = ", ".join(f"max(occurred_at) FILTER (WHERE kind = '{kind}') AS {column}"
                       for kind, column in LATEST.items())
    moved = ", ".join(f"{column} = greatest(s.{column}, n.{column})"
                      for column in LATEST.values())
    changes = " OR ".join(f"n.{column} > s.{column} OR (s.{column} IS NULL AND n.{column} "
                          "IS NOT NULL)" for column in LATEST.values())
    # Only a subscriber whose latest moves is rewritten (a new row version each time).
    # The rows are locked in id order first, the order a derivation locks them in: an
    # import's update in whatever order its plan gives could otherwise deadlock with a
    # derivation holding some of the same subscribers.
    grouped = f"(SELECT subscriber_id, {latest} FROM new_rows GROUP BY subscriber_id) n"
    later = (f"PERFORM 1 FROM subscriber s, {grouped} WHERE s.id = n.subscriber_id "
             f"AND ({changes}) ORDER BY s.id FOR NO KEY UPDATE OF s; "
             f"UPDATE subscriber s SET {moved} FROM {grouped} WHERE s.id = n.subscriber_id "
             f"AND ({changes});")

    # A recount locks FOR UPDATE, which waits for the KEY SHARE lock that the foreign key
    # check of a concurrent insert holds on its subscriber until it commits: the recount
    # then sees that event. Under NO KEY UPDATE it would not wait, and a deleted latest
    # racing an insert of an older-than-latest event (whose trigger locks nothing) would
    # leave the column at an earlier time than the latest committed event.
    def refresh(touched: str) -> str:
        differs = " OR ".join(f"{column} IS DISTINCT FROM (SELECT max(occurred_at) FROM "
                              f"email_event WHERE subscriber_id = subscriber.id AND kind = "
                              f"'{kind}')" for kind, column in LATEST.items())
        return (f"PERFORM 1 FROM subscriber WHERE id IN ({touched}) ORDER BY id "
                f"FOR UPDATE; "
                f"UPDATE subscriber SET {_recomputed('subscriber.id')} "
                f"WHERE id IN ({touched}) AND ({differs});")

    bodies = {
        "INSERT": later,
        "DELETE": refresh("SELECT subscriber_id FROM old_rows"),
        "UPDATE": refresh("SELECT subscriber_id FROM old_rows UNION "
                          "SELECT subscriber_id FROM new_rows"),
    }
    for event, (name, tables) in PG_TRIGGERS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {bodies[event]} RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON email_event REFERENCING "
                   f"{tables} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
