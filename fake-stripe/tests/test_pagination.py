"""Cursor paging, created ranges and status filters behave like Stripe's lists."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_stripe import FakeStripe, FakeStripeServer
from fake_stripe.table import CreatedRange, page_ids, sort_key
from fake_stripe.testing import stripe_client


def ids_of(client: stripe.StripeClient, collection: str, params: dict[str, Any],
           limit: int = 100) -> tuple[list[str], list[bool]]:
    """All ids via ``starting_after`` paging, and each page's ``has_more``."""
    service = getattr(client.v1, collection)
    ids: list[str] = []
    more: list[bool] = []
    cursor = None
    while True:
        page = service.list(params={**params, "limit": limit,
                                    **({"starting_after": cursor} if cursor else {})})
        ids += [o.id for o in page.data]
        more.append(page.has_more)
        if not page.has_more:
            return ids, more
        cursor = page.data[-1].id


def expected_ids(state: FakeStripe, object_type: str, keep: Any = None) -> list[str]:
    return [r["id"] for r in state.iter_records(object_type) if keep is None or keep(r)]


@pytest.mark.parametrize(
    ("collection", "object_type", "params"),
    [
        ("customers", "customer", {}),
        ("charges", "charge", {}),
        ("subscriptions", "subscription", {"status": "all"}),
        ("invoices", "invoice", {}),
    ],
)
def test_walk_visits_everything_once_newest_first(
    client: stripe.StripeClient, seeded_server: FakeStripeServer, collection: str,
    object_type: str, params: dict[str, Any],
) -> None:
    ids, more = ids_of(client, collection, params)
    assert ids == expected_ids(seeded_server.state, object_type)
    assert len(set(ids)) == len(ids)
    assert more[:-1] == [True] * (len(more) - 1) and more[-1] is False
    records = [seeded_server.state.record(object_type, i) for i in ids]
    keys = [(r["created"], r["id"]) for r in records]
    assert keys == sorted(keys, reverse=True)


