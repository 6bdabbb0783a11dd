"""Every served object carries exactly the keys of Stripe's own example object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from fake_stripe import FakeStripeServer
from fake_stripe.fixtures import fixture_keys
from fake_stripe.testing import stripe_client

LISTS: dict[str, dict[str, Any]] = {
    "customers": {},
    "subscriptions": {"status": "all", "expand": ["data.discounts", "data.items.data.discounts"]},
    "charges": {},
    "invoices": {},
    "prices": {},
    "products": {},
    "coupons": {},
    "refunds": {},
}
TYPES = {
    "customers": "customer",
    "subscriptions": "subscription",
    "charges": "charge",
    "invoices": "invoice",
    "prices": "price",
    "products": "product",
    "coupons": "coupon",
    "refunds": "refund",
    "events": "event",
}


def walk(client: stripe.StripeClient, collection: str, params: dict[str, Any]) -> Iterator[Any]:
    """Every object of a list, page by page, as plain dicts."""
    service = getattr(client.v1, collection)
    cursor = None
    while True:
        page = service.list(params={**params, "limit": 100,
                                    **({"starting_after": cursor} if cursor else {})})
        for obj in page.data:
            yield obj.to_dict()
        if not page.has_more:
            return
        cursor = page.data[-1].id


def assert_keys(obj: dict[str, Any], object_type: str, extra: frozenset[str] = frozenset()) -> None:
    assert set(obj) == fixture_keys(object_type) | extra, (object_type, obj.get("id"))


def check_subscription(sub: dict[str, Any], *, expanded: bool) -> None:
    assert_keys(sub, "subscription")
    # Stripe sends total_count on embedded items (its OpenAPI example object omits it).
    assert set(sub["items"]) == {"data", "has_more", "object", "total_count", "url"}
    assert sub["items"]["data"], sub["id"]
    for item in sub["items"]["data"]:
        assert_keys(item, "subscription_item")
        assert_keys(item["price"], "price")
        assert_keys(item["plan"], "plan")
        assert item["current_period_start"] < item["current_period_end"]
        for discount in item["discounts"]:
            if expanded:
                assert_keys(discount, "discount")
                assert isinstance(discount["source"]["coupon"], str)
            else:
                assert discount.startswith("di_")
    for discount in sub["discounts"]:
        if expanded:
            assert_keys(discount, "discount")
            assert discount["subscription"] == sub["id"]
        else:
            assert discount.startswith("di_")


@pytest.mark.parametrize("collection", sorted(LISTS))
def test_every_listed_object_has_fixture_keys(client: stripe.StripeClient, collection: str) -> None:
    seen = 0
    for obj in walk(client, collection, LISTS[collection]):
        seen += 1
        object_type = TYPES[collection]
        if object_type == "subscription":
            check_subscription(obj, expanded=True)
        else:
            assert_keys(obj, object_type)
        if object_type == "customer" and obj["discount"] is not None:
            assert_keys(obj["discount"], "discount")
        if object_type == "charge":
            for refund in obj["refunds"]["data"]:
                assert_keys(refund, "refund")
        if object_type == "invoice":
            for line in obj["lines"]["data"]:
                assert_keys(line, "line_item")
        if object_type == "price":
            assert "tiers" not in obj
    assert seen > 0


def test_unexpanded_subscriptions_list_discount_ids(client: stripe.StripeClient) -> None:
    subs = list(walk(client, "subscriptions", {"status": "all"}))
    assert any(s["discounts"] for s in subs)
    assert any(i["discounts"] for s in subs for i in s["items"]["data"])
    for sub in subs:
        check_subscription(sub, expanded=False)


def test_price_tiers_only_when_expanded(client: stripe.StripeClient) -> None:
    expanded = list(walk(client, "prices", {"expand": ["data.tiers"]}))
    tiered = [p for p in expanded if p["billing_scheme"] == "tiered"]
    assert tiered
    for price in expanded:
        assert_keys(price, "price", frozenset({"tiers"}))
    for price in tiered:
        assert price["tiers"] and all("up_to" in t and "flat_amount" in t for t in price["tiers"])
        plain = client.v1.prices.retrieve(price["id"]).to_dict()
        assert "tiers" not in plain
        again = client.v1.prices.retrieve(price["id"], params={"expand": ["tiers"]}).to_dict()
        assert again["tiers"] == price["tiers"]


def test_retrieve_returns_the_same_shape(client: stripe.StripeClient) -> None:
    for collection in ("customers", "subscriptions", "charges", "invoices", "products", "coupons",
                       "refunds"):
        params = {"status": "all"} if collection == "subscriptions" else {}
        service = getattr(client.v1, collection)
        listed = service.list(params={**params, "limit": 5}).data
        for obj in listed:
            got = service.retrieve(obj.id).to_dict()
            assert got == obj.to_dict()
            assert_keys(got, TYPES[collection])
    sub = client.v1.subscriptions.list(params={"status": "all", "limit": 100}).data
    with_discount = next(s for s in sub if s.discounts)
    expanded = client.v1.subscriptions.retrieve(with_discount.id,
                                                params={"expand": ["discounts"]}).to_dict()
    check_subscription(expanded, expanded=True)


def test_events_have_fixture_keys(fresh_server: FakeStripeServer) -> None:
    client = stripe_client(fresh_server)
    customer = client.v1.customers.create(params={"email": "new@example.com"})
    client.v1.customers.update(customer.id, params={"metadata": {"plan": "pro"}})
    events = list(walk(client, "events", {}))
    assert [e["type"] for e in events][:2] == ["customer.updated", "customer.created"]
    for event in events:
        assert_keys(event, "event")
        assert_keys(event["data"]["object"], "customer")
    assert events[0]["data"]["previous_attributes"] == {"metadata": {}}
