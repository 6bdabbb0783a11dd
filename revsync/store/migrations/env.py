"""Alembic environment: runs migrations on the URL given by `revsync.db.alembic_config`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from revsync.store.db import get_engine
from revsync.store.models import exists_on  # also registers the tables on SQLModel.metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
target_metadata = SQLModel.metadata

with get_engine(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=url.startswith("sqlite"),
        include_object=exists_on(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