def test_has_more_on_exact_multiple_of_page_size() -> None:
    state = FakeStripe()
    for i in range(200):
        state.put("customer", {"email": f"c{i}@example.com", "created": 1_700_000_000 + i // 7})
    with FakeStripeServer(state) as server:
        client = stripe_client(server)
        ids, more = ids_of(client, "customers", {})
        assert more == [True, False]
        assert len(ids) == 200 == len(set(ids))
        ids, more = ids_of(client, "customers", {}, limit=50)
        assert more == [True, True, True, False]
        # ties on created are broken by id, descending
        same = [i for i in ids if state.record("customer", i)["created"] == 1_700_000_000]
        assert same == sorted(same, reverse=True)


def test_ending_before_pages_backwards(client: stripe.StripeClient,
                                       seeded_server: FakeStripeServer) -> None:
    everything = expected_ids(seeded_server.state, "charge")
    anchor = everything[250]
    page = client.v1.charges.list(params={"limit": 100, "ending_before": anchor})
    assert [c.id for c in page.data] == everything[150:250]
    assert page.has_more is True
    page = client.v1.charges.list(params={"limit": 100, "ending_before": everything[40]})
    assert [c.id for c in page.data] == everything[:40]
    assert page.has_more is False


def test_created_ranges_filter(client: stripe.StripeClient,
                              seeded_server: FakeStripeServer) -> None:
    state = seeded_server.state
    created = sorted(r["created"] for r in state.iter_records("charge"))
    low, high = created[len(created) // 4], created[len(created) // 2]
    cases = [
        ({"gte": low, "lte": high}, lambda t: low <= t <= high),
        ({"gt": low, "lt": high}, lambda t: low < t < high),
        ({"gte": high}, lambda t: t >= high),
        ({"lt": low}, lambda t: t < low),
    ]
    for created_param, keep in cases:
        ids, _ = ids_of(client, "charges", {"created": created_param})
        assert ids == expected_ids(state, "charge", lambda r, k=keep: k(r["created"]))
        assert ids
    exact = created[100]
    ids, _ = ids_of(client, "charges", {"created": exact})
    assert ids == expected_ids(state, "charge", lambda r: r["created"] == exact)


def test_subscription_status_filters(client: stripe.StripeClient,
                                     seeded_server: FakeStripeServer) -> None:
    state = seeded_server.state
    all_ids, _ = ids_of(client, "subscriptions", {"status": "all"})
    default_ids, _ = ids_of(client, "subscriptions", {})
    hidden = {"canceled", "incomplete_expired"}
    assert default_ids == expected_ids(
        state, "subscription", lambda r: r["status"] not in hidden)
    assert len(default_ids) < len(all_ids)
    canceled, _ = ids_of(client, "subscriptions", {"status": "canceled"})
    assert canceled and canceled == expected_ids(
        state, "subscription", lambda r: r["status"] == "canceled")
    ended, _ = ids_of(client, "subscriptions", {"status": "ended"})
    assert set(ended) == set(all_ids) - set(default_ids)


def test_customer_filters(client: stripe.StripeClient, seeded_server: FakeStripeServer) -> None:
    state = seeded_server.state
    sub = next(r for r in state.iter_records("subscription") if r["status"] == "canceled")
    customer = sub["customer"]
    subs, _ = ids_of(client, "subscriptions", {"status": "all", "customer": customer})
    assert subs == expected_ids(state, "subscription", lambda r: r["customer"] == customer)
    charges, _ = ids_of(client, "charges", {"customer": customer}, limit=2)
    assert charges == expected_ids(state, "charge", lambda r: r["customer"] == customer)
    paid, _ = ids_of(client, "invoices", {"status": "paid"})
    assert paid == expected_ids(state, "invoice", lambda r: r["status"] == "paid")


def test_unknown_cursor_is_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params={"starting_after": "cus_doesnotexist"})
    assert info.value.http_status == 400
    assert info.value.code == "resource_missing"


async def test_async_listing(seeded_server: FakeStripeServer) -> None:
    client = stripe.StripeClient("sk_test_fake", base_addresses={"api": seeded_server.base_url},
                                 http_client=stripe.HTTPXClient())
    page = await client.v1.subscriptions.list_async(
        params={"status": "all", "limit": 100,
                "expand": ["data.discounts", "data.items.data.discounts"]})
    assert len(page.data) == 100 and page.has_more
    nxt = await client.v1.subscriptions.list_async(
        params={"status": "all", "limit": 100, "starting_after": page.data[-1].id})
    assert not {s.id for s in page.data} & {s.id for s in nxt.data}


@settings(max_examples=200, deadline=None)
@given(
    created=st.lists(st.integers(0, 20), min_size=0, max_size=40),
    limit=st.integers(1, 7),
    low=st.none() | st.integers(0, 20),
    high=st.none() | st.integers(0, 20),
    cursor=st.none() | st.integers(0, 39),
    backwards=st.booleans(),
    odd_only=st.booleans(),
)
def test_page_ids_matches_brute_force(
    created: list[int], limit: int, low: int | None, high: int | None, cursor: int | None,
    backwards: bool, odd_only: bool,
) -> None:
    objects = [(t, f"id{i:03d}") for i, t in enumerate(created)]
    newest_first = sorted(objects, reverse=True)
    keys = sorted(sort_key(t, i) for t, i in objects)
    cursor_obj = objects[cursor] if cursor is not None and cursor < len(objects) else None

    def keep(obj: tuple[int, str]) -> bool:
        in_range = (low is None or obj[0] >= low) and (high is None or obj[0] <= high)
        return in_range and (not odd_only or int(obj[1][2:]) % 2 == 1)

    if cursor_obj is None:
        candidates = [o for o in newest_first if keep(o)]
        want, want_more = candidates[:limit], len(candidates) > limit
    elif backwards:
        newer = [o for o in newest_first[: newest_first.index(cursor_obj)] if keep(o)]
        want, want_more = newer[-limit:], len(newer) > limit
    else:
        older = [o for o in newest_first[newest_first.index(cursor_obj) + 1:] if keep(o)]
        want, want_more = older[:limit], len(older) > limit
    cursor_key = None if cursor_obj is None else sort_key(*cursor_obj)
    got, more = page_ids(
        keys,
        limit=limit,
        created=CreatedRange(low, high),
        after=None if backwards else cursor_key,
        before=cursor_key if backwards else None,
        match=(lambda i: int(i[2:]) % 2 == 1) if odd_only else None,
    )
    assert got == [i for _, i in want]
    assert more == want_more
