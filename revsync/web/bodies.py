"""Reading request bodies: one reader with a size limit per route kind.

Webhooks take up to `Settings.webhook_max_body_bytes` (Stripe's events are large and the
limit is an operator's choice); the JSON API takes up to `MAX_JSON_BODY` (its batch
routes `MAX_BATCH_BODY`); the settings
page's forms up to `MAX_FORM`. A body over its limit is a 413, refused as soon as the
declared length or the bytes streamed so far pass it. A JSON API body that is not JSON
(an empty one included: every body the API takes is required) is a 400; JSON that does
not fit the route's model is a 422.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from revsync.web.errors import HttpError

MAX_JSON_BODY = 64 * 1024
# The subscriber batch routes: 1,000 items of up to an address, an external id and a
# few attributes each do not fit in `MAX_JSON_BODY`.
MAX_BATCH_BODY = 1024 * 1024
MAX_FORM = 64 * 1024
DECLARED_LENGTH = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() refuses '²'
M = TypeVar("M", bound=BaseModel)


def declared_too_large(request: Request, limit: int) -> bool:
    declared = request.headers.get("content-length", "")
    return DECLARED_LENGTH.fullmatch(declared) is not None and int(declared) > limit


def too_large(limit: int) -> HttpError:
    return HttpError(413, f"body larger than {limit} bytes")


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) as soon as it passes `limit` bytes, declared or
    streamed."""
    if declared_too_large(request, limit):
        raise too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise HttpError(400, "client disconnected") from None
    return b"".join(chunks)


async def json_body(request: Request, limit: int = MAX_JSON_BODY) -> Any:
    """The body as JSON (any JSON value), within `limit` (`MAX_JSON_BODY` but for the
    batch routes)."""
    raw = await read_limited(request, limit)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpError(400, "the body is not JSON") from None


async def model_body(request: Request, model: type[M], limit: int = MAX_JSON_BODY) -> M:
    """The body validated by `model`; every problem is listed in one 422."""
    try:
        return model.model_validate(await json_body(request, limit))
    except ValidationError as problem:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                            for e in problem.errors())
        raise HttpError(422, details) from None
