"""default rules: the three built-in automations become rules of each workspace

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:20:00.000000

Each existing workspace gets the win-back, thank-you and team-alert rules, built from
its `automation_rule` settings (on or off, delays, thresholds, recipients), marked with
`default_key`; a subscriber already thanked at the current threshold stays thanked (its
`automation_fire` is copied to the new rule). The rows are written through tables as
this revision has them, not through the models, which later revisions change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from revsync.automations.defaults import from_settings
from revsync.automations.definitions import ONCE, rule_automation
from revsync.automations.legacy import DEFAULTS, Rule
from revsync.automations.types import THANK_YOU
from revsync.store.models import utcnow

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

workspace = sa.table("workspace", sa.column("id", sa.Integer),
                     sa.column("default_rules_created", sa.Boolean))
settings = sa.table("automation_rule", sa.column("workspace_id", sa.Integer),
                    sa.column("kind", sa.String), sa.column("enabled", sa.Boolean),
                    sa.column("config", sa.JSON))
rule = sa.table("revenue_rule", sa.column("id", sa.Integer),
                sa.column("workspace_id", sa.Integer), sa.column("name", sa.String),
                sa.column("enabled", sa.Boolean), sa.column("definition", sa.JSON),
                sa.column("default_key", sa.String),
                sa.column("created_at", sa.DateTime(timezone=True)),
                sa.column("updated_at", sa.DateTime(timezone=True)))
fire = sa.table("automation_fire", sa.column("workspace_id", sa.Integer),
                sa.column("automation", sa.String), sa.column("subscriber_id", sa.Integer),
                sa.column("key", sa.String), sa.column("transition_id", sa.Integer),
                sa.column("fired_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: SQLite's batch mode would copy the tables, and
    # dropping the old `workspace` fails while rows reference it.
    op.add_column("workspace", sa.Column("default_rules_created", sa.Boolean(),
                                         nullable=False, server_default=sa.false()))
    op.add_column("revenue_rule", sa.Column("default_key", sa.String(length=40),
                                            nullable=True))
    op.create_index("ix_revenue_rule_ws_default_key", "revenue_rule",
                    ["workspace_id", "default_key"], unique=True)
    connection = op.get_bind()
    for (workspace_id,) in connection.execute(sa.select(workspace.c.id)).all():
        _create_defaults(connection, workspace_id)
    connection.execute(workspace.update().values(default_rules_created=True))


def _create_defaults(connection: sa.Connection, workspace_id: int) -> None:
    stored = {row.kind: Rule(row.kind, row.enabled, {**DEFAULTS[row.kind], **row.config})
              for row in connection.execute(sa.select(settings).where(
                  settings.c.workspace_id == workspace_id)) if row.kind in DEFAULTS}
    taken = set(connection.execute(sa.select(rule.c.name).where(
        rule.c.workspace_id == workspace_id)).scalars())
    now = utcnow()
    for default in from_settings(stored):
        if default.name in taken:
            continue
        rule_id = connection.execute(rule.insert().values(
            workspace_id=workspace_id, name=default.name, enabled=default.enabled,
            definition=default.definition, default_key=default.key, created_at=now,
            updated_at=now).returning(rule.c.id)).scalar_one()
        if default.key == THANK_YOU:
            threshold = default.definition["trigger"]["threshold"]
            _copy_thanks(connection, workspace_id, f"ltv>={threshold}", rule_id)


def _copy_thanks(connection: sa.Connection, workspace_id: int, key: str, rule_id: int) -> None:
    """Subscribers thanked at this threshold are not thanked again by the rule."""
    thanked = connection.execute(sa.select(fire.c.subscriber_id, fire.c.transition_id).where(
        fire.c.workspace_id == workspace_id, fire.c.automation == THANK_YOU,
        fire.c.key == key)).all()
    if thanked:
        connection.execute(fire.insert(), [
            {"workspace_id": workspace_id, "automation": rule_automation(rule_id),
             "subscriber_id": row.subscriber_id, "key": ONCE,
             "transition_id": row.transition_id, "fired_at": utcnow()} for row in thanked])


def downgrade() -> None:
    connection = op.get_bind()
    defaults = sa.select(rule.c.id).where(rule.c.default_key.is_not(None))
    names = [rule_automation(rule_id) for rule_id in connection.execute(defaults).scalars()]
    if names:
        connection.execute(fire.delete().where(fire.c.automation.in_(names)))
    connection.execute(rule.delete().where(rule.c.default_key.is_not(None)))
    op.drop_index("ix_revenue_rule_ws_default_key", table_name="revenue_rule")
    with op.batch_alter_table("revenue_rule") as batch_op:
        batch_op.drop_column("default_key")
    with op.batch_alter_table("workspace") as batch_op:
        batch_op.drop_column("default_rules_created")
