"""Stripe webhook signatures: the SDK's check, plus what it leaves out.

`stripe.WebhookSignature.verify_header` checks the HMAC of the raw body against
every `v1=` in the header and rejects old timestamps; it accepts timestamps from the
future, which would let a captured request be replayed later, so that is refused
here. Several secrets are tried in turn while one is being rotated.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

import stripe

TOLERANCE_SECONDS = 300
MAX_HEADER_LENGTH = 4096
NO_MATCH = "no signature matches the expected signature for the payload"


class SignatureError(ValueError):
    """The request is not signed by Stripe with one of the workspace's secrets."""


def verify(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Return the signed timestamp, or raise `SignatureError` saying what is wrong."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError("Stripe-Signature header is too long")
    if not secrets:
        raise SignatureError("no webhook signing secret is configured for this workspace")
    try:
        body.decode("utf-8")  # Stripe signs the text; other bytes cannot be its body
    except UnicodeDecodeError:
        raise SignatureError("body is not UTF-8 text") from None
    timestamp = _timestamp(header)
    current = time.time() if now is None else now
    if timestamp > current + tolerance:
        raise SignatureError("timestamp is in the future, outside the tolerance zone")
    if timestamp < current - tolerance:
        raise SignatureError("timestamp is outside the tolerance zone")
    for secret in secrets:
        try:
            # Tolerance is checked above against `now`; the SDK would use the wall clock.
            stripe.WebhookSignature.verify_header(body, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        return timestamp
    raise SignatureError(NO_MATCH)


def _timestamp(header: str) -> int:
    values = [part.split("=", 1) for part in header.split(",")]
    stamps = [v[1] for v in values if len(v) == 2 and v[0].strip() == "t"]
    # ASCII digits only: str.isdigit() accepts '²', which int() then refuses.
    if len(stamps) != 1 or not re.fullmatch(r"[0-9]{1,12}", stamps[0].strip()):
        raise SignatureError("Stripe-Signature header has no valid timestamp (t=...)")
    if not any(len(v) == 2 and v[0].strip() == "v1" for v in values):
        raise SignatureError("Stripe-Signature header has no v1 signature")
    return int(stamps[0])
