"""Nested lists are cut at 10 like Stripe's, and the two list endpoints page the rest.

The store keeps every entry (tests build big objects through the Python API); what the
HTTP answers carry is what Stripe sends: the first 10 entries, ``has_more: true``,
``total_count`` and the ``url`` to page, which the real SDK then follows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from fake_stripe import DEFAULT_API_KEY, FakeStripe, FakeStripeServer
from fake_stripe.nested_lists import NESTED_LIMIT
from fake_stripe.testing import stripe_client

ITEMS = 15
LINES = 13
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


@dataclass(frozen=True)
class Big:
    """A server holding one 15-item subscription and one 13-line paid invoice."""

    server: FakeStripeServer
    customer: str
    subscription: str
    invoice: str
    prices: list[str]

    @property
    def state(self) -> FakeStripe:
        return self.server.state

    def item_ids(self) -> list[str]:
        return [i["id"] for i in self.state.record("subscription", self.subscription)["items"]]

    def line_ids(self) -> list[str]:
        return [line["id"] for line in self.state.record("invoice", self.invoice)["lines"]]


def monthly_price(state: FakeStripe, product: str, amount: int) -> str:
    recurring = {"interval": "month", "interval_count": 1, "usage_type": "licensed",
                 "meter": None, "trial_period_days": None}
    return str(state.put("price", {"unit_amount": amount, "currency": "usd",
                                   "product": product, "recurring": recurring})["id"])


@pytest.fixture
def big() -> Iterator[Big]:
    state = FakeStripe()
    customer = state.put("customer", {"email": "big@example.com"})["id"]
    product = state.put("product", {"name": "Add-on"})["id"]
    prices = [monthly_price(state, product, 1000 + 10 * n) for n in range(ITEMS)]
    coupon = state.put("coupon", {"id": "TEN", "percent_off": 10.0, "duration": "forever"})
    items: list[dict[str, Any]] = [{"price": p} for p in prices]
    items[0]["discounts"] = [{"coupon": coupon["id"]}]
    sub = state.put("subscription", {"customer": customer, "items": items})
    lines = [
        {"id": f"il_test{n:02d}", "amount": 500 + n, "description": f"line {n}", "quantity": 1,
         "subscription": sub["id"], "price": prices[n], "subscription_item": item["id"]}
        for n, item in enumerate(sub["items"]["data"][:LINES])
    ]
    total = sum(line["amount"] for line in lines)
    invoice = state.put("invoice", {"customer": customer, "currency": "usd", "status": "paid",
                                    "amount_due": total, "amount_paid": total, "lines": lines})
    with FakeStripeServer(state) as server:
        yield Big(server, customer, sub["id"], invoice["id"], prices)


def assert_cut(nested: dict[str, Any], ids: list[str], url: str) -> None:
    """Stripe's embedded list: the first 10 entries in order, and how to get the rest."""
    assert [entry["id"] for entry in nested["data"]] == ids[:NESTED_LIMIT]
    assert nested["has_more"] is True
    assert nested["total_count"] == len(ids)
    assert nested["url"] == url
    assert nested["object"] == "list"


def items_url(big: Big) -> str:
    return f"/v1/subscription_items?subscription={big.subscription}"


def lines_url(big: Big) -> str:
    return f"/v1/invoices/{big.invoice}/lines"


# ---- the cut, everywhere Stripe makes it --------------------------------------------

def test_retrieve_and_list_embed_ten(big: Big) -> None:
    client = stripe_client(big.server)
    sub = client.v1.subscriptions.retrieve(big.subscription).to_dict()
    assert_cut(sub["items"], big.item_ids(), items_url(big))
    listed = client.v1.subscriptions.list(params={"status": "all"}).data[0].to_dict()
    assert_cut(listed["items"], big.item_ids(), items_url(big))
    invoice = client.v1.invoices.retrieve(big.invoice).to_dict()
    assert_cut(invoice["lines"], big.line_ids(), lines_url(big))
    listed_invoice = client.v1.invoices.list().data[0].to_dict()
    assert_cut(listed_invoice["lines"], big.line_ids(), lines_url(big))


def test_the_store_keeps_every_entry(big: Big) -> None:
    assert len(big.state.retrieve("subscription", big.subscription)["items"]["data"]) == ITEMS
    assert len(big.item_ids()) == ITEMS and len(big.line_ids()) == LINES


def test_short_lists_are_whole_with_total_count(big: Big) -> None:
    prices = big.prices[:NESTED_LIMIT]
    sub = big.state.put("subscription", {"customer": big.customer,
                                         "items": [{"price": p} for p in prices]})
    got = stripe_client(big.server).v1.subscriptions.retrieve(sub["id"]).to_dict()["items"]
    assert len(got["data"]) == NESTED_LIMIT
    assert got["has_more"] is False and got["total_count"] == NESTED_LIMIT


def test_events_and_write_answers_embed_ten(big: Big) -> None:
    client = stripe_client(big.server)
    events = client.v1.events.list(params={"types": ["customer.subscription.created"]}).data
    created = next(e for e in events if e.data.object["id"] == big.subscription).to_dict()
    assert_cut(created["data"]["object"]["items"], big.item_ids(), items_url(big))
    one = client.v1.events.retrieve(created["id"]).to_dict()
    assert_cut(one["data"]["object"]["items"], big.item_ids(), items_url(big))
    updated = client.v1.subscriptions.update(
        big.subscription, params={"metadata": {"seen": "yes"}}).to_dict()
    assert_cut(updated["items"], big.item_ids(), items_url(big))
    made = client.v1.subscriptions.create(
        params={"customer": big.customer, "items": [{"price": p} for p in big.prices[:12]]})
    made_ids = [i["id"] for i in big.state.record("subscription", made.id)["items"]]
    assert_cut(made.to_dict()["items"], made_ids,
               f"/v1/subscription_items?subscription={made.id}")


