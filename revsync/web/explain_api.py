"""GET /api/workspaces/{workspace}/subscribers/{subscriber_id}/explain (platform key or
a key of the workspace): the same explanation as `starter.py explain`, as JSON (money as
decimal strings, exact fractions as "numerator/denominator")."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from revsync.explain import report
from revsync.store.models import Subscriber
from revsync.web.auth import Handler
from revsync.web.errors import HttpError
from revsync.web.json_api import WorkspaceApi, in_workspace, path_id

PATH = "/api/workspaces/{workspace}/subscribers/{subscriber_id}/explain"


class ExplainApi(WorkspaceApi):
    base = PATH

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("", self.explain, ["GET"])]

    async def explain(self, request: Request) -> Response:
        subscriber_id = path_id(request, "subscriber_id", "subscriber")

        def work(session: Session, workspace_id: int) -> Response:
            subscriber = session.get(Subscriber, subscriber_id)
            if subscriber is None or subscriber.workspace_id != workspace_id:
                raise HttpError(404, f"no subscriber with id {subscriber_id} in this workspace")
            return JSONResponse(report.report(session, subscriber))

        return await in_workspace(self.url, request, work)
