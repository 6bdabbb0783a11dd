"""The settings page in HTTP-level tests: a browser-like client, and reading its HTML."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import SecretStr
from temporalio.client import Client

from revsync.settings import Settings
from revsync.web.app import create_app


@asynccontextmanager
async def page_client(settings: Settings, client: Client,
                      platform_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app (cookies kept, like a browser) with this platform key set."""
    keyed = settings.model_copy(update={"platform_key": SecretStr(platform_key)})
    transport = httpx.ASGITransport(app=create_app(keyed, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:
        yield http


def csrf_of(html: str) -> str:
    """The CSRF token the page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
