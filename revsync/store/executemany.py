"""Many rows through one statement, handed to the driver's own `executemany` (SQLite).

SQLAlchemy's executemany builds and processes each row's parameters through its general
machinery, which for a derivation's batches of updates and inserts adds a good share to
SQLite's own work. Here the statement is compiled once per dialect and set of columns,
each parameter's bind processor is the one SQLAlchemy would apply (the engine's JSON
serializer, numbers, times), and the rows go to the cursor as tuples, in the session's
transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

_Processor = Callable[[Any], Any] | None
# Per positional parameter: its name, and either its bind processor (a value from each
# row) or, for a value the statement itself carries (`source = 'stripe'`), that value
# processed once.
_Parameter = tuple[str, _Processor, bool, Any]


def executemany(session: Session, statement: ClauseElement,
                rows: Sequence[Mapping[str, Any]]) -> None:
    """Run `statement` once per row. Each row gives every parameter the statement does
    not carry itself; column defaults are not applied here (an insert must give every
    column that has one). The rows go straight to the cursor, past the session's
    autoflush: the caller flushes any pending ORM change they depend on."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    sql, parameters = _compiled(statement, dialect, tuple(rows[0]))
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(sql, [
            tuple(given if constant else value(row[name]) if value else row[name]
                  for name, value, constant, given in parameters)
            for row in rows])
    finally:
        cursor.close()


@functools.lru_cache(maxsize=64)
def _compiled(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]
              ) -> tuple[str, tuple[_Parameter, ...]]:
    """The statement's SQL and its positional parameters in order. Kept per statement
    object: callers build theirs once."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
    order = compiled.positiontup
    if order is None:
        raise ValueError(f"{dialect.name} is not a positional dialect (SQLite is)")
    defaults = [*compiled.insert_prefetch, *compiled.update_prefetch]
    if defaults:
        raise ValueError(f"columns whose defaults the rows must give: {defaults}")
    parameters = []
    for name in order:
        bind = compiled.binds[name]
        value = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in keys:
            parameters.append((name, value, False, None))
            continue
        if bind.required:
            raise ValueError(f"no value for {name!r} in the rows")
        given = bind.effective_value
        parameters.append((name, None, True, value(given) if value else given))
    return compiled.string, tuple(parameters)
