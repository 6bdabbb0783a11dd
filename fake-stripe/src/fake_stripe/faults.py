"""Injectable faults: latency, 429 rate limiting and 5xx errors, for retry tests."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import StripeError
from .rate_limits import GLOBAL_RATE, RateLimits


@dataclass(frozen=True)
class FaultConfig:
    """What to inject into ``/v1`` requests (never into ``/_fake``).

    The two faults are independent: each has its own counter and its own random stream
    (both from ``seed``). Rate limiting comes first, as at Stripe; a request it lets
    through is one the server-error fault counts. So ``rate_limit_every=10`` with
    ``server_error_every=10`` answers 429 to requests 10, 20, ... and 500 to every 10th
    request that got past the rate limit (11, 22, ...). ``*_every = N`` fails every Nth
    request a fault sees; ``*_probability`` fails each one at random.
    """

    latency_ms: float = 0.0
    rate_limit_every: int = 0
    rate_limit_probability: float = 0.0
    retry_after: int = 1
    server_error_every: int = 0
    server_error_probability: float = 0.0
    server_error_status: int = 500
    seed: int = 0
    # Stripe's limits, enforced (0: not): requests per second per account, and per
    # endpoint of an account; checked before the injected faults.
    account_rate_limit: float = 0.0
    endpoint_rate_limit: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


_FIELD_NAMES = frozenset(f.name for f in fields(FaultConfig))


@dataclass
class Faults:
    """The live fault settings plus the request counter and RNG they use."""

    config: FaultConfig = field(default_factory=FaultConfig)
    _rate_limit: _Stream = field(default_factory=lambda: _Stream(0))
    _server_error: _Stream = field(default_factory=lambda: _Stream(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    limits: RateLimits = field(default_factory=RateLimits)

    def set(self, config: FaultConfig | None = None, **changes: Any) -> FaultConfig:
        """Replace or patch the settings; restarts the request counter and RNG."""
        unknown = set(changes) - _FIELD_NAMES
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        with self._lock:
            self.config = replace(config or self.config, **changes)
            self._rate_limit = _Stream(self.config.seed * 2)
            self._server_error = _Stream(self.config.seed * 2 + 1)
            self.limits.set(self.config.account_rate_limit, self.config.endpoint_rate_limit)
            return self.config

    def reset(self) -> FaultConfig:
        """No faults."""
        return self.set(FaultConfig())

    def next_fault(self, account: str = "platform", endpoint: str = "") -> StripeError | None:
        """Count one API request of `account` to `endpoint`; the error to answer, if any."""
        reason = self.limits.refused(account, endpoint)
        if reason is not None:
            return _rate_limited(reason, self.config.retry_after)
        with self._lock:
            cfg = self.config
            if self._rate_limit.hits(cfg.rate_limit_every, cfg.rate_limit_probability):
                return _rate_limited(GLOBAL_RATE, cfg.retry_after)
            if self._server_error.hits(cfg.server_error_every, cfg.server_error_probability):
                return StripeError(
                    cfg.server_error_status,
                    "An unknown error occurred",
                    type="api_error",
                )
            return None


def _rate_limited(reason: str, retry_after: int) -> StripeError:
    return StripeError(
        429,
        "Request rate limit exceeded. You can learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        headers={"Retry-After": str(retry_after), "Stripe-Rate-Limited-Reason": reason},
    )


class _Stream:
    """One fault's own request counter and random numbers."""

    def __init__(self, seed: int) -> None:
        self.count = 0
        self.rng = random.Random(seed)

    def hits(self, every: int, probability: float) -> bool:
        """Count a request this fault sees; does it fail?"""
        self.count += 1
        if every > 0 and self.count % every == 0:
            return True
        return probability > 0 and self.rng.random() < probability
