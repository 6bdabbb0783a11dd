"""JSON schemas of the change feed's answers and parameters, for the OpenAPI document
(`openapi.py`); the shapes are those `feed.entries` builds and `web.feed_api` answers."""

from __future__ import annotations

from typing import Any

from revsync.feed import causes, entries
from revsync.web import feed_api
from revsync.web.subscribers_schemas import NULLABLE_MONEY, STRINGS

VALUES: dict[str, Any] = {
    "type": "object", "required": ["mrr", "ltv", "tags", "metadata"],
    "properties": {"mrr": NULLABLE_MONEY, "ltv": NULLABLE_MONEY,
                   "tags": {"type": "array", "items": {"type": "string"},
                            "description": "The Stripe-managed tags."},
                   "metadata": STRINGS},
}
CHANGE: dict[str, Any] = {
    "type": "object",
    "description": "One change of a subscriber's Stripe-managed values. Subscribers are "
                   "named by id and external_id, never by email.",
    "required": ["position", "workspace", "subscriber_id", "external_id", "cause",
                 "cause_id", "silent", "at", "before", "after", "tags_added",
                 "tags_removed"],
    "properties": {
        "position": {"type": "integer", "description": "Grows along the feed; a consumer "
                     "that applied position P skips any entry at or below P."},
        "workspace": {"type": "string"},
        "subscriber_id": {"type": "integer"},
        "external_id": {"type": ["string", "null"]},
        "cause": {"enum": [causes.SYNC, causes.STRIPE_EVENT, causes.REDERIVE,
                           causes.SUBSCRIBER]},
        "cause_id": {"type": "string", "description": "The sync run id, the Stripe event "
                     "id, or the source's own id."},
        "silent": {"type": "boolean", "description": "Starting values (a first sync, a "
                   "first match, a new address): they start no automation."},
        "at": {"type": "string", "format": "date-time"},
        "before": VALUES, "after": VALUES,
        "tags_added": {"type": "array", "items": {"type": "string"}},
        "tags_removed": {"type": "array", "items": {"type": "string"}},
    },
}
PAGE: dict[str, Any] = {
    "type": "object", "required": ["changes", "next", "has_more"],
    "properties": {"changes": {"type": "array", "items": CHANGE},
                   "next": {"type": "string", "description": "The next page's `after`; "
                            "keep it to follow the feed later."},
                   "has_more": {"type": "boolean"}},
}
PARAMETERS: tuple[dict[str, Any], ...] = (
    {"name": "after", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The `next` of the previous page; absent: from the oldest entry kept."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": entries.MAX_PAGE,
                "default": feed_api.DEFAULT_LIMIT}},
)
ANSWERS = {200: "The page (empty when caught up)",
           410: "The cursor is older than the retention: read the subscriber list again "
                "(`list` in the error names it), then follow from the start",
           422: "A malformed cursor or limit"}
