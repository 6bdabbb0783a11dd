"""Injectable faults: latency, 429 rate limiting and 5xx errors, for retry tests."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import StripeError


@dataclass(frozen=True)
class FaultConfig:
    """What to inject into ``/v1`` requests (never into ``/_fake``).

    ``*_every = N`` fails every Nth API request; ``*_probability`` fails at random
    from ``seed``. Rate limiting is checked before server errors.
    """

    latency_ms: float = 0.0
    rate_limit_every: int = 0
    rate_limit_probability: float = 0.0
    retry_after: int = 1
    server_error_every: int = 0
    server_error_probability: float = 0.0
    server_error_status: int = 500
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


_FIELD_NAMES = frozenset(f.name for f in fields(FaultConfig))


@dataclass
class Faults:
    """The live fault settings plus the request counter and RNG they use."""

    config: FaultConfig = field(default_factory=FaultConfig)
    _count: int = 0
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, config: FaultConfig | None = None, **changes: Any) -> FaultConfig:
        """Replace or patch the settings; restarts the request counter and RNG."""
        unknown = set(changes) - _FIELD_NAMES
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        with self._lock:
            self.config = replace(config or self.config, **changes)
            self._count = 0
            self._rng = random.Random(self.config.seed)
            return self.config

    def reset(self) -> FaultConfig:
        """No faults."""
        return self.set(FaultConfig())

    def next_fault(self) -> StripeError | None:
        """Count one API request and return the error to answer with, if any."""
        with self._lock:
            cfg = self.config
            self._count += 1
            n = self._count
            if _hits(n, cfg.rate_limit_every, cfg.rate_limit_probability, self._rng):
                return StripeError(
                    429,
                    "Request rate limit exceeded. You can learn more about rate limits "
                    "here https://stripe.com/docs/rate-limits.",
                    code="rate_limit",
                    headers={
                        "Retry-After": str(cfg.retry_after),
                        "Stripe-Rate-Limited-Reason": "global-rate",
                    },
                )
            if _hits(n, cfg.server_error_every, cfg.server_error_probability, self._rng):
                return StripeError(
                    cfg.server_error_status,
                    "An unknown error occurred",
                    type="api_error",
                )
            return None


def _hits(n: int, every: int, probability: float, rng: random.Random) -> bool:
    if every > 0 and n % every == 0:
        return True
    return probability > 0 and rng.random() < probability
