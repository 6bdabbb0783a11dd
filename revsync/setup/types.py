"""Inputs and results of the setup workflows: ids, options and counts only."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DryRunInput:
    workspace_id: int
    products: list[str] = field(default_factory=list)
    sync_without_payment: bool = False
    stripe_task_queue: str = "revsync-stripe"


@dataclass
class RederiveInput:
    """Derive every subscriber again from the mirror (options changed, no new data)."""

    workspace_id: int
    now: int = 0


@dataclass
class RefreshInput:
    """Read the product list from Stripe into the mirror (the settings page's picker)."""

    workspace_id: int
    stripe_task_queue: str = "revsync-stripe"
