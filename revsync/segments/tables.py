"""What the CLI prints for segments: tables, and the spot an expression went wrong."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from revsync.segments.errors import SegmentError
from revsync.segments.store import MemberPage
from revsync.store.models import Segment


def segments_table(segments: list[Segment]) -> Table:
    table = Table("id", "name", "expression", "default")
    for segment in segments:
        table.add_row(str(segment.id), escape(segment.name), escape(segment.expression),
                      segment.default_key or "")
    return table


def members_table(page: MemberPage) -> Table:
    table = Table("id", "email", "mrr", "ltv", "tags")
    for m in page.members:
        table.add_row(str(m.id), escape(m.email), _money(m.mrr), _money(m.ltv),
                      escape(", ".join(m.tags)))
    return table


def pointed_error(expression: str, error: SegmentError) -> str:
    """The message, then the expression with a caret under the position (one line only)."""
    line = expression.replace("\n", " ").replace("\t", " ")
    if len(line) > 120:
        return str(error)
    return f"{error}\n  {line}\n  {' ' * (error.position - 1)}^"


def _money(value: object) -> str:
    return "" if value is None else f"{value:.2f}"
