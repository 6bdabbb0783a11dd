"""JSON schemas of the subscribers API's answers and parameters, for the OpenAPI
document (`openapi.py`); the shapes are those `subscribers.records` and
`web.subscribers_api` build."""

from __future__ import annotations

from typing import Any

from revsync.subscribers import email_events, records, upsert
from revsync.web import idempotency

NULLABLE_MONEY = {"type": ["string", "null"], "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}

SUBSCRIBER: dict[str, Any] = {
    "type": "object",
    "description": "A subscriber with everything the API reads (GET .../subscribers/schema).",
    "required": ["id", "email", "external_id", "mrr", "ltv", "tags", "metadata",
                 "attributes", "engagement", "changed_at", "version", "unsubscribed"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "external_id": {"type": ["string", "null"]},
        "mrr": NULLABLE_MONEY,
        "ltv": NULLABLE_MONEY,
        "tags": {"type": "array", "items": {
            "type": "object", "required": ["tag", "source"],
            "properties": {"tag": {"type": "string"}, "source": {"type": "string"}}}},
        "metadata": STRINGS,
        "attributes": STRINGS,
        "engagement": {"type": "object", "properties": {
            name: {"type": "integer"} for name in records.ENGAGEMENT.values()}},
        "changed_at": {"type": "object", "properties": {
            "mrr": NULLABLE_TIME, "ltv": NULLABLE_TIME, "tags": NULLABLE_TIME}},
        "version": {"type": "integer"},
        "unsubscribed": {"type": "boolean"},
    },
}
WRITTEN: dict[str, Any] = {
    "type": "object", "required": ["status", "subscriber"],
    "properties": {"status": {"enum": [upsert.CREATED, upsert.UPDATED, upsert.UNCHANGED]},
                   "subscriber": SUBSCRIBER},
}
PAGE: dict[str, Any] = {
    "type": "object", "required": ["subscribers", "next_after"],
    "properties": {"subscribers": {"type": "array", "items": SUBSCRIBER},
                   "next_after": {"type": ["integer", "null"],
                                  "description": "The next page's `after`; null: the last."}},
}
BATCH_RESULTS: dict[str, Any] = {
    "type": "object", "required": ["results"],
    "properties": {"results": {"type": "array", "items": {
        "type": "object", "required": ["index", "status"],
        "properties": {
            "index": {"type": "integer"},
            "status": {"enum": [upsert.CREATED, upsert.UPDATED, upsert.UNCHANGED,
                                upsert.REFUSED]},
            "reason": {"type": "string", "description": "Why it was refused."},
            "id": {"type": "integer"},
            "external_id": {"type": ["string", "null"]},
            "version": {"type": "integer"}}}}},
}
EVENT_RESULTS: dict[str, Any] = {
    "type": "object", "required": ["results"],
    "properties": {"results": {"type": "array", "items": {
        "type": "object", "required": ["index", "event_id", "status"],
        "properties": {
            "index": {"type": "integer"}, "event_id": {"type": "string"},
            "status": {"enum": [email_events.RECORDED, email_events.DUPLICATE,
                                email_events.UNKNOWN_SUBSCRIBER]}}}}},
}
FIELDS: dict[str, Any] = {
    "type": "object", "required": ["fields"],
    "properties": {"fields": {"type": "array", "items": {
        "type": "object", "required": ["name", "type", "writable", "description"],
        "properties": {"name": {"type": "string"}, "type": {"type": "string"},
                       "writable": {"type": "boolean"},
                       "segment": {"type": ["string", "null"]},
                       "description": {"type": "string"}}}}},
}
UNSUBSCRIBED: dict[str, Any] = {
    "type": "object", "required": ["unsubscribed"],
    "properties": {"unsubscribed": {"const": True}},
}
LIST_PARAMETERS: tuple[dict[str, Any], ...] = (
    {"name": "segment", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "A segment expression (docs/segments.md): only its members."},
    {"name": "after", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0},
     "description": "The `next_after` of the previous page; 0 or absent: the first."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": records.MAX_PAGE,
                "default": records.DEFAULT_PAGE}},
)
IDEMPOTENCY_PARAMETERS: tuple[dict[str, Any], ...] = (
    {"name": idempotency.HEADER, "in": "header", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY},
     "description": "The same key and body within 24 h answer the stored result and do "
                    "nothing again; the same key with another body is refused (422)."},
)
