"""Stripe's webhook signature, computed the way Stripe does so SDK verification passes."""

from __future__ import annotations

import hashlib
import hmac


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload``: ``t=<ts>,v1=<hex HMAC>``.

    The HMAC-SHA256 key is the whole ``whsec_...`` secret and the message is
    ``"<timestamp>.<raw body>"``, exactly what ``stripe.WebhookSignature`` checks.
    """
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
