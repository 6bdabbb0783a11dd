"""Stripe's error responses, raised anywhere in the fake and rendered by the app."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An API error with Stripe's JSON shape; the SDK maps status + type to its classes."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` body Stripe sends."""
        error: dict[str, Any] = {"type": self.type, "message": self.message, "code": self.code}
        if self.code is not None:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def resource_missing(object_type: str, object_id: str, *, status: int = 404,
                     param: str = "id") -> StripeError:
    """Stripe's answer for an id that does not exist."""
    return StripeError(
        status,
        f"No such {object_type}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def invalid_param(param: str, message: str, code: str = "parameter_invalid") -> StripeError:
    """A 400 for one bad request parameter."""
    return StripeError(400, message, code=code, param=param)
