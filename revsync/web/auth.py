"""Who may call a workspace's JSON API (/api/workspaces/{workspace}/...): the one rule,
applied by method to every route `json_api.WorkspaceApi` builds.

A request carries `Authorization: Bearer <credential>`, either the platform key (every
workspace, everything) or an API key of one workspace (`revsync.credentials.api_keys`):

* no or a wrong credential, or a revoked key: 401;
* a key of another workspace: 404, the answer an unknown workspace gets, so a key never
  tells which other workspaces exist;
* a `read` key on anything but GET (or HEAD): 403;
* a key on a platform-only route (minting keys and embed links): 403.

Closed by default: without `REVSYNC_PLATFORM_KEY` every route answers 503, never
serves. Keys are looked up on every request (no cache), so a revocation holds at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revsync.credentials import api_keys
from revsync.credentials.secrets_hash import is_platform_key, looks_like_api_key
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import utcnow
from revsync.web.errors import HttpError

Handler = Callable[[Request], Awaitable[Response]]
READING = frozenset({"GET", "HEAD"})
UNKNOWN_WORKSPACE = "unknown workspace"


@dataclass(frozen=True)
class Caller:
    """Who made the request: the platform (workspace None) or one workspace's key."""

    workspace: str | None
    scope: str  # write for the platform
    key_id: int | None = None


PLATFORM = Caller(None, api_keys.WRITE)


def unauthorized(message: str) -> HttpError:
    return HttpError(401, message, headers={"WWW-Authenticate": "Bearer"})


async def caller(settings: Settings, request: Request) -> Caller:
    """Who the request's bearer credential is, else the refusal (503 or 401)."""
    if settings.platform_key is None:
        raise HttpError(503, "platform key not configured (set REVSYNC_PLATFORM_KEY)")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() == "bearer" and is_platform_key(settings, presented):
        return PLATFORM
    if scheme.lower() == "bearer" and looks_like_api_key(presented):
        holder = await anyio.to_thread.run_sync(_holder, settings.resolved_database_url,
                                                presented)
        if holder is not None and holder.revoked:
            raise unauthorized("this API key has been revoked")
        if holder is not None:
            return Caller(holder.workspace, holder.scope, holder.key_id)
    raise unauthorized("missing or wrong credentials (Authorization: Bearer <platform key "
                       "or workspace API key>)")


def _holder(url: str, presented: str) -> api_keys.Holder | None:
    with db.session(url) as session:
        return api_keys.holder(session, presented, utcnow())


def permit(who: Caller, request: Request, platform_only: bool) -> None:
    """Refuse what `who` may not do on this route of the path's workspace."""
    if who.workspace is None:
        return
    if who.workspace != request.path_params.get("workspace"):
        raise HttpError(404, UNKNOWN_WORKSPACE)
    if platform_only:
        raise HttpError(403, "this needs the platform key; a workspace API key cannot "
                             "manage credentials")
    if who.scope != api_keys.WRITE and request.method not in READING:
        raise HttpError(403, f"this API key may only read (scope {who.scope!r}); "
                             f"{request.method} needs a write key")


def workspace_route(settings: Settings, path: str, handler: Handler, methods: list[str],
                    platform_only: bool = False) -> Route:
    """A route of the path's workspace, run only for a caller `permit` lets through;
    the handler finds the caller in `request.state.caller`."""
    async def guarded(request: Request) -> Response:
        who = await caller(settings, request)
        permit(who, request, platform_only)
        request.state.caller = who
        return await handler(request)

    return Route(path, guarded, methods=methods)
