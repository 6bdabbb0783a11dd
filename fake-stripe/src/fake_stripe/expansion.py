"""Which ``expand[]`` paths a request may ask for, checked the way Stripe checks them.

Stripe refuses a path deeper than four levels before it looks at what the path names,
and a list's own ``data.`` counts as a level: ``data.items.data.price`` is allowed on
``GET /v1/subscriptions`` but ``data.items.data.price.product`` is not, while
``items.data.price.product`` is fine on a retrieve. Syncs trip over exactly this, so the
fake refuses the same paths with the same code and message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from .errors import StripeError

MAX_EXPAND_DEPTH: Final = 4


def expand_paths(allowed: frozenset[str], expand: Iterable[str], *, prefix: str) -> frozenset[str]:
    """The requested paths without ``prefix`` (``"data."`` for lists), or Stripe's 400."""
    paths = set()
    for i, path in enumerate(expand):
        if path.count(".") + 1 > MAX_EXPAND_DEPTH:
            raise StripeError(
                400,
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. "
                f"Property: {path}",
                code="property_expansion_max_depth",
            )
        inner = path[len(prefix):] if path.startswith(prefix) else None
        if inner is None or inner not in allowed:
            raise StripeError(400, f"This property cannot be expanded ({path}).",
                              param=f"expand[{i}]")
        paths.add(inner)
    return frozenset(paths)
