"""subscriber metadata rows

`subscriber_metadata` holds one row per key of `subscriber.stripe_metadata`: the value
as text and, when it is a plain decimal, as a number, indexed by (workspace, key, value)
and (workspace, key, number). A segment such as `plan = enterprise AND seats >= 50`
then reads those indexes instead of every subscriber's JSON (SQLite has no index on
JSON at all). Triggers on `subscriber` keep the rows, as the tag-bit triggers of 0001
keep `tag_bits`, so every writer of metadata is covered (the derivation's bulk update,
the API, a bulk load); the upgrade fills them for the subscribers already stored.

A value is a number exactly when it matches the segment parser's number rule,
`-?[0-9]+(\\.[0-9]+)?`, the rule `revsync.segments.dialects` applies to the JSON. The
SQL below is this revision's own copy of it, as a revision must not change when the
code does.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "subscriber_metadata"
SQLITE_TRIGGERS = ("subscriber_metadata_insert", "subscriber_metadata_update",
                   "subscriber_metadata_delete")
# PostgreSQL: one trigger per statement, over its transition tables, so a bulk write
# (COPY, a derivation's batch) fills the table with one INSERT ... SELECT instead of a
# function call per row. UPDATE rewrites only the rows whose metadata or workspace
# changed (or whose id did: a row of the old table without an equal one in the new).
PG_TRIGGERS = (("subscriber_metadata_insert", "INSERT", "NEW TABLE AS new_rows"),
               ("subscriber_metadata_update", "UPDATE",
                "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
               ("subscriber_metadata_delete", "DELETE", "OLD TABLE AS old_rows"))
COLUMNS = "subscriber_id, key, workspace_id, value, number"


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    op.create_table(
        TABLE,
        sa.Column("subscriber_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("number", sa.Numeric(), nullable=True),
        sa.PrimaryKeyConstraint("subscriber_id", "key"),
        sqlite_with_rowid=False,
    )
    # Filled before the indexes exist: one sort per index instead of a b-tree insert
    # per row, for a table the size of every subscriber's metadata.
    each = "CROSS JOIN LATERAL" if postgres else ","
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) "
               + _rows("s", postgres, f"subscriber s {each} {_each('s', postgres)}"))
    op.create_index("ix_subscriber_metadata_ws_key_value", TABLE,
                    ["workspace_id", "key", "value", "subscriber_id"])
    op.create_index("ix_subscriber_metadata_ws_key_number", TABLE,
                    ["workspace_id", "key", "number", "subscriber_id"])
    if postgres:
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name, _, _ in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON subscriber")
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table(TABLE)


def _rows(row: str, postgres: bool, source: str, where: str = "TRUE") -> str:
    """The rows of `row`'s metadata; a key holding JSON null is missing, as in the JSON."""
    value = "j.value" if postgres else "CAST(j.value AS TEXT)"
    return (f"SELECT {row}.id, j.key, {row}.workspace_id, {value}, {_number(postgres)} "
            f"FROM {source} WHERE j.value IS NOT NULL AND {where}")


def _each(row: str, postgres: bool) -> str:
    """The row's metadata as (key, value) pairs; nothing unless it is a JSON object."""
    if postgres:
        return (f"jsonb_each_text(CASE WHEN jsonb_typeof({row}.stripe_metadata) = 'object' "
                f"THEN {row}.stripe_metadata ELSE '{{}}'::jsonb END) j")
    return (f"json_each(CASE WHEN json_type({row}.stripe_metadata) = 'object' "
            f"THEN {row}.stripe_metadata ELSE '{{}}' END) j")


def _number(postgres: bool) -> str:
    """The value as a number when it follows the number rule. SQLite has no regex, so
    GLOBs say it there: a digit first (after an optional minus), only digits, '.' and
    a leading '-', at most one '.', not '.' last; its CAST AS NUMERIC is how segments
    compared the JSON string with a number before."""
    v = "j.value"
    if postgres:
        return fr"CASE WHEN {v} ~ '^-?[0-9]+(\.[0-9]+)?$' THEN {v}::numeric END"
    decimal = (f"({v} GLOB '[0-9]*' OR {v} GLOB '-[0-9]*') AND NOT {v} GLOB '*[^0-9.-]*' "
               f"AND NOT substr({v}, 2) GLOB '*-*' AND NOT {v} GLOB '*.*.*' "
               f"AND NOT {v} GLOB '*.'")
    return f"CASE WHEN {decimal} THEN CAST({v} AS NUMERIC) END"


def _sqlite_triggers() -> None:
    fill = f"INSERT INTO {TABLE} ({COLUMNS}) {_rows('NEW', False, _each('NEW', False))};"
    clear = f"DELETE FROM {TABLE} WHERE subscriber_id = OLD.id;"
    op.execute(f"CREATE TRIGGER subscriber_metadata_insert AFTER INSERT ON subscriber "
               f"BEGIN {fill} END")
    op.execute("CREATE TRIGGER subscriber_metadata_update AFTER UPDATE OF id, stripe_metadata, "
               "workspace_id ON subscriber WHEN OLD.stripe_metadata IS NOT NEW.stripe_metadata "
               "OR OLD.workspace_id IS NOT NEW.workspace_id OR OLD.id IS NOT NEW.id "
               f"BEGIN {clear} {fill} END")
    op.execute(f"CREATE TRIGGER subscriber_metadata_delete AFTER DELETE ON subscriber "
               f"BEGIN {clear} END")


def _unchanged(row: str, other: str) -> str:
    """`row` has its exact twin (id, workspace, metadata) in the transition table `other`."""
    return (f"EXISTS (SELECT 1 FROM {other} t WHERE t.id = {row}.id "
            f"AND t.workspace_id = {row}.workspace_id "
            f"AND t.stripe_metadata = {row}.stripe_metadata)")


def _postgresql_triggers() -> None:
    each = f"new_rows n CROSS JOIN LATERAL {_each('n', True)}"
    bodies = {
        "INSERT": f"INSERT INTO {TABLE} ({COLUMNS}) {_rows('n', True, each)};",
        "UPDATE": f"DELETE FROM {TABLE} m USING old_rows o WHERE m.subscriber_id = o.id "
                  f"AND NOT {_unchanged('o', 'new_rows')}; "
                  f"INSERT INTO {TABLE} ({COLUMNS}) "
                  f"{_rows('n', True, each, 'NOT ' + _unchanged('n', 'old_rows'))};",
        "DELETE": f"DELETE FROM {TABLE} m USING old_rows o WHERE m.subscriber_id = o.id;",
    }
    for name, event, tables in PG_TRIGGERS:
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {bodies[event]} RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON subscriber REFERENCING {tables} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
