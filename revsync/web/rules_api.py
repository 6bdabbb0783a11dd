"""The workspace rules JSON API under /api/workspaces/{workspace}/automations/rules
(admin token only).

    GET    /rules            every rule of the workspace
    POST   /rules            a new rule (the whole document); 201 with its id
    GET    /rules/{id}       one rule
    PUT    /rules/{id}       replace it with a whole document
    PATCH  /rules/{id}       {"enabled": true|false}
    DELETE /rules/{id}       204

A rule that does not validate is a 422 listing every problem (nothing is saved); 409 a
name the workspace already uses; 404 an id of another workspace.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revsync.automations import rule_store
from revsync.automations.definitions import DefinitionError
from revsync.settings import Settings
from revsync.web.auth import Handler, admin_only, error
from revsync.web.json_api import (
    answering_bad_requests,
    in_workspace,
    json_body,
    model_body,
    path_id,
)

BASE = "/api/workspaces/{workspace}/automations/rules"


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    enabled: bool


def routes(settings: Settings) -> list[Route]:
    api = RulesApi(settings)

    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(BASE + path, admin_only(settings, answering_bad_requests(handler)),
                     methods=methods)

    return [route("", api.list_or_create, ["GET", "POST"]),
            route("/{rule_id}", api.one, ["GET", "PUT", "PATCH", "DELETE"])]


class RulesApi:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url

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

    async def _run(self, request: Request, work: Any) -> Response:
        return await in_workspace(self.url, request, work, _errors)


def _shown(row: Any) -> Response:
    return JSONResponse(rule_store.shown(row))


def _errors(problem: Exception) -> Response | None:
    if isinstance(problem, rule_store.RuleNotFound):
        return error(404, str(problem))
    if isinstance(problem, rule_store.DuplicateRuleName):
        return error(409, str(problem))
    if isinstance(problem, DefinitionError | rule_store.RuleStoreError):
        return error(422, str(problem))
    return None
