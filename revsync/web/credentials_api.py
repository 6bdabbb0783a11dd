"""The platform's credential routes for one workspace (platform key only):

* /api/workspaces/{workspace}/api-keys: GET lists the keys (never a secret), POST mints
  one `{name, scope}` and answers its secret, once;
* /api/workspaces/{workspace}/api-keys/{key_id}: DELETE revokes it;
* /api/workspaces/{workspace}/embed-sessions: POST `{user}` answers a single-use link
  signing a browser in to that workspace's settings page, and when it expires.

`platform_only`: a workspace API key gets 403 here (404 on another workspace's), so a
key can never mint a wider or longer-lived credential than itself.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from revsync.credentials import api_keys, embed
from revsync.store.models import utcnow
from revsync.web.auth import Handler
from revsync.web.bodies import model_body
from revsync.web.errors import HttpError
from revsync.web.json_api import WorkspaceApi, in_workspace, path_id

BASE = "/api/workspaces/{workspace}"
API_KEYS = BASE + "/api-keys"
EMBED_SESSIONS = BASE + "/embed-sessions"


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=api_keys.MAX_NAME, pattern=r"\S")
    scope: Literal["read", "write"]


class EmbedSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=embed.MAX_USER, pattern=r"\S",
                      description="The platform's id or label of the user, kept with "
                                  "the session (never an email address is needed).")


def _refusal(problem: Exception) -> HttpError | None:
    if isinstance(problem, api_keys.UnknownApiKey):
        return HttpError(404, str(problem))
    if isinstance(problem, api_keys.ApiKeyError | embed.EmbedError):
        return HttpError(422, str(problem))
    return None


class CredentialsApi(WorkspaceApi):
    base = BASE
    platform_only = True

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("/api-keys", self.keys, ["GET", "POST"]),
                ("/api-keys/{key_id}", self.revoke, ["DELETE"]),
                ("/embed-sessions", self.embed_session, ["POST"])]

    async def keys(self, request: Request) -> Response:
        if request.method == "GET":
            return await in_workspace(self.url, request, lambda s, ws: JSONResponse(
                {"api_keys": [api_keys.public(k) for k in api_keys.listed(s, ws)]}))
        body = await model_body(request, ApiKeyIn)

        def mint(session: Session, workspace_id: int) -> Response:
            key, secret = api_keys.create(session, workspace_id, body.name, body.scope,
                                          utcnow())
            return JSONResponse({**api_keys.public(key), "secret": secret}, status_code=201)

        return await in_workspace(self.url, request, mint, _refusal)

    async def revoke(self, request: Request) -> Response:
        key_id = path_id(request, "key_id", "API key")
        return await in_workspace(self.url, request, lambda s, ws: JSONResponse(
            api_keys.public(api_keys.revoke(s, ws, key_id, utcnow()))), _refusal)

    async def embed_session(self, request: Request) -> Response:
        body = await model_body(request, EmbedSessionIn)
        name = request.path_params["workspace"]
        minutes = self.settings.embed_link_minutes

        def create(session: Session, workspace_id: int) -> Response:
            token, expires_at = embed.create_link(session, workspace_id, body.user, minutes,
                                                  utcnow())
            return JSONResponse({"url": f"/settings/{quote(name)}/embed?token={token}",
                                 "expires_at": expires_at.isoformat()}, status_code=201)

        return await in_workspace(self.url, request, create, _refusal)
