"""The HTTP app (Starlette) and how to serve it (uvicorn)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from revsync.settings import Settings
from revsync.web.webhooks import WebhookEndpoint


def create_app(settings: Settings, client: Client) -> Starlette:
    async def health(_request: object) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route(
                "/webhooks/stripe/{workspace}",
                WebhookEndpoint(settings, client).handle,
                methods=["POST"],
            ),
        ]
    )