def test_an_updates_previous_items_are_cut_too(big: Big) -> None:
    before = big.item_ids()
    kept = [dict(i) for i in big.state.record("subscription", big.subscription)["items"]]
    big.state.update("subscription", big.subscription, {"items": kept[1:]})
    event = stripe_client(big.server).v1.events.list(
        params={"types": ["customer.subscription.updated"]}).data[0].to_dict()
    assert_cut(event["data"]["previous_attributes"]["items"], before, items_url(big))
    assert_cut(event["data"]["object"]["items"], before[1:], items_url(big))


def test_expansions_apply_to_the_embedded_entries(big: Big) -> None:
    client = stripe_client(big.server)
    page = client.v1.subscriptions.list(
        params={"status": "all", "expand": ["data.items.data.discounts"]}).data
    first = page[0].to_dict()["items"]["data"][0]
    assert first["discounts"][0]["object"] == "discount"
    sub = client.v1.subscriptions.retrieve(
        big.subscription, params={"expand": ["items.data.price.product"]}).to_dict()
    assert len(sub["items"]["data"]) == NESTED_LIMIT
    assert all(i["price"]["product"]["object"] == "product" for i in sub["items"]["data"])


# ---- paging the rest through the two endpoints --------------------------------------

def test_subscription_items_page_the_rest_in_order(big: Big) -> None:
    client = stripe_client(big.server)
    embedded = client.v1.subscriptions.retrieve(big.subscription)["items"].data
    rest = client.v1.subscription_items.list(
        params={"subscription": big.subscription, "limit": 100,
                "starting_after": embedded[-1].id})
    assert [i.id for i in rest.data] == big.item_ids()[NESTED_LIMIT:]
    assert rest.has_more is False and rest.url == "/v1/subscription_items"
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: Any = {"subscription": big.subscription, "limit": 4,
                       **({"starting_after": cursor} if cursor else {})}
        page = client.v1.subscription_items.list(params=params)
        seen += [i.id for i in page.data]
        if not page.has_more:
            break
        cursor = page.data[-1].id
    assert seen == big.item_ids() and len(set(seen)) == ITEMS
    back = client.v1.subscription_items.list(
        params={"subscription": big.subscription, "ending_before": seen[6], "limit": 3})
    assert [i.id for i in back.data] == seen[3:6] and back.has_more is True


def test_subscription_items_expand_discounts_and_product(big: Big) -> None:
    client = stripe_client(big.server)
    page = client.v1.subscription_items.list(
        params={"subscription": big.subscription,
                "expand": ["data.discounts", "data.price", "data.price.product"]})
    first = page.data[0].to_dict()
    assert first["discounts"][0]["object"] == "discount"
    assert first["price"]["product"]["object"] == "product"
    plain = client.v1.subscription_items.list(params={"subscription": big.subscription})
    assert isinstance(plain.data[0].to_dict()["discounts"][0], str)


def test_invoice_lines_page_the_rest_in_order(big: Big) -> None:
    client = stripe_client(big.server)
    embedded = client.v1.invoices.retrieve(big.invoice).lines.data
    rest = client.v1.invoices.line_items.list(
        big.invoice, params={"starting_after": embedded[-1].id, "limit": 100})
    assert [line.id for line in rest.data] == big.line_ids()[NESTED_LIMIT:]
    assert rest.has_more is False and rest.url == lines_url(big)
    walked = client.v1.invoices.line_items.list(big.invoice, params={"limit": 5})
    assert [line.id for line in walked.data] == big.line_ids()[:5] and walked.has_more
    everything = [line.id for line in walked.auto_paging_iter()]
    assert everything == big.line_ids()


def test_list_endpoints_are_logged_and_faulted_like_others(big: Big) -> None:
    client = stripe_client(big.server)
    big.state.log.clear()
    client.v1.subscription_items.list(params={"subscription": big.subscription})
    client.v1.invoices.line_items.list(big.invoice)
    assert big.state.log.counts() == {"GET /v1/subscription_items": 1,
                                      "GET /v1/invoices/{id}/lines": 1}
    big.state.faults.set(rate_limit_every=1)
    with pytest.raises(stripe.RateLimitError):
        client.v1.invoices.line_items.list(big.invoice)


def test_list_endpoint_refusals(big: Big) -> None:
    client = stripe_client(big.server)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.subscription_items.list(params={"subscription": "sub_nope"})
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    assert info.value.param == "subscription"
    assert info.value.user_message == "No such subscription: 'sub_nope'"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.invoices.line_items.list("in_nope")
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    assert info.value.user_message == "No such invoice: 'in_nope'"
    missing = httpx.get(f"{big.server.base_url}/v1/subscription_items", headers=AUTH)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "parameter_missing"
    assert missing.json()["error"]["param"] == "subscription"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.subscription_items.list(
            params={"subscription": big.subscription, "starting_after": "si_nope"})
    assert info.value.http_status == 400 and info.value.param == "starting_after"
    assert info.value.user_message == "No such subscription_item: 'si_nope'"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.invoices.line_items.list(big.invoice, params={"limit": 101})
    assert info.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.subscription_items.list(
            params={"subscription": big.subscription, "expand": ["data.price.product.x.y"]})
    assert info.value.code == "property_expansion_max_depth"
