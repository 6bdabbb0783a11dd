"""Who may show the app in a frame: `Content-Security-Policy: frame-ancestors ...` from
`REVSYNC_EMBED_FRAME_ANCESTORS` on every answer (default `'self'`), so the settings
page can sit in the host platform's UI and in nobody else's (no clickjacking)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revsync.settings import Settings


class FrameAncestors:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.policy = f"frame-ancestors {settings.embed_frame_ancestors.strip()}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = self.policy
            await send(message)

        await self.app(scope, receive, with_policy)
