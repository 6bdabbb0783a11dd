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

    def body(self, request_id: str | None = None, now: int = 0) -> dict[str, Any]:
        """The ``{"error": {...}}`` body Stripe sends; ``request_log_url`` points at the
        dashboard log of the request (``request_id``) at ``now``, as Stripe's does."""
        error: dict[str, Any] = {"type": self.type, "message": self.message, "code": self.code}
        if self.code is not None:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        if request_id is not None:
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t={now}"
            )
        return {"error": error}

    def response_headers(self) -> dict[str, str]:
        """The error's own headers plus ``Stripe-Should-Retry``, which the SDKs obey
        before their status rules: Stripe says "true" where the same request can
        succeed later (a 5xx, a ``lock_timeout``) and "false" where only a changed
        request can (validation, auth, missing objects). A plain ``rate_limit`` 429
        carries none, so the SDK's own rule (never retry it) decides, as with Stripe."""
        headers = dict(self.headers)
        if self.status >= 500 or self.code == "lock_timeout":
            headers.setdefault("Stripe-Should-Retry", "true")
        elif self.status != 429:
            headers.setdefault("Stripe-Should-Retry", "false")
        return headers


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


#: Stripe's page size bounds for every list (``limit``).
MIN_LIMIT, MAX_LIMIT = 1, 100


def check_limit(limit: int) -> int:
    """``limit`` if Stripe accepts it, else Stripe's 400 (its two messages, verbatim)."""
    if limit < MIN_LIMIT:
        message = f"This value must be greater than or equal to {MIN_LIMIT}."
    elif limit > MAX_LIMIT:
        message = (f"This value must be less than or equal to {MAX_LIMIT} "
                   f"(it currently is '{limit}').")
    else:
        return limit
    raise invalid_param("limit", message, code="parameter_invalid_integer")
