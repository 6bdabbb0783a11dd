"""Reads for the setup step: a few requests for choices, a full listing for the dry run."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from revsync.gateway.stripe_api import STREAMS, StripeGateway
from revsync.revenue import Catalogue, CustomerFacts
from revsync.store.mirror import project

MAX_PRODUCT_PAGES = 10  # 1,000 products; a picker longer than that needs search


def products(gateway: StripeGateway) -> tuple[list[dict[str, Any]], int]:
    """Every product (active first), for the picker; usually one request."""
    listed, requests = product_objects(gateway)
    return picker(listed), requests


def product_objects(
    gateway: StripeGateway,
    requests_per_second: float | None = None,
    tick: Callable[[int], None] = lambda _: None,
) -> tuple[list[dict[str, Any]], int]:
    """Every product as Stripe lists it (up to MAX_PRODUCT_PAGES pages), paced when a
    rate is given."""
    pace = 0.0 if requests_per_second is None else 1.0 / requests_per_second
    return _list(gateway, "products", MAX_PRODUCT_PAGES, pace, tick)


def picker(listed: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Products as the picker lists them: id, name and whether active; active first, then
    by name."""
    chosen = [{"id": p["id"], "name": str(p.get("name") or p["id"]),
               "active": bool(p.get("active", True))} for p in listed]
    return sorted(chosen, key=lambda p: (not p["active"], p["name"].lower()))


def sample(gateway: StripeGateway) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """The newest 100 customers and 100 subscriptions: two requests."""
    customers, first = _list(gateway, "customers", 1)
    subscriptions, second = _list(gateway, "subscriptions", 1)
    return customers, subscriptions, first + second


def account(
    gateway: StripeGateway,
    with_invoices: bool,
    tick: Callable[[int], None] = lambda _: None,
    requests_per_second: float = 10.0,
) -> tuple[list[CustomerFacts], Catalogue, int]:
    """Every customer with its objects, held in memory (slim projections), paced."""
    pace = 1.0 / requests_per_second
    read: dict[str, list[dict[str, Any]]] = {}
    total = 0
    names = ["prices", "coupons", "customers", "subscriptions", "charges"]
    for name in [*names, "invoices"] if with_invoices else names:
        read[name], spent = _list(gateway, name, None, pace, tick)
        total += spent
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for name in ("subscriptions", "charges", "invoices"):
        for obj in read.get(name, []):
            customer = obj.get("customer")
            if isinstance(customer, str):
                grouped[name][customer].append(project(name, obj))
    facts = [
        CustomerFacts(project("customers", c), grouped["subscriptions"][c["id"]],
                      grouped["charges"][c["id"]], grouped["invoices"][c["id"]])
        for c in read["customers"]
    ]
    catalogue = Catalogue(prices={p["id"]: p for p in read["prices"]},
                          coupons={c["id"]: c for c in read["coupons"]})
    return facts, catalogue, total


def _list(
    gateway: StripeGateway,
    stream: str,
    max_pages: int | None,
    pace: float = 0.0,
    tick: Callable[[int], None] = lambda _: None,
) -> tuple[list[dict[str, Any]], int]:
    assert stream in STREAMS
    objects: list[dict[str, Any]] = []
    cursor, requests, pages = None, 0, 0
    while max_pages is None or pages < max_pages:
        started = time.monotonic()
        page = gateway.list_page(stream, cursor)
        objects += [o for o in page.objects if isinstance(o.get("id"), str)]
        requests += page.requests
        pages += 1
        tick(requests)
        if not page.has_more:
            break
        cursor = page.last_id
        time.sleep(max(0.0, pace - (time.monotonic() - started)))
    return objects, requests
