"""The segments JSON API under /api/workspaces/{workspace}/segments (platform key or a
key of the workspace).

Database work runs in a worker thread with its own session; every lookup is scoped
to the workspace named in the path, so another workspace's segment id is a 404.
Errors: 400 unreadable body, 401/503 auth, 404 unknown workspace or segment, 409
duplicate name or one segment more than a workspace may have, 413 body too large, 422
invalid input (bad expressions carry `position`, `found` and `expected`) or a segment
the database stopped at the time limit.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from revsync.segments import store
from revsync.segments.errors import SegmentError
from revsync.segments.limits import SegmentTooSlow
from revsync.segments.parser import parse
from revsync.segments.store import Member
from revsync.store.models import Segment
from revsync.web.auth import Handler
from revsync.web.bodies import model_body
from revsync.web.errors import HttpError
from revsync.web.json_api import Work, WorkspaceApi, in_workspace, int_param, path_id

BASE = "/api/workspaces/{workspace}/segments"


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    expression: str


class SegmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    expression: str | None = None


class ExpressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expression: str


class SegmentsApi(WorkspaceApi):
    base = BASE

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("", self.list_or_create, ["GET", "POST"]),
                ("/check", self.check, ["POST"]),
                ("/{segment_id}", self.one, ["GET", "PATCH", "DELETE"]),
                ("/{segment_id}/count", self.count, ["GET"]),
                ("/{segment_id}/members", self.members, ["GET"])]

    async def list_or_create(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._run(request, lambda s, ws: JSONResponse(
                {"segments": [_segment(x) for x in store.list_segments(s, ws)]}))
        body = await model_body(request, SegmentIn)
        return await self._run(request, lambda s, ws: JSONResponse(
            _segment(store.create(s, ws, body.name, body.expression,
                                  cap=self.settings.max_segments_per_workspace)),
            status_code=201))

    async def check(self, request: Request) -> Response:
        body = await model_body(request, ExpressionIn)

        def work(_session: Session, _workspace_id: int) -> Response:
            parse(body.expression)
            return JSONResponse({"ok": True})

        return await self._run(request, work)

    async def one(self, request: Request) -> Response:
        segment_id = _segment_id(request)
        if request.method == "GET":
            return await self._run(request, lambda s, ws: JSONResponse(
                _segment(store.get(s, ws, segment_id))))
        if request.method == "DELETE":
            def delete(session: Session, workspace_id: int) -> Response:
                store.delete(session, workspace_id, segment_id)
                return Response(status_code=204)

            return await self._run(request, delete)
        body = await model_body(request, SegmentPatch)
        return await self._run(request, lambda s, ws: JSONResponse(_segment(store.edit(
            s, ws, segment_id, name=body.name, expression=body.expression))))

    async def count(self, request: Request) -> Response:
        segment_id = _segment_id(request)
        return await self._run(request, lambda s, ws: JSONResponse(
            {"count": store.count(s, ws, segment_id)}))

    async def members(self, request: Request) -> Response:
        segment_id = _segment_id(request)
        after = int_param(request, "after", 0)
        limit = int_param(request, "limit", store.DEFAULT_PAGE)

        def work(session: Session, workspace_id: int) -> Response:
            page = store.members(session, workspace_id, segment_id, after=after, limit=limit)
            return JSONResponse({"members": [_member(m) for m in page.members],
                                 "next_after": page.next_after})

        return await self._run(request, work)

    async def _run(self, request: Request, work: Work[Response]) -> Response:
        return await in_workspace(self.url, request, work, _errors)


def segment_refusal(problem: Exception) -> HttpError | None:
    """Any route that runs a segment answers so: a bad (or too costly) expression is a
    422 with where it stops; one the database stopped at the time limit is a 422 too,
    not a 5xx, since a retry would only run it as long again."""
    if isinstance(problem, SegmentError):
        return HttpError(422, str(problem), position=problem.position, found=problem.found,
                         expected=problem.expected)
    if isinstance(problem, SegmentTooSlow):
        return HttpError(422, str(problem), seconds=problem.seconds)
    return None


def _errors(problem: Exception) -> HttpError | None:
    if (refusal := segment_refusal(problem)) is not None:
        return refusal
    if isinstance(problem, store.SegmentNotFound):
        return HttpError(404, str(problem))
    if isinstance(problem, store.DuplicateSegmentName | store.TooManySegments):
        return HttpError(409, str(problem))
    if isinstance(problem, store.SegmentStoreError):
        return HttpError(422, str(problem))
    return None


def _segment_id(request: Request) -> int:
    return path_id(request, "segment_id", "segment")


def _segment(segment: Segment) -> dict[str, Any]:
    return {"id": segment.id, "name": segment.name, "expression": segment.expression,
            "default_key": segment.default_key, "created_at": segment.created_at.isoformat(),
            "updated_at": segment.updated_at.isoformat()}


def _member(member: Member) -> dict[str, Any]:
    return {"id": member.id, "email": member.email, "mrr": _money(member.mrr),
            "ltv": _money(member.ltv), "tags": member.tags}


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"
