"""Which Stripe customers count, and the skip reasons for the sync report."""

from decimal import Decimal

import pytest

from revsync.revenue import (
    ABANDONED_CHECKOUT,
    DELETED_CUSTOMER,
    ELIGIBLE,
    NEVER_PAID,
    PRODUCT_NOT_SELECTED,
    CustomerFacts,
    RevenuePolicy,
    derive_subscriber,
    eligibility,
)

from .factories import EMPTY, NOW, charge, customer, facts, invoice, item, price, subscription

DEFAULT = RevenuePolicy()
NO_PAYMENT = RevenuePolicy(sync_without_payment=True)
PRODUCT_A = RevenuePolicy(products=frozenset({"prod_A"}))
PRODUCT_A_NO_PAYMENT = RevenuePolicy(products=frozenset({"prod_A"}), sync_without_payment=True)

TRIAL_A = subscription(item(price(product="prod_A")), status="trialing")
TRIAL_B = subscription(item(price(product="prod_B")), status="trialing")


def test_paid_customer_is_eligible() -> None:
    assert eligibility(facts(subscription()), DEFAULT) == ELIGIBLE


def test_paid_without_subscription_is_eligible() -> None:
    assert eligibility(facts(), DEFAULT) == ELIGIBLE  # one-off payer


def test_zero_captured_charge_is_not_payment() -> None:
    f = facts(TRIAL_A, charges=[charge(0), charge(500, status="failed", id="f")])
    assert eligibility(f, DEFAULT) == NEVER_PAID


def test_never_paid_trial_default_off() -> None:
    assert eligibility(facts(TRIAL_A, charges=[]), DEFAULT) == NEVER_PAID


@pytest.mark.parametrize("status", ["trialing", "active", "past_due", "canceled", "paused"])
def test_sync_without_payment_includes_real_subscriptions(status: str) -> None:
    f = facts(subscription(status=status), charges=[])
    assert eligibility(f, NO_PAYMENT) == ELIGIBLE


@pytest.mark.parametrize(
    "statuses", [[], ["incomplete"], ["incomplete_expired"], ["incomplete", "incomplete_expired"]]
)
def test_abandoned_checkout_excluded_even_with_sync_without_payment(statuses: list[str]) -> None:
    subs = [subscription(id=f"s{i}", status=s) for i, s in enumerate(statuses)]
    f = facts(*subs, charges=[])
    assert eligibility(f, DEFAULT) == ABANDONED_CHECKOUT
    assert eligibility(f, NO_PAYMENT) == ABANDONED_CHECKOUT


def test_products_selected_paid_invoice_for_selected_product() -> None:
    f = facts(invoices=[invoice(1000, "prod_B", "prod_A")])
    assert eligibility(f, PRODUCT_A) == ELIGIBLE


def test_products_selected_paid_for_other_product() -> None:
    f = facts(invoices=[invoice(1000, "prod_B")])
    assert eligibility(f, PRODUCT_A) == PRODUCT_NOT_SELECTED


def test_products_selected_charge_alone_is_not_enough() -> None:
    assert eligibility(facts(), PRODUCT_A) == PRODUCT_NOT_SELECTED


def test_products_selected_zero_amount_invoice_is_not_payment() -> None:
    f = facts(invoices=[invoice(0, "prod_A")])
    assert eligibility(f, PRODUCT_A) == PRODUCT_NOT_SELECTED  # paid a charge, but not for A


def test_products_selected_unpaid_invoice_ignored() -> None:
    f = facts(invoices=[invoice(1000, "prod_A", status="open")])
    assert eligibility(f, PRODUCT_A) == PRODUCT_NOT_SELECTED


def test_sync_without_payment_with_products_needs_selected_product_subscription() -> None:
    assert eligibility(facts(TRIAL_A, charges=[]), PRODUCT_A_NO_PAYMENT) == ELIGIBLE
    assert eligibility(facts(TRIAL_B, charges=[]), PRODUCT_A_NO_PAYMENT) == PRODUCT_NOT_SELECTED
    assert eligibility(facts(TRIAL_A, charges=[]), PRODUCT_A) == NEVER_PAID


def test_incomplete_subscription_of_selected_product_is_still_abandoned() -> None:
    sub = subscription(item(price(product="prod_A")), status="incomplete")
    assert eligibility(facts(sub, charges=[]), PRODUCT_A_NO_PAYMENT) == ABANDONED_CHECKOUT


def test_deleted_customer() -> None:
    stub = {"id": "cus_1", "object": "customer", "deleted": True}
    assert eligibility(CustomerFacts(stub, [], [charge()]), DEFAULT) == DELETED_CUSTOMER


def test_losing_eligibility_clears_everything() -> None:
    paid = facts(subscription(cancel_at_period_end=True), invoices=[invoice(1000, "prod_A")])
    before = derive_subscriber([paid], EMPTY, PRODUCT_A, NOW)
    assert before.eligible
    assert before.mrr == Decimal("20.00")
    assert before.tags == {"customer", "cancelled", "saas.monthly"}
    # product removed from the selection -> no eligible customer left
    after = derive_subscriber([paid], EMPTY, RevenuePolicy(products=frozenset({"prod_Z"})), NOW)
    assert not after.eligible
    assert after.mrr is None
    assert after.ltv is None
    assert after.tags == frozenset()
    assert after.metadata == {}
    assert after.eligible_customer_ids == ()
    # setting turned off: a never-paid trial stops counting
    trial = facts(TRIAL_A, charges=[])
    assert derive_subscriber([trial], EMPTY, NO_PAYMENT, NOW).eligible
    gone = derive_subscriber([trial], EMPTY, DEFAULT, NOW)
    assert (gone.eligible, gone.mrr, gone.ltv, gone.tags) == (False, None, None, frozenset())
    # no customers at all (deleted)
    assert derive_subscriber([], EMPTY, DEFAULT, NOW).mrr is None


def test_never_paid_trial_included_with_zero_ltv() -> None:
    # trialing $20/month counts for MRR by default; LTV 0
    result = derive_subscriber([facts(TRIAL_A, charges=[])], EMPTY, NO_PAYMENT, NOW)
    assert (result.mrr, result.ltv) == (Decimal("20.00"), Decimal("0.00"))
    assert result.tags == {"trial", "saas.monthly"}


def test_only_eligible_customers_are_summed() -> None:
    paying = facts(subscription(item(price("1000"))), cust=customer("cus_a"))
    abandoned = facts(
        subscription(item(price("9900")), status="incomplete"), cust=customer("cus_b"), charges=[]
    )
    result = derive_subscriber([paying, abandoned], EMPTY, DEFAULT, NOW)
    assert result.mrr == Decimal("10.00")
    assert result.eligible_customer_ids == ("cus_a",)
