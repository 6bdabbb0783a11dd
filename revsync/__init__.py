"""Stripe revenue sync for Temporal: MRR, LTV and status tags on email subscribers.

For your own workers:

    from revsync import RevenueSyncPlugin, Settings

Both are imported on first use, so that importing a submodule (as Temporal's workflow
sandbox does) does not load the whole product.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from revsync.settings import Settings
    from revsync.temporal.plugin import RevenueSyncPlugin

__all__ = ["RevenueSyncPlugin", "Settings"]


def __getattr__(name: str) -> Any:
    if name == "RevenueSyncPlugin":
        from revsync.temporal.plugin import RevenueSyncPlugin

        return RevenueSyncPlugin
    if name == "Settings":
        from revsync.settings import Settings

        return Settings
    raise AttributeError(f"module 'revsync' has no attribute {name!r}")
