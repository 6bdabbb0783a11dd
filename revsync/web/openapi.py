"""The JSON API's OpenAPI 3.1 document, served at /api/openapi.json.

Written as a table of operations (method, path, summary, body, answers) next to the
routes it describes; request bodies come from the same Pydantic models (and trigger and
action kinds from the same constants) the routes validate with, and a test checks that
every /api route is described and nothing else is. Every error answer has the one shape
of `revsync.web.errors` (the `Error` schema).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from revsync.automations.actions import ACTION_KINDS
from revsync.automations.triggers import TRIGGER_KINDS
from revsync.setup.options import Changes
from revsync.web import (
    automations_api,
    credentials_api,
    explain_api,
    feed_api,
    feed_schemas,
    segments_api,
    setup_api,
    subscribers_api,
    subscribers_schemas,
)
from revsync.web.bodies import MAX_BATCH_BODY, MAX_JSON_BODY

SETUP = setup_api.BASE
SEGMENTS = segments_api.BASE
RULES = automations_api.BASE
AUTOMATIONS = automations_api.AUTOMATIONS
API_KEYS = credentials_api.API_KEYS
EMBED_SESSIONS = credentials_api.EMBED_SESSIONS
SUBSCRIBERS = subscribers_api.BASE
OBJECT: dict[str, Any] = {"type": "object"}
MOMENT: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
API_KEY: dict[str, Any] = {
    "type": "object",
    "description": "A workspace API key, without its secret.",
    "required": ["id", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at"],
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "scope": {"enum": ["read", "write"]},
        "prefix": {"type": "string", "description": "Shown in the key (rsk_<prefix>_...), "
                                                    "to tell keys apart."},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {**MOMENT, "description": "To the minute: written at most once "
                                                   "a minute."},
        "revoked_at": MOMENT,
    },
}
API_KEY_LIST: dict[str, Any] = {"type": "object", "required": ["api_keys"],
                                "properties": {"api_keys": {"type": "array",
                                                            "items": API_KEY}}}
API_KEY_CREATED: dict[str, Any] = {**API_KEY, "required": [*API_KEY["required"], "secret"],
                                   "properties": {**API_KEY["properties"], "secret": {
                                       "type": "string", "description": "The whole key, "
                                       "shown this once and never stored."}}}
EMBED_LINK: dict[str, Any] = {
    "type": "object", "required": ["url", "expires_at"],
    "properties": {
        "url": {"type": "string", "description": "Relative to the app: "
                "/settings/<workspace>/embed?token=..., valid once."},
        "expires_at": {"type": "string", "format": "date-time"}},
}

RULE_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": "A rule: trigger + optional condition + action (docs/automations.md).",
    "required": ["name", "trigger", "action"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "trigger": {"type": "object", "required": ["kind"],
                    "properties": {"kind": {"enum": list(TRIGGER_KINDS)}}},
        "condition": {"type": ["string", "null"], "description": "A segment expression."},
        "action": {"type": "object", "required": ["kind"],
                   "properties": {"kind": {"enum": list(ACTION_KINDS)}}},
        "once_per_subscriber": {"type": "boolean"},
        "enabled": {"type": "boolean"},
    },
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    body: dict[str, Any] | None = None
    answers: dict[int, str] = field(default_factory=lambda: {200: "OK"})
    result: dict[str, Any] | None = None  # the success answer's schema, where described
    parameters: tuple[dict[str, Any], ...] = ()  # besides the path's: query, header
    limit: int = MAX_JSON_BODY  # the body's size limit (`revsync.web.bodies`)
    platform_only: bool = False  # a workspace API key is refused (403)


def _model(model: Any) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema()
    return schema


OPERATIONS: tuple[Operation, ...] = (
    Operation("get", SETUP, "The workspace's Stripe connection and options."),
    Operation("post", SETUP + "/connect", "Connect Stripe with a secret or restricted key.",
              _model(setup_api.ConnectIn), {200: "Connected", 422: "The key was refused"}),
    Operation("get", SETUP + "/products", "The account's products (one Stripe request).",
              None, {200: "OK", 409: "Not connected"}),
    Operation("get", SETUP + "/metadata-suggestions",
              "Metadata keys found on recent customers and subscriptions.", None,
              {200: "OK", 409: "Not connected"}),
    Operation("post", SETUP + "/dry-run", "What a sync with these options would match.",
              _model(Changes), {200: "OK", 409: "Not connected"}),
    Operation("put", SETUP + "/options", "Save options; a sync or a re-derivation follows.",
              _model(Changes), {200: "Saved", 409: "Not connected",
                                422: "Invalid options; nothing saved"}),
    Operation("get", SETUP + "/sync", "The running or last sync's progress."),
    Operation("post", SETUP + "/sync", "Start a full sync.", None,
              {200: "Started", 409: "Not connected"}),
    Operation("get", SETUP + "/history", "Past syncs with links to the Temporal UI."),
    Operation("post", SETUP + "/disconnect", "Remove the key and the webhook endpoint; for "
              "Stripe Connect, revoke the platform's access and forget the account.", None,
              {200: "Disconnected", 409: "Stripe Connect is not configured; nothing changed",
               503: "Stripe could not be reached; nothing changed"}),
    Operation("get", SEGMENTS, "Every segment of the workspace."),
    Operation("post", SEGMENTS, "Save a segment.", _model(segments_api.SegmentIn),
              {201: "Created", 409: "Name taken", 422: "Invalid expression"}),
    Operation("post", SEGMENTS + "/check", "Check an expression without saving it.",
              _model(segments_api.ExpressionIn), {200: "Valid", 422: "Invalid expression"}),
    Operation("get", SEGMENTS + "/{segment_id}", "One segment."),
    Operation("patch", SEGMENTS + "/{segment_id}", "Rename it or change its expression.",
              _model(segments_api.SegmentPatch)),
    Operation("delete", SEGMENTS + "/{segment_id}", "Delete a segment.", None,
              {204: "Deleted", 404: "No such segment"}),
    Operation("get", SEGMENTS + "/{segment_id}/count", "How many subscribers are in it."),
    Operation("get", SEGMENTS + "/{segment_id}/members",
              "A page of its members (after, limit)."),
    Operation("get", RULES, "Every rule of the workspace."),
    Operation("post", RULES, "Add a rule.", RULE_DOCUMENT,
              {201: "Created", 409: "Name taken", 422: "Invalid rule; nothing saved"}),
    Operation("get", RULES + "/{rule_id}", "One rule."),
    Operation("put", RULES + "/{rule_id}", "Replace a rule with a whole document.",
              RULE_DOCUMENT, {200: "Replaced", 422: "Invalid rule; nothing saved"}),
    Operation("patch", RULES + "/{rule_id}", "Turn a rule on or off.",
              _model(automations_api.EnabledIn)),
    Operation("delete", RULES + "/{rule_id}", "Delete a rule.", None,
              {204: "Deleted", 404: "No such rule"}),
    Operation("get", AUTOMATIONS + "/webhook",
              "The host platform's webhook URL, and whether a secret is set."),
    Operation("put", AUTOMATIONS + "/webhook", "Set the webhook URL and secret (url null: "
              "stop sending).", _model(automations_api.WebhookIn),
              {200: "Saved", 422: "Invalid URL or secret; nothing saved"}),
    Operation("get", AUTOMATIONS + "/deliveries",
              "The newest webhook delivery attempts (limit, 1-500)."),
    Operation("get", explain_api.PATH, "How the subscriber's MRR, LTV and tags were derived, "
              "and what its recent transitions fired.", None,
              {200: "The explanation", 404: "No such subscriber"}),
    Operation("get", API_KEYS, "The workspace's API keys (never their secrets).", None,
              {200: "The keys"}, API_KEY_LIST, platform_only=True),
    Operation("post", API_KEYS, "Mint an API key of this workspace; its secret is answered "
              "once.", _model(credentials_api.ApiKeyIn), {201: "Created"}, API_KEY_CREATED,
              platform_only=True),
    Operation("delete", API_KEYS + "/{key_id}", "Revoke a key; it is refused from the next "
              "request on.", None, {200: "Revoked", 404: "No such key"}, API_KEY,
              platform_only=True),
    Operation("post", EMBED_SESSIONS, "A single-use link signing a browser in to this "
              "workspace's settings page only (docs/platform.md).",
              _model(credentials_api.EmbedSessionIn), {201: "Created"}, EMBED_LINK,
              platform_only=True),
    Operation("get", SUBSCRIBERS, "A page of subscribers in id order (after, limit 1-1000),"
              " optionally only a segment's.", None,
              {200: "The page", 422: "Bad cursor, limit or segment expression"},
              subscribers_schemas.PAGE, subscribers_schemas.LIST_PARAMETERS),
    Operation("post", SUBSCRIBERS, "Create or update one subscriber by email, derived from "
              "the mirror at once.", _model(subscribers_api.SubscriberIn),
              {200: "Updated or unchanged", 201: "Created", 409: "external_id taken",
               422: "Not an email address, or the body does not fit"},
              subscribers_schemas.WRITTEN),
    Operation("post", SUBSCRIBERS + "/batch", "Create or update up to 1,000 subscribers; a "
              "result per item.", _model(subscribers_api.BatchIn),
              {200: "A result per item (a stored one for a repeated Idempotency-Key)",
               422: "Over 1,000 items, a malformed body, or a key reused with another body"},
              subscribers_schemas.BATCH_RESULTS, subscribers_schemas.IDEMPOTENCY_PARAMETERS,
              MAX_BATCH_BODY),
    Operation("get", SUBSCRIBERS + "/schema", "The fields the subscribers API reads and "
              "writes, with the workspace's carried metadata keys.", None,
              {200: "The fields"}, subscribers_schemas.FIELDS),
    Operation("post", SUBSCRIBERS + "/events", "Record up to 1,000 opens and clicks, once per"
              " event_id.", _model(subscribers_api.EventsIn),
              {200: "A result per event"}, subscribers_schemas.EVENT_RESULTS, (),
              MAX_BATCH_BODY),
    Operation("get", feed_api.WORKSPACE_FEED, "The workspace's change feed, a page after a "
              "cursor (docs/platform.md).", None, feed_schemas.ANSWERS, feed_schemas.PAGE,
              feed_schemas.PARAMETERS),
    Operation("get", feed_api.PLATFORM_FEED, "Every workspace's change feed, in one order.",
              None, feed_schemas.ANSWERS, feed_schemas.PAGE, feed_schemas.PARAMETERS,
              platform_only=True),
    *(op for by in (SUBSCRIBERS + subscribers_api.BY_EMAIL,
                    SUBSCRIBERS + subscribers_api.BY_EXTERNAL_ID) for op in (
        Operation("get", by, "One subscriber's values.", None,
                  {200: "The subscriber", 404: "No such subscriber"},
                  subscribers_schemas.SUBSCRIBER),
        Operation("patch", by, "Change its email (re-matched to Stripe customers at once), "
                  "external_id or attributes (merged).", _model(subscribers_api.SubscriberPatch),
                  {200: "Updated or unchanged", 404: "No such subscriber",
                   409: "Email or external_id taken"}, subscribers_schemas.WRITTEN),
        Operation("delete", by, "Remove it, and stop its running sequences.", None,
                  {204: "Removed", 404: "No such subscriber"}),
        Operation("post", by + "/unsubscribe", "Mark it unsubscribed and stop its running "
                  "sequences.", None, {200: "Unsubscribed", 404: "No such subscriber"},
                  subscribers_schemas.UNSUBSCRIBED),
    )),
)

COMMON_ANSWERS = {401: "No, a wrong or a revoked credential",
                  404: "Unknown workspace, or a key of another workspace",
                  503: "No platform key configured"}
WRITE_ANSWERS = {403: "A read key (this needs a write key or the platform key)"}
PLATFORM_ANSWERS = {403: "A workspace API key (this needs the platform key)"}
STRING_PATH_IDS = ("external_id",)  # the host's own ids; every other *_id is a number


def body_answers(limit: int) -> dict[int, str]:
    return {400: "The body is not JSON", 413: f"The body is over {limit} bytes",
            422: "The body does not fit the schema; nothing saved"}


ERROR: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: a message, and for an invalid segment expression "
                   "where it stops (position, found, expected).",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message"],
        "properties": {"message": {"type": "string"}},
        "additionalProperties": True}},
}


SECURITY_SCHEMES: dict[str, Any] = {
    "platformKey": {"type": "http", "scheme": "bearer", "description":
                    "REVSYNC_PLATFORM_KEY: every workspace, every route; the only one that "
                    "mints API keys and embed links."},
    "workspaceKey": {"type": "http", "scheme": "bearer", "bearerFormat": "rsk_<prefix>_...",
                     "description": "An API key of the path's workspace: a read key may "
                     "GET only (else 403), a write key everything but credentials; on "
                     "another workspace's path it gets 404, as an unknown workspace does."},
}


def document() -> dict[str, Any]:
    """The OpenAPI document of every operation above."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "parameters": [*({"name": name, "in": "path", "required": True,
                              "schema": {"type": "integer" if name.endswith("_id")
                                         and name not in STRING_PATH_IDS else "string"}}
                             for name in _path_names(op.path)), *op.parameters],
            "responses": {str(code): _answer(code, text, op.result) for code, text in {
                **COMMON_ANSWERS, **(body_answers(op.limit) if op.body else {}),
                **_forbidden(op), **op.answers,
            }.items()},
        }
        if op.platform_only:
            entry["security"] = [{"platformKey": []}]
        if op.body is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": op.body}}}
        paths.setdefault(op.path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "revsync", "version": "0.1.0",
                 "description": "Stripe revenue sync: setup, segments, automation rules and "
                                "subscribers of a workspace, and the platform's credentials "
                                "for it. Every call needs the platform key or an API key of "
                                "the path's workspace (docs/platform.md)."},
        "components": {"securitySchemes": SECURITY_SCHEMES,
                       "schemas": {"Error": ERROR}},
        "security": [{"platformKey": []}, {"workspaceKey": []}],
        "paths": paths,
    }


def _forbidden(op: Operation) -> dict[int, str]:
    if op.platform_only:
        return PLATFORM_ANSWERS
    return {} if op.method == "get" else WRITE_ANSWERS


def _answer(code: int, text: str, result: dict[str, Any] | None) -> dict[str, Any]:
    if code < 400 and result is not None and code != 204:
        return {"description": text, "content": {"application/json": {"schema": result}}}
    if code < 400:
        return {"description": text}
    return {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
