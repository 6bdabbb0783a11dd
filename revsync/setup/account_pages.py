"""The dry run over a whole Stripe account, one page of customers at a time.

A customer's subscriptions, charges and paid invoices come from streams of their own,
listed across the account, so they cannot be matched to a page of customers as they
arrive. Each listed page is put, as the mirror's slim projections, into a private
temporary SQLite file (`sqlite3.connect("")`: on disk, deleted when closed); then the
customers are listed page by page, each page's objects read back from that file, and
counted. Matches come from one query of the workspace's subscribers per page of
customers, and "distinct subscribers matched" from a table in the same file.

What stays in memory: one Stripe page, one page of customers with their objects, the
price and coupon catalogue (the size of the merchant's catalogue, not of its customers),
the counts, and at most `CACHE_KIB` of SQLite cache. The account itself goes to disk,
about its projected JSON's size, for the length of the activity.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import orjson
from sqlmodel import col, select

from revsync.gateway.stripe_api import StripeGateway
from revsync.revenue import Catalogue, CustomerFacts, RevenuePolicy, normalize_email
from revsync.setup import reading
from revsync.setup.dry_run import DryRunReport, Tally
from revsync.store import db
from revsync.store.mirror import project
from revsync.store.models import Subscriber

CACHE_KIB = 2048
OWNED = ("subscriptions", "charges", "invoices")  # streams whose objects name a customer


def dry_run_account(
    gateway: StripeGateway,
    database_url: str,
    workspace_id: int,
    policy: RevenuePolicy,
    tick: Callable[[int], None] = lambda _: None,
    requests_per_second: float = 10.0,
) -> DryRunReport:
    """What a sync with `policy` would do, read from Stripe; writes nothing."""
    pace = 1.0 / requests_per_second

    def listed(stream: str) -> Iterator[list[dict[str, Any]]]:
        return (page for page, _ in reading.pages(gateway, stream, pace, tick))

    with closing(sqlite3.connect("")) as spill:
        spill.executescript(f"""
            PRAGMA cache_size = -{CACHE_KIB};
            CREATE TABLE owned (customer TEXT NOT NULL, stream TEXT NOT NULL, data BLOB);
            CREATE INDEX owned_customer ON owned (customer);
            CREATE TABLE matched (email TEXT PRIMARY KEY);
        """)
        catalogue = Catalogue(prices=_by_id(listed("prices")),
                              coupons=_by_id(listed("coupons")))
        for stream in OWNED if policy.products else OWNED[:2]:
            for page in listed(stream):
                spill.executemany("INSERT INTO owned VALUES (?, ?, ?)", [
                    (o["customer"], stream, orjson.dumps(project(stream, o)))
                    for o in page if isinstance(o.get("customer"), str)])

        def first_match(email: str) -> bool:
            return spill.execute("INSERT OR IGNORE INTO matched VALUES (?)",
                                 (email,)).rowcount == 1

        tally = Tally(policy, catalogue, first_match)
        for page in listed("customers"):
            facts = _facts(spill, [project("customers", c) for c in page])
            tally.add(facts, _subscribers(database_url, workspace_id, facts).__contains__)
        return tally.report


def _facts(spill: sqlite3.Connection, customers: list[dict[str, Any]]) -> list[CustomerFacts]:
    """The page's customers, each with its objects from the spill."""
    owned: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    ids = [c["id"] for c in customers]
    marks = ",".join("?" * len(ids))
    for customer, stream, data in spill.execute(
            f"SELECT customer, stream, data FROM owned WHERE customer IN ({marks})", ids):
        owned[customer][stream].append(orjson.loads(data))
    return [CustomerFacts(c, *(owned[c["id"]][stream] for stream in OWNED))
            for c in customers]


def _subscribers(database_url: str, workspace_id: int, facts: list[CustomerFacts]) -> set[str]:
    """The normalized emails among the page's customers' that are subscribers'."""
    emails = {e for f in facts if (e := normalize_email(f.customer.get("email")))}
    if not emails:
        return set()
    with db.session(database_url) as session:
        return set(session.exec(select(Subscriber.email_norm).where(
            Subscriber.workspace_id == workspace_id, col(Subscriber.email_norm).in_(emails))))


def _by_id(pages: Iterator[list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for page in pages for o in page}
