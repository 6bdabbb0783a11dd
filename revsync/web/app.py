"""The HTTP app (Starlette) and how to serve it (uvicorn)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from temporalio.client import Client

from revsync.settings import Settings
from revsync.web import automations_api, explain_api, openapi, segments_api, setup_api
from revsync.web.connect_webhooks import ConnectWebhookEndpoint
from revsync.web.settings_page import SettingsPage, session_secret
from revsync.web.webhooks import WebhookEndpoint

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, client: Client, ui_base: str | None = None) -> Starlette:
    async def health(_request: object) -> Response:
        return JSONResponse({"ok": True})

    async def api_document(_request: object) -> Response:
        return JSONResponse(openapi.document())

    connect_webhooks = ConnectWebhookEndpoint(settings, client)
    app = Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route("/api/openapi.json", api_document, methods=["GET"]),
            # Before the per-workspace route: "connect" is not a workspace name.
            Route("/webhooks/stripe/connect", connect_webhooks.handle, methods=["POST"]),
            Route(
                "/webhooks/stripe/{workspace}",
                WebhookEndpoint(settings, client).handle,
                methods=["POST"],
            ),
            *segments_api.routes(settings),
            *automations_api.routes(settings),
            *explain_api.routes(settings),
            *setup_api.routes(settings, client, ui_base),
            *SettingsPage(settings, client, ui_base).routes(),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key=session_secret(settings),
                       session_cookie="revsync_session", same_site="strict",
                       https_only=False, max_age=8 * 3600),
        ],
    )
    app.state.connect_webhooks = connect_webhooks  # its count of unknown accounts
    return app
