"""The dry run counts an account page by page: what it holds in memory does not grow with
the account (tracemalloc's peak for a ten times larger account), and its report is the
one the same objects give all at once."""

from __future__ import annotations

import tracemalloc
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import select

from fake_stripe import FakeStripe, FakeStripeServer, generate_account, subscriber_emails
from revsync.gateway.stripe_api import StripeGateway
from revsync.revenue import Catalogue, CustomerFacts, RevenuePolicy, normalize_email
from revsync.setup import reading
from revsync.setup.account_pages import dry_run_account
from revsync.setup.dry_run import DryRunReport, dry_run
from revsync.store import db, workspaces
from revsync.store.mirror import project
from revsync.store.models import Subscriber
from tests.helpers.e2e import KEY

POLICY = RevenuePolicy()


@pytest.fixture
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: the dry run's memory is the question, not the database's."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dry') / 'revsync.sqlite'}"
    db.migrate(url)
    return url


def account_of(state: FakeStripe, url: str, name: str, customers: int) -> int:
    """Load a generated account into the fake and its subscribers into a workspace."""
    account = generate_account(customers, seed=customers)
    state.load(account)
    with db.session(url) as session:
        workspace = workspaces.get_or_create(session, name)
        session.execute(insert(Subscriber), [
            {"workspace_id": workspace.id, "email": email, "email_norm": normalize_email(email),
             "attributes": {}, "stripe_metadata": {}, "stripe_customer_ids": []}
            for email in {normalize_email(e): e for e in subscriber_emails(account)}.values()])
        session.commit()
        assert workspace.id is not None
        return workspace.id


def held_at_once(gateway: StripeGateway, url: str, workspace_id: int) -> DryRunReport:
    """The report of the whole account at hand, as the dry run used to count it."""
    listed = {stream: [o for page, _ in reading.pages(gateway, stream) for o in page]
              for stream in ("prices", "coupons", "customers", "subscriptions", "charges")}
    owned: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for stream in ("subscriptions", "charges"):
        for obj in listed[stream]:
            owned[str(obj.get("customer"))][stream].append(project(stream, obj))
    facts = [CustomerFacts(project("customers", c), owned[c["id"]]["subscriptions"],
                           owned[c["id"]]["charges"]) for c in listed["customers"]]
    catalogue = Catalogue(prices={p["id"]: p for p in listed["prices"]},
                          coupons={c["id"]: c for c in listed["coupons"]})
    with db.session(url) as session:
        emails = set(session.exec(select(Subscriber.email_norm).where(
            Subscriber.workspace_id == workspace_id)))
    return dry_run(facts, POLICY, catalogue, emails)


def peak(gateway: StripeGateway, url: str, workspace_id: int) -> tuple[DryRunReport, int]:
    tracemalloc.start()
    try:
        report = dry_run_account(gateway, url, workspace_id, POLICY, requests_per_second=1e6)
        return report, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def counted(url: str, name: str, customers: int) -> tuple[DryRunReport, int]:
    """The dry run of a generated account of this size: its report, and the peak."""
    state = FakeStripe(api_keys=[KEY])
    with FakeStripeServer(state) as server:
        workspace_id = account_of(state, url, name, customers)
        gateway = StripeGateway(KEY, api_base=server.base_url)
        report, most = peak(gateway, url, workspace_id)
        assert report == held_at_once(gateway, url, workspace_id)
    assert report.customers == customers and report.matching_subscribers > customers // 2
    return report, most


def test_memory_does_not_grow_with_the_account(database_url: str) -> None:
    _, small = counted(database_url, "small", 150)
    _, large = counted(database_url, "large", 1500)
    # Ten times the customers (and their subscriptions and charges); about the same peak.
    assert large < small * 1.5, (small, large)
