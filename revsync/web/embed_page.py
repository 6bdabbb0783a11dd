"""GET /settings/{workspace}/embed?token=...: the browser opening an embed link
(minted by the platform through `revsync.web.credentials_api`) is signed in to that one
workspace's settings page, then sent to it.

Whatever the link, the browser's previous session ends first: a link hands the browser
to the link's user, so a stale link must not leave someone else signed in. A link used
before, expired, unknown or of another workspace signs nobody in and answers one 401
page. The answer is never cached and sends no referrer, the token being in its URL.
Failed links count toward the address's sign-in throttle (`revsync.web.throttle`).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from revsync.credentials import embed
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import utcnow
from revsync.web import page_access, throttle
from revsync.web.settings_page import CLOSED

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
REFUSED = ("This sign-in link has been used, has expired or is not valid. "
           "Open the settings again from your platform to get a new one.")


class EmbedSignIn:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url

    def routes(self) -> list[Route]:
        return [Route("/settings/{workspace}/embed", self.open, methods=["GET"])]

    async def open(self, request: Request) -> Response:
        if self.settings.platform_key is None:
            return Response(CLOSED, 503, headers=PRIVATE)
        name = request.path_params["workspace"]
        await page_access.sign_out(request, self.url)
        throttle.of(request).check(request, PRIVATE)
        user = await anyio.to_thread.run_sync(self._consume, name,
                                              request.query_params.get("token", ""))
        if user is None:
            throttle.of(request).failed(request)
            return Response(REFUSED, 401, headers=PRIVATE)
        throttle.of(request).succeeded(request)
        await page_access.sign_in(request, self.url, name, user)
        return RedirectResponse(f"/settings/{name}", 303, headers=PRIVATE)

    def _consume(self, name: str, token: str) -> str | None:
        if not token or not workspaces.valid_name(name):
            return None
        with db.session(self.url) as session:
            try:
                workspace = workspaces.by_name(session, name)
            except workspaces.WorkspaceError:
                return None
            assert workspace.id is not None
            return embed.consume(session, workspace.id, token, utcnow())
