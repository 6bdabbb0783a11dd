"""Segments: a small expression language over subscribers, saved per workspace.

`parse` turns text into a typed tree (`nodes`), `sql` compiles the tree into one
select over `subscriber` with bound parameters, `store` saves and evaluates segments,
`defaults` creates the three default segments once per workspace.
"""

from revsync.segments.defaults import DEFAULTS, ensure_default_segments
from revsync.segments.errors import SegmentError
from revsync.segments.limits import SegmentTooSlow
from revsync.segments.nodes import And, Comparison, Expr, Not, Number, Or, Text, to_text
from revsync.segments.parser import MAX_DEPTH, MAX_LENGTH, parse
from revsync.segments.sql import condition, count_statement, members_statement
from revsync.segments.store import (
    DuplicateSegmentName,
    InvalidSegmentName,
    Member,
    MemberPage,
    SegmentNotFound,
    SegmentStoreError,
)

__all__ = [
    "DEFAULTS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "Comparison",
    "DuplicateSegmentName",
    "Expr",
    "InvalidSegmentName",
    "Member",
    "MemberPage",
    "Not",
    "Number",
    "Or",
    "SegmentError",
    "SegmentNotFound",
    "SegmentStoreError",
    "SegmentTooSlow",
    "Text",
    "condition",
    "count_statement",
    "ensure_default_segments",
    "members_statement",
    "parse",
    "to_text",
]
