"""Metadata carry-over: customer first, else newest subscription; collisions renamed."""

from revsync.revenue import RevenuePolicy, attribute_name, derive_subscriber

from .factories import EMPTY, NOW, customer, facts, subscription


def metadata(*customers_facts, keys: tuple[str, ...]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = RevenuePolicy(metadata_keys=keys)
    return derive_subscriber(list(customers_facts), EMPTY, policy, NOW).metadata


def test_customer_metadata_copied_as_strings() -> None:
    f = facts(cust=customer(metadata={"plan_name": "pro", "seats": "5", "other": "x"}))
    assert metadata(f, keys=("plan_name", "seats")) == {"plan_name": "pro", "seats": "5"}


def test_falls_back_to_newest_subscription_with_key() -> None:
    subs = [
        subscription(id="s_old", created=100, metadata={"team": "old"}),
        subscription(id="s_newest", created=300, metadata={}),  # newest lacks the key
        subscription(id="s_new", created=200, metadata={"team": "new"}),
    ]
    assert metadata(facts(*subs), keys=("team",)) == {"team": "new"}


def test_customer_wins_over_subscription() -> None:
    f = facts(subscription(metadata={"team": "sub"}), cust=customer(metadata={"team": "customer"}))
    assert metadata(f, keys=("team",)) == {"team": "customer"}


def test_missing_key_is_absent() -> None:
    assert metadata(facts(), keys=("team",)) == {}


def test_collisions_renamed() -> None:
    meta = {"mrr": "1", "ltv": "2", "email": "a@b.c", "tag": "vip", "Tag": "x", "plan": "p"}
    f = facts(cust=customer(metadata=meta))
    assert metadata(f, keys=("mrr", "ltv", "email", "tag", "Tag", "plan")) == {
        "stripe_mrr": "1",
        "stripe_ltv": "2",
        "stripe_email": "a@b.c",
        "stripe_tag": "vip",
        "stripe_Tag": "x",
        "plan": "p",
    }
    assert attribute_name("tags") == "tags"


def test_several_customers_newest_customer_with_key_wins() -> None:
    old = facts(cust=customer("cus_old", created=100, metadata={"team": "old", "region": "eu"}))
    new = facts(cust=customer("cus_new", created=200, metadata={"team": "new"}))
    expected = {"team": "new", "region": "eu"}
    assert metadata(old, new, keys=("team", "region")) == expected
    assert metadata(new, old, keys=("team", "region")) == expected


def test_metadata_only_from_eligible_customers() -> None:
    paying = facts(cust=customer("cus_a", created=100, metadata={"team": "paying"}))
    never_paid = facts(cust=customer("cus_b", created=200, metadata={"team": "nope"}), charges=[])
    assert metadata(paying, never_paid, keys=("team",)) == {"team": "paying"}
