"""The automations JSON API under /api/workspaces/{workspace}/automations (platform key
or a key of the workspace): the workspace's rules, its webhook to the host platform, and
the deliveries.

    GET    /rules            every rule of the workspace
    POST   /rules            a new rule (the whole document); 201 with its id
    GET    /rules/{id}       one rule
    PUT    /rules/{id}       replace it with a whole document
    PATCH  /rules/{id}       {"enabled": true|false}
    DELETE /rules/{id}       204
    GET    /webhook          the host platform's URL, and whether a secret is set
    PUT    /webhook          {"url": ..., "secret": ...}, or {"url": null} to stop
    GET    /deliveries       the newest webhook attempts (?limit=, at most 500)

A rule that does not validate is a 422 listing every problem (nothing is saved); 409 a
name the workspace already uses, or one rule more than a workspace may have; 404 an id
of another workspace.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from revsync.automations import outbound_store, rule_store
from revsync.automations.definitions import DefinitionError
from revsync.store.models import OutboundDelivery
from revsync.web.auth import Handler
from revsync.web.bodies import json_body, model_body
from revsync.web.errors import HttpError
from revsync.web.json_api import Work, WorkspaceApi, in_workspace, path_id

AUTOMATIONS = "/api/workspaces/{workspace}/automations"
BASE = AUTOMATIONS + "/rules"


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    enabled: bool


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str | None
    secret: str | None = None


class RulesApi(WorkspaceApi):
    base = AUTOMATIONS

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("/rules", self.list_or_create, ["GET", "POST"]),
                ("/rules/{rule_id}", self.one, ["GET", "PUT", "PATCH", "DELETE"]),
                ("/webhook", self.webhook, ["GET", "PUT"]),
                ("/deliveries", self.deliveries, ["GET"])]

    async def list_or_create(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._run(request, lambda s, ws: JSONResponse(
                {"rules": [rule_store.shown(r) for r in rule_store.list_rules(s, ws)]}))
        doc = await json_body(request)
        return await self._run(request, lambda s, ws: JSONResponse(
            rule_store.shown(rule_store.create(self.settings, s, ws, doc)), status_code=201))

    async def one(self, request: Request) -> Response:
        rule_id = path_id(request, "rule_id", "rule")
        if request.method == "GET":
            return await self._run(request, lambda s, ws: _shown(rule_store.get(s, ws, rule_id)))
        if request.method == "DELETE":
            def delete(session: Session, workspace_id: int) -> Response:
                rule_store.delete(session, workspace_id, rule_id)
                return Response(status_code=204)

            return await self._run(request, delete)
        if request.method == "PATCH":
            enabled = (await model_body(request, EnabledIn)).enabled
            return await self._run(request, lambda s, ws: _shown(
                rule_store.set_enabled(s, ws, rule_id, enabled)))
        doc = await json_body(request)
        return await self._run(request, lambda s, ws: _shown(
            rule_store.replace(self.settings, s, ws, rule_id, doc)))

    async def webhook(self, request: Request) -> Response:
        if request.method == "PUT":
            body = await model_body(request, WebhookIn)

            def save(session: Session, workspace_id: int) -> Response:
                outbound_store.configure(self.settings, session, workspace_id, body.url,
                                         body.secret)
                return self._webhook_shown(session, workspace_id)

            return await self._run(request, save)
        return await self._run(request, self._webhook_shown)

    def _webhook_shown(self, session: Session, workspace_id: int) -> Response:
        target = outbound_store.target(self.settings, session, workspace_id)
        return JSONResponse({"url": target.url if target else None,
                             "secret_set": target is not None})

    async def deliveries(self, request: Request) -> Response:
        raw = request.query_params.get("limit", "50")
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 500:
            raise HttpError(422, f"limit is a whole number from 1 to 500, not {raw!r}")
        return await self._run(request, lambda s, ws: JSONResponse({"deliveries": [
            delivery_shown(d) for d in outbound_store.deliveries(s, ws, int(raw))]}))

    async def _run(self, request: Request, work: Work[Response]) -> Response:
        return await in_workspace(self.url, request, work, _errors)


def _shown(row: Any) -> Response:
    return JSONResponse(rule_store.shown(row))


def delivery_shown(d: OutboundDelivery) -> dict[str, Any]:
    return {"id": d.id, "key": d.key, "rule_id": d.rule_id, "subscriber_id": d.subscriber_id,
            "transition_id": d.transition_id, "attempt": d.attempt,
            "status_code": d.status_code, "error": d.error, "delivered": d.delivered,
            "at": d.created_at.isoformat()}


def _errors(problem: Exception) -> HttpError | None:
    if isinstance(problem, rule_store.RuleNotFound):
        return HttpError(404, str(problem))
    if isinstance(problem, rule_store.DuplicateRuleName | rule_store.TooManyRules):
        return HttpError(409, str(problem))
    if isinstance(problem, DefinitionError | rule_store.RuleStoreError
                  | outbound_store.OutboundError):
        return HttpError(422, str(problem))
    return None
