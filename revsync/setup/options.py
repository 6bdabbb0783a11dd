"""Changing a connected workspace's options: validate all, save all, say what to run.

Nothing is half-saved: every value is checked (product ids against the account's
products) before the row changes. Whether the change needs Stripe data the mirror
lacks decides between a full sync and a re-derivation from the mirror.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlmodel import Session

from revsync.settings import Settings
from revsync.setup import reading
from revsync.setup.connection import product_ids
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.sync import runs

SYNC, REDERIVE, NOTHING = "sync", "rederive", "nothing"
# Subscription statuses a workspace may count in MRR. The default is active + trialing;
# Stripe Billing's own MRR counts active + past_due. Ended and never-started statuses
# (canceled, incomplete, incomplete_expired) bill nothing, so they cannot be chosen.
MRR_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused")


class OptionsError(ValueError):
    """The options cannot be saved; the message lists every problem."""


class Changes(BaseModel):
    """The setup page's fields; None leaves a field as it is."""

    products: list[str] | None = None
    sync_without_payment: bool | None = None
    watch_products: list[str] | None = None
    metadata_keys: list[str] | None = Field(default=None, max_length=50)
    mrr_statuses: list[str] | None = None

    @field_validator("products", "watch_products")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        return product_ids(value)

    @field_validator("metadata_keys")
    @classmethod
    def _keys(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [k for k in value if not k.strip() or len(k) > 40]
        if bad:
            raise ValueError(f"metadata keys are 1-40 characters: {bad}")
        return list(dict.fromkeys(k.strip() for k in value))

    @field_validator("mrr_statuses")
    @classmethod
    def _statuses(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        chosen = {s.strip().lower() for s in value}
        unknown = sorted(chosen - set(MRR_STATUSES))
        if unknown:
            raise ValueError(f"MRR counts statuses among {', '.join(MRR_STATUSES)}; "
                             f"not {', '.join(unknown)}")
        if not chosen:
            raise ValueError("MRR counts at least one subscription status")
        return [s for s in MRR_STATUSES if s in chosen]


@dataclass(frozen=True)
class Saved:
    next_step: str  # sync | rederive | nothing
    removed_from_watch: list[str]  # watched products dropped because no longer synced


def parse(values: dict[str, object]) -> Changes:
    try:
        return Changes.model_validate(values)
    except ValidationError as error:
        raise OptionsError("; ".join(_message(e) for e in error.errors())) from None


def save_checked(settings: Settings, workspace_name: str, changes: Changes) -> Saved:
    """`save`, with the product ids checked against the account (one list request, made
    only when the change names products)."""
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, workspace_name)
    known: set[str] = set()
    if changes.products:
        known = {p["id"] for p in reading.products(workspaces.gateway(settings, workspace))[0]}
    return save(settings.resolved_database_url, workspace_name, changes, known)


def save(url: str, workspace_name: str, changes: Changes, known_products: set[str]) -> Saved:
    """Validate against the account's products, then store every change at once."""
    with db.session(url) as session:
        workspace = workspaces.by_name(session, workspace_name)
        products = workspace.products if changes.products is None else changes.products
        unknown = sorted(set(changes.products or []) - known_products)
        if unknown:
            raise OptionsError(f"unknown product ids: {', '.join(unknown)}")
        watch = workspace.watch_products if changes.watch_products is None else (
            changes.watch_products)
        outside = sorted(set(changes.watch_products or []) - set(products))
        if outside:
            raise OptionsError(
                f"products to watch must be synced products; not synced: {', '.join(outside)}")
        removed = sorted(set(watch) - set(products))
        before = (list(workspace.products), workspace.sync_without_payment,
                  list(workspace.metadata_keys), sorted(workspace.mrr_statuses))
        workspace.products = list(products)
        workspace.watch_products = sorted(set(watch) & set(products))
        if changes.sync_without_payment is not None:
            workspace.sync_without_payment = changes.sync_without_payment
        if changes.metadata_keys is not None:
            workspace.metadata_keys = changes.metadata_keys
        if changes.mrr_statuses is not None:
            workspace.mrr_statuses = changes.mrr_statuses
        after = (list(workspace.products), workspace.sync_without_payment,
                 list(workspace.metadata_keys), sorted(workspace.mrr_statuses))
        step = _next_step(session, workspace, before, after)
        session.add(workspace)
        session.commit()
    return Saved(step, removed)


def _next_step(session: Session, workspace: Workspace, before: tuple[object, ...],
               after: tuple[object, ...]) -> str:
    """A sync when the mirror lacks data (never synced, or paid invoices newly needed)."""
    assert workspace.id is not None
    if not runs.completed_before(session, workspace.id):
        return SYNC
    if before == after:
        return NOTHING
    products_before = before[0]
    if not products_before and workspace.products:
        return SYNC  # invoices are only listed when products are selected
    return REDERIVE


def _message(error: object) -> str:
    assert isinstance(error, dict)
    where = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))
