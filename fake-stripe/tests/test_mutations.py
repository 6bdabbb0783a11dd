"""Writes over HTTP and through the Python API, as tests and webhook scenarios use them."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from fake_stripe import FakeStripe, FakeStripeServer
from fake_stripe.fixtures import fixture_keys
from fake_stripe.testing import stripe_client


def a_paid_charge(client: stripe.StripeClient) -> stripe.Charge:
    customer = client.v1.customers.create(params={"email": "payer@example.com"})
    return client.v1.charges.create(
        params={"customer": customer.id, "amount": 5000, "currency": "usd"})


def test_refunds_change_amount_refunded(fresh_client: stripe.StripeClient) -> None:
    charge = a_paid_charge(fresh_client)
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (5000, 0, False)
    refund = fresh_client.v1.refunds.create(params={"charge": charge.id, "amount": 1200})
    assert refund.amount == 1200 and refund.status == "succeeded"
    charge = fresh_client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (1200, False)
    assert charge.refunds is not None and [r.id for r in charge.refunds.data] == [refund.id]
    with pytest.raises(stripe.InvalidRequestError):
        fresh_client.v1.refunds.create(params={"charge": charge.id, "amount": 3801})
    rest = fresh_client.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 3800
    charge = fresh_client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    # a refund that later fails restores the charge
    test_only: Any = {"status": "failed"}  # a fake-only parameter
    fresh_client.v1.refunds.update(rest.id, params=test_only)
    charge = fresh_client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (1200, False)


def test_uncaptured_and_failed_charges(fresh_client: stripe.StripeClient) -> None:
    customer = fresh_client.v1.customers.create(params={"email": "x@example.com"})
    held = fresh_client.v1.charges.create(params={"customer": customer.id, "amount": 700,
                                                  "currency": "eur", "capture": False})
    assert (held.status, held.captured, held.amount_captured) == ("succeeded", False, 0)
    with pytest.raises(stripe.InvalidRequestError):
        fresh_client.v1.refunds.create(params={"charge": held.id})
    captured = fresh_client.v1.charges.capture(held.id)
    assert (captured.captured, captured.amount_captured) == (True, 700)
    params: Any = {"customer": customer.id, "amount": 900, "currency": "usd", "status": "failed"}
    failed = fresh_client.v1.charges.create(params=params)
    assert (failed.paid, failed.amount_captured, failed.failure_code) == (False, 0, "card_declined")


def test_delete_hides_customer(fresh_server: FakeStripeServer,
                               fresh_client: stripe.StripeClient) -> None:
    state = fresh_server.state
    victim = next(r for r in state.iter_records("subscription") if r["status"] == "active")
    customer_id = victim["customer"]
    before = state.count("customer")
    deleted = fresh_client.v1.customers.delete(customer_id)
    assert deleted.deleted is True
    listed = fresh_client.v1.customers.list(params={"limit": 100}).data
    assert customer_id not in {c.id for c in listed}
    assert len(listed) == before - 1
    again = fresh_client.v1.customers.retrieve(customer_id)
    assert again.to_dict() == {"id": customer_id, "object": "customer", "deleted": True}
    sub = fresh_client.v1.subscriptions.retrieve(victim["id"])
    assert sub.status == "canceled" and sub.ended_at is not None
    with pytest.raises(stripe.InvalidRequestError):
        fresh_client.v1.customers.list(params={"starting_after": customer_id})


def test_customer_update_merges_metadata(fresh_client: stripe.StripeClient) -> None:
    customer = fresh_client.v1.customers.create(
        params={"email": "A@Example.com", "metadata": {"plan": "pro", "company": "Acme"}})
    updated = fresh_client.v1.customers.update(
        customer.id, params={"email": "a@example.com", "metadata": {"company": ""}})
    assert updated.email == "a@example.com"
    assert updated.metadata is not None and updated.metadata.to_dict() == {"plan": "pro"}
    assert set(updated.to_dict()) == fixture_keys("customer")


def test_subscription_create_and_update(fresh_server: FakeStripeServer,
                                        fresh_client: stripe.StripeClient) -> None:
    state = fresh_server.state
    price = next(p for p in state.iter_records("price")
                 if p["lookup_key"] == "team_seat_monthly_usd")
    coupon = "LAUNCH25"
    customer = fresh_client.v1.customers.create(params={"email": "team@example.com"})
    sub = fresh_client.v1.subscriptions.create(params={
        "customer": customer.id,
        "items": [{"price": price["id"], "quantity": 7}],
        "discounts": [{"coupon": coupon}],
        "expand": ["discounts"],
    })
    assert sub.status == "active"
    item = sub["items"].data[0]
    assert (item.price.id, item.quantity) == (price["id"], 7)
    assert set(item.to_dict()) == fixture_keys("subscription_item")
    discount: Any = sub.discounts[0]
    assert discount.source.coupon == coupon
    updated = fresh_client.v1.subscriptions.update(sub.id, params={
        "cancel_at_period_end": True,
        "items": [{"id": item.id, "quantity": 9}],
    })
    assert updated.cancel_at_period_end is True and updated.canceled_at is not None
    assert updated.cancel_at == item.current_period_end
    assert updated["items"].data[0].quantity == 9
    assert updated["items"].data[0].id == item.id
    assert isinstance(updated.discounts[0], str)
    canceled = fresh_client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    types = [e.type for e in fresh_client.v1.events.list(params={"limit": 4}).data]
    assert types[:3] == ["customer.subscription.deleted", "customer.subscription.updated",
                         "customer.subscription.created"]


def test_python_api_crafts_exact_objects() -> None:
    state = FakeStripe()
    state.put("product", {"id": "prod_x", "name": "X"})
    state.put("price", {"id": "price_x", "product": "prod_x", "unit_amount": 12000,
                        "currency": "usd",
                        "recurring": {"interval": "year", "interval_count": 1,
                                      "usage_type": "licensed", "meter": None,
                                      "trial_period_days": None}})
    state.put("coupon", {"id": "HALF", "percent_off": 50.0, "duration": "forever"})
    state.put("customer", {"id": "cus_x", "email": "x@example.com", "created": 100})
    sub = state.put("subscription", {
        "id": "sub_x", "customer": "cus_x", "status": "past_due", "created": 200,
        "items": [{"price": "price_x", "quantity": 2, "discounts": [{"coupon": "HALF"}]}],
    })
    assert set(sub) == fixture_keys("subscription")
    item = sub["items"]["data"][0]
    assert set(item) == fixture_keys("subscription_item")
    assert item["plan"]["interval"] == "year" and item["price"]["unit_amount"] == 12000
    assert item["discounts"][0].startswith("di_")
    got = state.retrieve("subscription", "sub_x", ["items.data.discounts"])
    discount = got["items"]["data"][0]["discounts"][0]
    assert discount["source"]["coupon"] == "HALF"
    assert discount["subscription_item"] == item["id"]
    state.update("subscription", "sub_x", {"status": "canceled", "ended_at": 300})
    assert state.retrieve("subscription", "sub_x")["status"] == "canceled"
    with pytest.raises(ValueError):
        state.put("customer", {"not_a_stripe_field": 1})
    events = [e["type"] for e in state.list("event", limit=100)["data"]]
    assert events[0] == "customer.subscription.deleted"


def test_request_log_from_python(fresh_server: FakeStripeServer,
                                 fresh_client: stripe.StripeClient) -> None:
    fresh_client.v1.customers.list()
    customer = fresh_client.v1.customers.list(params={"limit": 1}).data[0]
    fresh_client.v1.customers.retrieve(customer.id)
    log = fresh_server.state.log
    assert log.counts() == {"GET /v1/customers": 2, "GET /v1/customers/{id}": 1}
    last = log.entries()[-1]
    assert (last.method, last.path, last.status) == ("GET", f"/v1/customers/{customer.id}", 200)
    assert "limit=1" in log.entries()[1].query
    log.clear()
    assert log.count() == 0


def test_invoice_create_and_pay(fresh_server: FakeStripeServer) -> None:
    client = stripe_client(fresh_server)
    state = fresh_server.state
    price = next(p for p in state.iter_records("price") if p["lookup_key"] == "pro_monthly_usd")
    customer = client.v1.customers.create(params={"email": "inv@example.com"})
    params: Any = {"customer": customer.id, "lines": [{"price": price["id"], "quantity": 2}]}
    invoice = client.v1.invoices.create(params=params)
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("draft", 9800, 0)
    line: Any = invoice.lines.data[0]
    assert line.pricing.price_details.product == price["product"]
    assert set(line.to_dict()) == fixture_keys("line_item")
    paid = client.v1.invoices.pay(invoice.id)
    assert (paid.status, paid.amount_paid) == ("paid", 9800)
    listed = client.v1.invoices.list(params={"status": "paid", "customer": customer.id}).data
    assert [i.id for i in listed] == [invoice.id]
