"""Workspaces: creation, connection options, and the objects built from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from sqlmodel import Session, select

from revsync.gateway.stripe_api import StripeGateway
from revsync.revenue import RevenuePolicy
from revsync.revenue.money import check_fx_rate
from revsync.settings import Settings
from revsync.store import db, keystore
from revsync.store.models import Workspace

# Names appear in URLs (the webhook endpoint) and workflow ids.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class WorkspaceError(Exception):
    """A workspace is missing or not connected to Stripe."""


# Paths of their own under /webhooks/stripe/, so never a workspace's name.
RESERVED_NAMES = frozenset({"connect"})
NAME_RULE = ("workspace names are 1-100 letters, digits, '_', '.', '-' (first a letter or "
             "digit), and not 'connect'")


def valid_name(name: str) -> bool:
    return NAME_PATTERN.fullmatch(name) is not None and name.lower() not in RESERVED_NAMES


def get_or_create(session: Session, name: str) -> Workspace:
    workspace = session.exec(select(Workspace).where(Workspace.name == name)).first()
    if workspace is None:
        if not valid_name(name):
            raise WorkspaceError(f"{NAME_RULE}, not {name!r}")
        workspace = Workspace(name=name)
        session.add(workspace)
        session.commit()
        session.refresh(workspace)
    return workspace


def by_name(session: Session, name: str) -> Workspace:
    workspace = session.exec(select(Workspace).where(Workspace.name == name)).first()
    if workspace is None:
        raise WorkspaceError(f"no workspace named {name!r}; run `connect` first")
    return workspace


def by_id(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise WorkspaceError(f"workspace {workspace_id} does not exist")
    return workspace


def policy(workspace: Workspace) -> RevenuePolicy:
    """The workspace's revenue policy; a malformed FX rate is a configuration error."""
    rates: dict[str, Decimal] = {}
    for currency, rate in workspace.fx_rates.items():
        try:
            rates[currency.lower()] = check_fx_rate(currency, rate)
        except ValueError as error:
            raise WorkspaceError(str(error)) from None
    return RevenuePolicy(
        reporting_currency=workspace.reporting_currency,
        fx_rates=rates,
        mrr_statuses=frozenset(workspace.mrr_statuses),
        products=frozenset(workspace.products),
        sync_without_payment=workspace.sync_without_payment,
        metadata_keys=tuple(workspace.metadata_keys),
    )


# A Stripe Connect workspace has no key of its own: it is read with the platform's key,
# taken from the settings when a request is made, so the one key is never copied into
# rows (and rolling it needs nothing stored changed). Its `stripe_key_encrypted` holds
# this empty value, encrypted, so a non-empty key column means connected for both kinds.
CONNECT_KEY = ""


def gateway(settings: Settings, workspace: Workspace) -> StripeGateway:
    """A Stripe client for the workspace: its own key (decrypted only here, in
    activities), or for a Connect workspace the platform's key and its account."""
    if not workspace.stripe_key_encrypted:
        raise WorkspaceError(f"workspace {workspace.name!r} is not connected to Stripe")
    if workspace.stripe_account is None:
        api_key = keystore.decrypt(settings, workspace.stripe_key_encrypted)
    elif settings.stripe_platform_key is None:
        raise WorkspaceError(f"workspace {workspace.name!r} is connected through Stripe "
                             "Connect: set REVSYNC_STRIPE_PLATFORM_KEY, the platform's key")
    else:
        api_key = settings.stripe_platform_key.get_secret_value()
    return StripeGateway(
        api_key=api_key,
        api_base=settings.stripe_api_base,
        stripe_account=workspace.stripe_account,
        max_retries=settings.stripe_max_retries,
    )


def create_once(database_url: str, workspace_name: str, flag: str,
                create: Callable[[Session, int], int]) -> int:
    """Run `create` (which adds a workspace's default rows and returns how many) unless
    the workspace's `flag` says it ran before, then set the flag; returns how many were
    created. Runs under the workspace row's lock (SQLite: the write lock), so two
    concurrent connects cannot both create them; a default the user deleted later is
    never created again."""
    with db.locked_session(database_url) as session:
        workspace = session.exec(select(Workspace).where(Workspace.name == workspace_name)
                                 .with_for_update()).one()
        assert workspace.id is not None
        if getattr(workspace, flag):
            return 0
        created = create(session, workspace.id)
        setattr(workspace, flag, True)
        session.add(workspace)
        session.commit()
    return created
