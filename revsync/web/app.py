"""The HTTP app (Starlette) and how to serve it (uvicorn).

Every group of routes is a class holding what its handlers need, whose `routes()` the
app lists; a handler refuses a request by raising `errors.HttpError`, answered by the
exception handler registered here.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from temporalio.client import Client
from temporalio.service import RPCError

from revsync.settings import Settings
from revsync.web import errors, openapi
from revsync.web.automations_api import RulesApi
from revsync.web.connect_webhooks import ConnectWebhookEndpoint
from revsync.web.credentials_api import CredentialsApi
from revsync.web.embed_page import EmbedSignIn
from revsync.web.explain_api import ExplainApi
from revsync.web.feed_api import FeedApi
from revsync.web.framing import FrameAncestors
from revsync.web.page_access import LiveSessions
from revsync.web.segments_api import SegmentsApi
from revsync.web.sessions import SessionCookies
from revsync.web.settings_page import SettingsPage
from revsync.web.setup_api import SetupApi
from revsync.web.subscribers_api import SubscribersApi
from revsync.web.throttle import SignInThrottle
from revsync.web.webhooks import WebhookEndpoint

STATIC = Path(__file__).parent / "static"


async def health(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def api_document(_request: Request) -> Response:
    return JSONResponse(openapi.document())


def create_app(settings: Settings, client: Client, ui_base: str | None = None) -> Starlette:
    connect_webhooks = ConnectWebhookEndpoint(settings, client)
    app = Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route("/api/openapi.json", api_document, methods=["GET"]),
            # Before the per-workspace route: "connect" is not a workspace name.
            *connect_webhooks.routes(),
            *WebhookEndpoint(settings, client).routes(),
            *SegmentsApi(settings).routes(),
            *RulesApi(settings).routes(),
            *SubscribersApi(settings, client).routes(),
            *FeedApi(settings).routes(),
            *ExplainApi(settings).routes(),
            *CredentialsApi(settings).routes(),
            *SetupApi(settings, client, ui_base).routes(),
            *EmbedSignIn(settings).routes(),
            *SettingsPage(settings, client, ui_base).routes(),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(FrameAncestors, settings=settings),
            Middleware(SessionCookies, settings=settings),
            Middleware(LiveSessions, url=settings.resolved_database_url),
        ],
        exception_handlers={errors.HttpError: errors.answer,
                            RPCError: errors.temporal_unreachable},
    )
    app.state.connect_webhooks = connect_webhooks  # its count of unknown accounts
    app.state.sign_ins = SignInThrottle(settings)  # failed sign-ins, per client address
    return app
