"""What the workspace-scoped JSON APIs share: reading bodies, path ids, and running the
database work in a thread with a session scoped to the workspace named in the path.

Errors: 400 unreadable body, 404 unknown workspace (or id), 413 body too large, 422 a
body that does not fit the route's model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import orjson
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from revsync.store import db, workspaces
from revsync.web.auth import Handler, error
from revsync.web.bodies import BodyTooLarge, read_limited

MAX_BODY = 64 * 1024
MAX_ID = 2**31 - 1

Work = Callable[[Session, int], Response]
Errors = Callable[[Exception], Response | None]  # an error response, or None: not ours
M = TypeVar("M", bound=BaseModel)


class BadRequest(Exception):
    """Raised while reading the request; carries the error response to send."""

    def __init__(self, response: Response) -> None:
        self.response = response


def answering_bad_requests(handler: Handler) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as problem:
            return problem.response

    return handle


async def json_body(request: Request) -> Any:
    """The body as JSON (any JSON value), within `MAX_BODY`."""
    try:
        raw = await read_limited(request, MAX_BODY)
    except BodyTooLarge:
        raise BadRequest(error(413, f"body larger than {MAX_BODY} bytes")) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(error(400, "the body is not JSON")) from None


async def model_body(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(await json_body(request))
    except ValidationError as problem:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                            for e in problem.errors())
        raise BadRequest(error(422, details)) from None


def path_id(request: Request, param: str, what: str) -> int:
    """A numeric id from the path; anything else is a 404 naming `what`."""
    raw = request.path_params[param]
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        raise BadRequest(error(404, f"no {what} with id {raw!r} in this workspace"))
    return int(raw)


async def in_workspace(url: str, request: Request, work: Work, errors: Errors) -> Response:
    """Run `work(session, workspace_id)` in a thread for the path's workspace; `errors`
    turns the route's own exceptions into responses."""
    name = request.path_params["workspace"]
    return await anyio.to_thread.run_sync(_in_thread, url, name, work, errors)


def _in_thread(url: str, name: str, work: Work, errors: Errors) -> Response:
    if not workspaces.valid_name(name):
        return error(404, "unknown workspace")
    with db.session(url) as session:
        try:
            workspace = workspaces.by_name(session, name)
        except workspaces.WorkspaceError:
            return error(404, "unknown workspace")
        assert workspace.id is not None
        try:
            return work(session, workspace.id)
        except Exception as problem:
            answer = errors(problem)
            if answer is None:
                raise
            return answer
