"""Reading request bodies with a size limit, for every route that takes one."""

from __future__ import annotations

import re

from starlette.requests import Request

DECLARED_LENGTH = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() refuses '²'


class BodyTooLarge(Exception):
    """The body is (or says it is) larger than the route accepts."""


def declared_too_large(request: Request, limit: int) -> bool:
    declared = request.headers.get("content-length", "")
    return DECLARED_LENGTH.fullmatch(declared) is not None and int(declared) > limit


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes `limit` bytes, declared or streamed."""
    if declared_too_large(request, limit):
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
