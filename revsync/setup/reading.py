"""Reads for the setup step: a few requests for choices, paced pages for the dry run."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from revsync.gateway.stripe_api import STREAMS, StripeGateway

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


def _list(gateway: StripeGateway, stream: str, max_pages: int, pace: float = 0.0,
          tick: Callable[[int], None] = lambda _: None) -> tuple[list[dict[str, Any]], int]:
    listed = list(itertools.islice(pages(gateway, stream, pace, tick), max_pages))
    return [o for page, _ in listed for o in page], listed[-1][1]


def pages(
    gateway: StripeGateway,
    stream: str,
    pace: float = 0.0,
    tick: Callable[[int], None] = lambda _: None,
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Each page's objects (those with an id) and the requests sent so far, one request
    per `pace` seconds at most."""
    assert stream in STREAMS
    cursor, requests = None, 0
    while True:
        started = time.monotonic()
        page = gateway.list_page(stream, cursor)
        requests += page.requests
        tick(requests)
        yield [o for o in page.objects if isinstance(o.get("id"), str)], requests
        if not page.has_more:
            return
        cursor = page.last_id
        time.sleep(max(0.0, pace - (time.monotonic() - started)))
