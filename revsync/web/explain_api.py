"""GET /api/workspaces/{workspace}/subscribers/{subscriber_id}/explain (admin token): the
same explanation as `starter.py explain`, as JSON (money as decimal strings, exact
fractions as "numerator/denominator")."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revsync.explain import report
from revsync.settings import Settings
from revsync.store.models import Subscriber
from revsync.web.auth import admin_only, error
from revsync.web.json_api import answering_bad_requests, in_workspace, path_id

PATH = "/api/workspaces/{workspace}/subscribers/{subscriber_id}/explain"


def routes(settings: Settings) -> list[Route]:
    url = settings.resolved_database_url

    async def explain(request: Request) -> Response:
        subscriber_id = path_id(request, "subscriber_id", "subscriber")

        def work(session: Session, workspace_id: int) -> Response:
            subscriber = session.get(Subscriber, subscriber_id)
            if subscriber is None or subscriber.workspace_id != workspace_id:
                return error(404, f"no subscriber with id {subscriber_id} in this workspace")
            return JSONResponse(report.report(session, subscriber))

        return await in_workspace(url, request, work, lambda _: None)

    return [Route(PATH, admin_only(settings, answering_bad_requests(explain)),
                  methods=["GET"])]
