"""What the workspace-scoped JSON APIs share: their routes (the platform key or a key
of the path's workspace, by `revsync.web.auth`'s rule), the workspace named in the path,
numeric ids in the path, and running the database work in a thread with a session.

An unknown (or malformed) workspace name and an id that is not a number are 404s, the
same answer as an id of another workspace, so the API never says which exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import anyio.to_thread
from sqlmodel import Session
from starlette.requests import Request
from starlette.routing import Route

from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.web.auth import Handler, workspace_route
from revsync.web.errors import HttpError

MAX_ID = 2**31 - 1

T = TypeVar("T")
Work = Callable[[Session, int], T]
Errors = Callable[[Exception], HttpError | None]  # the refusal, or None: not the route's


class WorkspaceApi:
    """One resource's handlers under `base`; `table` lists (path, handler, methods).

    Every route it builds is guarded by `auth.workspace_route`, so a subclass gets the
    credential rule (whose workspace, read or write by method) without saying anything;
    `platform_only` routes refuse workspace keys altogether."""

    base: str
    platform_only = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url

    def table(self) -> Sequence[tuple[str, Handler, list[str]]]:
        raise NotImplementedError

    def routes(self) -> list[Route]:
        return [workspace_route(self.settings, self.base + path, handler, methods,
                                self.platform_only)
                for path, handler, methods in self.table()]


def workspace_named(session: Session, name: str) -> Workspace:
    """The workspace, else a 404."""
    if not workspaces.valid_name(name):
        raise HttpError(404, "unknown workspace")
    try:
        return workspaces.by_name(session, name)
    except workspaces.WorkspaceError:
        raise HttpError(404, "unknown workspace") from None


def path_id(request: Request, param: str, what: str) -> int:
    """A numeric id from the path; anything else is a 404 naming `what`."""
    raw = request.path_params[param]
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        raise HttpError(404, f"no {what} with id {raw!r} in this workspace")
    return int(raw)


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter (a cursor, a limit), else a 422 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise HttpError(422, f"{name} must be an integer, not {raw!r}")
    return int(raw)


async def in_workspace(url: str, request: Request, work: Work[T],
                       errors: Errors = lambda _: None, locked: bool = False) -> T:
    """Run `work(session, workspace_id)` in a thread for the path's workspace; `errors`
    turns the route's own exceptions into refusals. `locked`: a `db.locked_session`,
    for work that derives subscribers."""
    name = request.path_params["workspace"]
    return await anyio.to_thread.run_sync(_in_thread, url, name, work, errors, locked)


def _in_thread(url: str, name: str, work: Work[T], errors: Errors, locked: bool) -> T:
    with (db.locked_session(url) if locked else db.session(url)) as session:
        workspace = workspace_named(session, name)
        assert workspace.id is not None
        try:
            return work(session, workspace.id)
        except Exception as problem:
            refusal = errors(problem)
            if refusal is None:
                raise
            raise refusal from None
