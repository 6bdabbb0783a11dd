"""The change feed over HTTP: GET /api/workspaces/{workspace}/changes for one workspace
(its API keys or the platform key), GET /api/changes for every workspace (the platform
key only). Both page with `?after=<cursor>&limit=` (docs/platform.md, "The change feed").

Errors: 401/503 auth, 404 unknown workspace (or a workspace key on the platform's
feed), 410 a cursor older than the retention (`list` points at the subscriber list to
read again), 422 a malformed cursor or limit.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import anyio.to_thread
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revsync.feed import entries
from revsync.settings import Settings
from revsync.store import db
from revsync.web.auth import Handler, workspace_route
from revsync.web.errors import HttpError
from revsync.web.json_api import WorkspaceApi, in_workspace, int_param

WORKSPACE_FEED = "/api/workspaces/{workspace}/changes"
PLATFORM_FEED = "/api/changes"
DEFAULT_LIMIT = 100


class FeedApi(WorkspaceApi):
    base = "/api/workspaces/{workspace}"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.retention = timedelta(days=settings.feed_retention_days)

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("/changes", self.workspace_feed, ["GET"])]

    def routes(self) -> list[Route]:
        return [*super().routes(),
                workspace_route(self.settings, PLATFORM_FEED, self.platform_feed, ["GET"],
                                platform_only=True)]

    async def workspace_feed(self, request: Request) -> Response:
        after, limit = _paging(request)
        name = request.path_params["workspace"]

        def work(session: Session, workspace_id: int) -> Response:
            return self._page(session, after, limit, workspace_id,
                              f"/api/workspaces/{name}/subscribers")

        return await in_workspace(self.url, request, work)

    async def platform_feed(self, request: Request) -> Response:
        after, limit = _paging(request)

        def work() -> Response:
            with db.session(self.url) as session:
                return self._page(session, after, limit, None, "/api/workspaces/{workspace}"
                                  "/subscribers")

        return await anyio.to_thread.run_sync(work)

    def _page(self, session: Session, after: entries.Cursor | None, limit: int,
              workspace_id: int | None, list_path: str) -> Response:
        try:
            page = entries.read(session, after, limit, self.retention, workspace_id)
        except entries.Expired as expired:
            raise HttpError(410, f"{expired}; read the subscribers again from the list, "
                                 "then follow the feed from the start", list=list_path
                            ) from None
        return JSONResponse(answer(page))


def answer(page: entries.Page) -> dict[str, Any]:
    return {"changes": [asdict(change) for change in page.changes],
            "next": page.next.text(), "has_more": page.has_more}


def _paging(request: Request) -> tuple[entries.Cursor | None, int]:
    limit = int_param(request, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= entries.MAX_PAGE:
        raise HttpError(422, f"limit must be between 1 and {entries.MAX_PAGE}, not {limit}")
    try:
        return entries.parse_cursor(request.query_params.get("after")), limit
    except entries.BadCursor as bad:
        raise HttpError(422, str(bad)) from None
