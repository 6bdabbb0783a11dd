"""Signed webhooks to the host email platform: the body, the signature, one POST.

The platform registers one URL and one secret per workspace. Each delivery is a JSON
body naming the workspace, the subscriber (by id), the rule and its trigger, and the
subscriber's values before and after the transition; headers:

- `Revsync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
  secret>`, the scheme Stripe uses for its own webhooks, so a receiver checks it the same
  way (and refuses old timestamps against replays);
- `Idempotency-Key`: the same for every attempt of one delivery (rule, subscriber,
  transition, step), so a receiver that saw it already can ignore a retry.

No email address is sent: the platform knows its subscribers by id. Where the POST may
go, and how long it may take, is `revsync.egress`'s to decide.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any

import orjson

from revsync import egress
from revsync.settings import Settings

SIGNATURE_HEADER = "Revsync-Signature"
TOLERANCE_SECONDS = 300


def body(*, delivery_id: str, workspace: str, subscriber_id: int, rule_id: int, rule_name: str,
         trigger: dict[str, Any], transition_id: int, created: int,
         before: dict[str, Any], after: dict[str, Any]) -> bytes:
    """The delivery's JSON body (money as decimal strings)."""
    return orjson.dumps({
        "id": delivery_id, "type": "revsync.rule.fired", "created": created,
        "workspace": workspace, "subscriber_id": subscriber_id,
        "rule": {"id": rule_id, "name": rule_name, "trigger": trigger},
        "transition_id": transition_id, "before": before, "after": after,
    }, default=_decimal)


def values(mrr: Decimal | None, ltv: Decimal | None, tags: list[str] | None
           ) -> dict[str, Any]:
    return {"mrr": _money(mrr), "ltv": _money(ltv), "tags": tags}


def signature(secret: str, payload: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, payload: bytes, now: int | None = None) -> bool:
    """What a receiver does: the header's timestamp is recent and one v1 matches."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t" and v.isdigit()]
    if len(stamps) != 1:
        return False
    timestamp = int(stamps[0])
    if abs((now or int(time.time())) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, payload, timestamp).split("v1=", 1)[1]
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


def post(settings: Settings, url: str, secret: str, key: str, payload: bytes
         ) -> egress.Answer:
    """One attempt, under the deployment's egress policy; never raises for the receiver's
    failures, only reports them."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key,
               SIGNATURE_HEADER: signature(secret, payload, int(time.time())),
               "User-Agent": "revsync-webhooks"}
    return egress.post(egress.Policy.of(settings), url, headers, payload,
                       seconds=settings.outbound_timeout_seconds)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")
