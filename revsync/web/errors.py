"""The web layer's one error type and its one JSON shape.

Every route refuses a request by raising `HttpError`; the app's exception handler
(`answer`, registered in `revsync.web.app`) turns it into
`{"error": {"message": ..., <details>}}` with the error's status. The Stripe webhook
endpoints answer the same shape, so a failed delivery shows its reason in Stripe's
dashboard. Temporal being unreachable is a 503 in that shape wherever it surfaces.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.service import RPCError


class HttpError(Exception):
    """The request gets `status` and this message (plus `details`), and nothing else
    happens."""

    def __init__(self, status: int, message: str, *,
                 headers: Mapping[str, str] | None = None, **details: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.details = details


def response(error: HttpError) -> JSONResponse:
    return JSONResponse({"error": {"message": error.message, **error.details}},
                        status_code=error.status, headers=error.headers)


async def answer(_request: Request, problem: Exception) -> Response:
    """The exception handler for `HttpError`."""
    assert isinstance(problem, HttpError)
    return response(problem)


async def temporal_unreachable(_request: Request, problem: Exception) -> Response:
    """The exception handler for a Temporal call that failed (the client retries first)."""
    assert isinstance(problem, RPCError)
    return response(HttpError(503, f"Temporal is not reachable: {problem.status.name}"))
