"""Properties of the revenue definitions over generated Stripe-shaped data."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from revsync.revenue import (
    CustomerFacts,
    RevenuePolicy,
    derive_subscriber,
    subscription_mrr_exact,
)
from revsync.revenue.money import round_cents

from .factories import (
    DAY,
    EMPTY,
    NOW,
    charge,
    coupon,
    customer,
    discount,
    facts,
    item,
    price,
    subscription,
)

CURRENCIES = ["usd", "eur", "jpy", "kwd", "gbp"]  # gbp has no rate
RATES = {"eur": Decimal("1.08"), "jpy": Decimal("0.0067"), "kwd": Decimal("3.25")}
STATUSES = ["active", "trialing", "past_due", "canceled", "unpaid", "incomplete", "paused"]

unit_amounts = st.one_of(
    st.integers(0, 1_000_000).map(str),
    st.decimals(0, 10_000, places=3, allow_nan=False, allow_infinity=False).map(str),
)


@st.composite
def prices(draw: st.DrawFn, currency: str) -> dict[str, Any]:
    transform = draw(
        st.none()
        | st.fixed_dictionaries(
            {"divide_by": st.integers(1, 10), "round": st.sampled_from(["up", "down"])}
        )
    )
    return price(
        draw(unit_amounts),
        id=f"price_{draw(st.integers(0, 5))}",
        currency=currency,
        interval=draw(st.sampled_from(["day", "week", "month", "year"])),
        interval_count=draw(st.integers(1, 12)),
        usage_type=draw(st.sampled_from(["licensed", "licensed", "metered"])),
        product=draw(st.sampled_from(["prod_A", "prod_B"])),
        transform_quantity=transform,
    )


@st.composite
def discounts(draw: st.DrawFn, currency: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["percent", "amount"]))
    c = coupon(
        percent_off=draw(st.integers(0, 100)) if kind == "percent" else None,
        amount_off=draw(st.integers(0, 50_000)) if kind == "amount" else None,
        currency=currency,
        duration=draw(st.sampled_from(["forever", "repeating", "once"])),
    )
    return discount(c, end=draw(st.none() | st.integers(NOW - 30 * DAY, NOW + 30 * DAY)))


@st.composite
def subscriptions(draw: st.DrawFn, index: int) -> dict[str, Any]:
    currency = draw(st.sampled_from(CURRENCIES))
    items = [
        item(
            draw(prices(currency)),
            quantity=draw(st.integers(0, 50)),
            discounts=draw(st.lists(discounts(currency), max_size=1)),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return subscription(
        *items,
        id=f"sub_{index}",
        status=draw(st.sampled_from(STATUSES)),
        currency=currency,
        discounts=draw(st.lists(discounts(currency), max_size=2)),
        cancel_at_period_end=draw(st.booleans()),
        created=draw(st.integers(0, 10)),
        metadata=draw(st.sampled_from([{}, {"team": f"t{index}"}])),
    )


@st.composite
def customer_facts(draw: st.DrawFn, index: int) -> CustomerFacts:
    subs = [draw(subscriptions(index * 10 + i)) for i in range(draw(st.integers(0, 3)))]
    charges = [
        charge(
            captured,
            draw(st.integers(0, captured)),
            status=draw(st.sampled_from(["succeeded", "succeeded", "failed"])),
            currency=draw(st.sampled_from(CURRENCIES)),
            id=f"ch_{index}_{i}",
        )
        for i, captured in enumerate(draw(st.lists(st.integers(0, 100_000), max_size=3)))
    ]
    cust = customer(
        f"cus_{index}",
        created=draw(st.integers(0, 3)),
        metadata=draw(st.sampled_from([{}, {"team": f"c{index}"}])),
        discount=draw(st.none() | discounts("usd")),
    )
    return facts(*subs, charges=charges, cust=cust)


@st.composite
def subscribers(draw: st.DrawFn) -> list[CustomerFacts]:
    return [draw(customer_facts(i)) for i in range(draw(st.integers(1, 3)))]


policies = st.builds(
    RevenuePolicy,
    fx_rates=st.just(RATES),
    mrr_statuses=st.sampled_from(
        [frozenset({"active", "trialing"}), frozenset({"active", "past_due"})]
    ),
    products=st.sampled_from([frozenset(), frozenset({"prod_A"})]),
    sync_without_payment=st.booleans(),
    metadata_keys=st.just(("team",)),
)


def reorder(customers: list[CustomerFacts], data: st.DataObject) -> list[CustomerFacts]:
    shuffled = []
    for f in data.draw(st.permutations(customers)):
        shuffled.append(
            CustomerFacts(
                customer=f.customer,
                subscriptions=data.draw(st.permutations(list(f.subscriptions))),
                charges=data.draw(st.permutations(list(f.charges))),
                paid_invoices=f.paid_invoices,
            )
        )
    return shuffled


@settings(max_examples=150, deadline=None)
@given(subscribers(), policies)
def test_mrr_never_negative(customers: list[CustomerFacts], policy: RevenuePolicy) -> None:
    result = derive_subscriber(customers, EMPTY, policy, NOW)
    if result.eligible:
        assert result.mrr is not None and result.mrr >= 0
        assert result.ltv is not None and result.ltv >= 0
    for f in customers:
        for sub in f.subscriptions:
            amounts = subscription_mrr_exact(sub, EMPTY, policy, NOW, f.customer["discount"])
            assert all(a >= 0 for a in amounts.values())


@settings(max_examples=100, deadline=None)
@given(subscribers(), policies)
def test_derive_is_deterministic(customers: list[CustomerFacts], policy: RevenuePolicy) -> None:
    assert derive_subscriber(customers, EMPTY, policy, NOW) == derive_subscriber(
        customers, EMPTY, policy, NOW
    )


@settings(max_examples=150, deadline=None)
@given(subscribers(), policies, st.data())
def test_order_does_not_matter(
    customers: list[CustomerFacts], policy: RevenuePolicy, data: st.DataObject
) -> None:
    expected = derive_subscriber(customers, EMPTY, policy, NOW)
    assert derive_subscriber(reorder(customers, data), EMPTY, policy, NOW) == expected


# --- an independent oracle: customers whose MRR and LTV are known by construction ----------
#
# Each generated customer has licensed, undiscounted or percent-discounted usd items and
# plain charges, so the expected figures follow from the documented formulas alone
# (docs/revenue-definitions.md), written out here without calling the code under test.

MONTHS_PER = {  # one billing period of `interval`, in months, as the definitions define it
    "month": Fraction(1),
    "year": Fraction(12),
    "week": Fraction(12, 52),
    "day": Fraction(12, 365),
}


@st.composite
def known_customers(draw: st.DrawFn, index: int) -> tuple[CustomerFacts, Fraction, Fraction]:
    """A paid customer, its exact MRR and its exact LTV (usd, major units)."""
    mrr = Fraction(0)
    subs = []
    for n in range(draw(st.integers(0, 2))):
        cents = draw(st.integers(0, 100_000))
        quantity = draw(st.integers(0, 20))
        interval = draw(st.sampled_from(sorted(MONTHS_PER)))
        count = draw(st.integers(1, 12))
        percent = draw(st.sampled_from([None, 10, 25, 100]))
        status = draw(st.sampled_from(["active", "trialing", "canceled", "past_due"]))
        item_discounts = [] if percent is None else [
            discount(coupon(percent_off=percent, id=f"pct_{index}_{n}"))]
        subs.append(subscription(
            item(price(str(cents), id=f"price_{index}_{n}", interval=interval,
                       interval_count=count), quantity=quantity, discounts=item_discounts),
            id=f"sub_{index}_{n}", status=status))
        if status in ("active", "trialing"):  # the default policy's statuses
            per_month = Fraction(cents * quantity, 100) / (MONTHS_PER[interval] * count)
            mrr += per_month * (Fraction(100 - percent, 100) if percent is not None else 1)
    charges, ltv = [charge(100, 0, id=f"ch_{index}_paid")], Fraction(1)
    for n, (captured, refunded_share, ok) in enumerate(draw(st.lists(
            st.tuples(st.integers(0, 50_000), st.integers(0, 4), st.booleans()), max_size=3))):
        refunded = captured * refunded_share // 4
        charges.append(charge(captured, refunded, status="succeeded" if ok else "failed",
                              id=f"ch_{index}_{n}"))
        if ok:
            ltv += Fraction(captured - refunded, 100)
    return facts(*subs, charges=charges, cust=customer(f"cus_{index}")), mrr, ltv


def cents(value: Fraction) -> Decimal:
    """Half-up to cents, by integer arithmetic on the exact value (non-negative here)."""
    hundredths = value * 100
    whole = hundredths.numerator // hundredths.denominator
    if hundredths - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) / 100


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=3).flatmap(
    lambda ids: st.tuples(*[known_customers(i) for i in range(len(ids))])))
def test_mrr_and_ltv_equal_the_documented_formulas(
    known: tuple[tuple[CustomerFacts, Fraction, Fraction], ...]
) -> None:
    customers = [f for f, _, _ in known]
    result = derive_subscriber(customers, EMPTY, RevenuePolicy(), NOW)
    assert result.eligible
    assert result.mrr == cents(sum((m for _, m, _ in known), Fraction(0)))
    assert result.ltv == cents(sum((v for _, _, v in known), Fraction(0)))


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 10**9),
    st.decimals(Decimal("0.0001"), Decimal(100), places=4),
    st.sampled_from(["jpy", "krw", "vnd", "clp"]),
)
def test_zero_decimal_amounts_scale(amount: int, rate: Decimal, currency: str) -> None:
    # n units of a zero-decimal currency are n major units: the same as n x 100 cents of a
    # 2-decimal currency at the same rate, and 1000n of a 3-decimal one.
    def derive(cur: str, minor: int) -> tuple[Decimal | None, Decimal | None]:
        policy = RevenuePolicy(fx_rates={cur: rate})
        sub = subscription(item(price(str(minor), currency=cur)), currency=cur)
        result = derive_subscriber(
            [facts(sub, charges=[charge(minor, currency=cur), charge(1, id="ch_usd")])],
            EMPTY,
            policy,
            NOW,
        )
        return result.mrr, result.ltv

    zero = derive(currency, amount)
    assert zero == derive("eur", amount * 100) == derive("kwd", amount * 1000)
    assert zero[0] == round_cents(Fraction(amount) * Fraction(rate))
    assert zero[1] == round_cents(Fraction(amount) * Fraction(rate) + Fraction(1, 100))
