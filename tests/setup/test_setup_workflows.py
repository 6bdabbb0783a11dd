"""The dry run lists Stripe and writes nothing; re-derivation applies an option change
from the mirror without a Stripe request. Real workflows, fake Stripe, both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal as D

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from revsync.setup.dry_run import DryRunReport
from revsync.setup.types import DryRunInput, RederiveInput
from revsync.store import db
from revsync.store.models import MIRROR_TABLES, SyncRun, Workspace
from revsync.sync.types import DeriveCounts
from tests.helpers.e2e import KEY, connect_workspace, import_emails, state, sync
from tests.helpers.stripe_objects import charge, customer, monthly

pytestmark = pytest.mark.usefixtures("workers")


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    s = FakeStripe(api_keys=[KEY])
    price = monthly(s, 2000)
    ann, dan = customer(s, "ann@x.io"), customer(s, "dan@x.io")
    s.put("subscription", {"customer": ann, "status": "active", "items": {"data": [
        {"price": price}]}})
    charge(s, ann, 2000)
    s.put("subscription", {"customer": dan, "status": "trialing", "items": {"data": [
        {"price": price}]}})  # a trial, never paid
    s.put("subscription", {"customer": customer(s, "cat@x.io"), "status": "incomplete",
                           "items": {"data": [{"price": price}]}})  # abandoned checkout
    with FakeStripeServer(s) as server:
        yield server


def rows(settings: Settings) -> int:
    models: list[type[SQLModel]] = [*MIRROR_TABLES.values(), SyncRun]
    with db.session(settings.resolved_database_url) as session:
        return sum(int(session.exec(select(func.count()).select_from(m)).one()) for m in models)


async def test_the_dry_run_counts_without_writing(client: Client, settings: Settings,
                                                  fake: FakeStripeServer) -> None:
    workspace = connect_workspace(settings, f"dry-{uuid.uuid4().hex[:6]}")
    import_emails(settings, workspace, ["ann@x.io", "dan@x.io", "cat@x.io"])
    assert workspace.id is not None
    report = await client.execute_workflow(
        "StripeDryRun", DryRunInput(workspace.id, [], True, settings.stripe_task_queue),
        id=f"dry/{workspace.id}", task_queue=settings.task_queue, result_type=DryRunReport)
    # With the toggle on: ann (paid) and dan (trial) would sync and match; cat is an
    # abandoned checkout.
    assert report == DryRunReport(customers=3, would_sync=2, abandoned_checkouts=1,
                                  no_payment_trials=1, matching_subscribers=2, unmatched=0,
                                  per_product={})
    assert rows(settings) == 0


async def test_an_option_change_is_applied_from_the_mirror(client: Client, settings: Settings,
                                                           fake: FakeStripeServer) -> None:
    workspace = connect_workspace(settings, f"re-{uuid.uuid4().hex[:6]}")
    import_emails(settings, workspace, ["ann@x.io", "dan@x.io"])
    await sync(client, settings, workspace)
    assert state(settings, workspace)["dan@x.io"][:3] == (None, None, [])
    with db.session(settings.resolved_database_url) as session:
        row = session.get(Workspace, workspace.id)
        assert row is not None
        row.sync_without_payment = True
        session.add(row)
        session.commit()
    fake.state.log.clear()
    assert workspace.id is not None
    counts = await client.execute_workflow(
        "StripeRederive", RederiveInput(workspace.id), id=f"re/{workspace.id}",
        task_queue=settings.task_queue, result_type=DeriveCounts)
    assert (counts.subscribers_seen, counts.subscribers_changed) == (2, 1)
    # dan's $20/month trial now counts: MRR 20.00, no payment so no LTV (0.00).
    assert state(settings, workspace)["dan@x.io"][:3] == (D("20.00"), D("0.00"),
                                                         ["saas.monthly", "trial"])
    assert fake.state.log.entries() == []
