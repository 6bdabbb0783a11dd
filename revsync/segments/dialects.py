"""One SQL construct, two spellings: the part of a segment query that differs by database.

`PerDialect(postgresql_form, sqlite_form)` renders only the form of the dialect it is
compiled for, so the caller builds ONE statement that runs on both. Both forms are
ordinary SQLAlchemy expressions, so every value in them stays a bound parameter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Numeric, and_, case, cast, func, not_, or_
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

DECIMAL_REGEX = r"^-?[0-9]+(\.[0-9]+)?$"  # the same rule as the parser's numbers


class PerDialect(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    name = "per_dialect"
    # Each form is a condition already, so SQLite gets it as written instead of
    # `(form) = 1`, which would hide an `id IN (...)` in it from the planner (it then
    # tests the list per subscriber instead of starting from it).
    _is_implicitly_boolean = True


def _form(element: PerDialect, index: int, compiler: SQLCompiler, **kw: Any) -> str:
    """Parenthesised: a form is one operand of the AND/OR/NOT around it."""
    return "(" + str(compiler.process(list(element.clauses)[index], **kw)) + ")"


@compiles(PerDialect)
def _unsupported(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"segments support PostgreSQL and SQLite, not {compiler.dialect.name}")


@compiles(PerDialect, "postgresql")
def _postgresql(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return _form(element, 0, compiler, **kw)


@compiles(PerDialect, "sqlite")
def _sqlite(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return _form(element, 1, compiler, **kw)


def is_decimal(text: ColumnElement[Any]) -> ColumnElement[bool]:
    """`text` matches DECIMAL_REGEX; NULL for NULL. SQLite has no regex, so GLOBs say it:
    a digit first (after an optional minus), only digits, '.' and a leading '-',
    at most one '.', and not a '.' last."""
    def glob(value: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        return value.op("GLOB", is_comparison=True)(pattern)

    sqlite = and_(
        or_(glob(text, "[0-9]*"), glob(text, "-[0-9]*")),
        not_(glob(text, "*[^0-9.-]*")),
        not_(glob(func.substr(text, 2), "*-*")),
        not_(glob(text, "*.*.*")),
        not_(glob(text, "*.")),
    )
    return PerDialect(text.regexp_match(DECIMAL_REGEX), sqlite)


def numeric(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """`text` as a number, for strings that passed `is_decimal`. PostgreSQL may evaluate
    AND's operands in any order and its cast fails on non-numbers, so there the cast sits
    in a CASE; SQLite's cast never fails."""
    return case((text.regexp_match(DECIMAL_REGEX), cast(text, Numeric())))


def by_dialect(postgresql: ColumnElement[bool],
               sqlite: ColumnElement[bool]) -> ColumnElement[bool]:
    return PerDialect(postgresql, sqlite)
