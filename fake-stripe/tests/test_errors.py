"""Stripe's error behaviour and the injectable faults, seen through the real SDK."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from fake_stripe import API_VERSION, FakeStripeServer, FaultConfig
from fake_stripe.testing import stripe_client


def test_unknown_key_raises_authentication_error(seeded_server: FakeStripeServer) -> None:
    client = stripe_client(seeded_server, key="sk_test_wrong")
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.customers.list()
    assert info.value.http_status == 401
    body: Any = info.value.json_body
    assert body["error"]["type"] == "invalid_request_error"


def test_missing_key_is_401(seeded_server: FakeStripeServer) -> None:
    response = httpx.get(f"{seeded_server.base_url}/v1/customers")
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"type", "message", "code"}


def test_limit_over_100_is_invalid(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params={"limit": 101})
    assert info.value.http_status == 400
    assert info.value.param == "limit"


def test_unsupported_expand_and_params_are_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.list(params={"expand": ["data.items.data.price.tiers"]})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list(params={"expand": ["discounts"]})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.list(params={"status": "bogus"})
    with pytest.raises(stripe.InvalidRequestError):
        no_such_filter: Any = {"status": "succeeded"}
        client.v1.charges.list(params=no_such_filter)


def test_unknown_id_is_404_resource_missing(client: stripe.StripeClient) -> None:
    for service in (client.v1.customers, client.v1.subscriptions, client.v1.charges,
                    client.v1.invoices, client.v1.prices, client.v1.products,
                    client.v1.coupons, client.v1.events):
        with pytest.raises(stripe.InvalidRequestError) as info:
            service.retrieve("nope_123")
        assert info.value.http_status == 404
        assert info.value.code == "resource_missing"


def test_stripe_headers(seeded_server: FakeStripeServer) -> None:
    auth = {"Authorization": "Bearer sk_test_fake"}
    response = httpx.get(f"{seeded_server.base_url}/v1/customers", headers=auth)
    assert response.headers["request-id"].startswith("req_")
    assert response.headers["stripe-version"] == API_VERSION
    response = httpx.get(f"{seeded_server.base_url}/v1/customers",
                         headers={**auth, "Stripe-Version": "2025-03-31.basil"})
    assert response.headers["stripe-version"] == "2025-03-31.basil"


def test_injected_429_raises_rate_limit_error(fresh_server: FakeStripeServer) -> None:
    fresh_server.state.faults.set(rate_limit_every=2, retry_after=3)
    client = stripe_client(fresh_server, retries=0)
    client.v1.customers.list()
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customers.list()
    assert info.value.http_status == 429
    error: Any = info.value
    assert error.headers["Retry-After"] == "3"
    assert error.error.code == "rate_limit"
    client.v1.customers.list()
    statuses = [e.status for e in fresh_server.state.log.entries()]
    assert statuses == [200, 429, 200]


def test_injected_500_is_retried_by_the_sdk(fresh_server: FakeStripeServer) -> None:
    fresh_server.state.faults.set(server_error_every=2)
    client = stripe_client(fresh_server, retries=2)
    client.v1.customers.list()
    page = client.v1.charges.list(params={"limit": 5})
    assert len(page.data) == 5
    statuses = [(e.endpoint, e.status) for e in fresh_server.state.log.entries()]
    assert statuses == [("GET /v1/customers", 200), ("GET /v1/charges", 500),
                        ("GET /v1/charges", 200)]
    no_retry = stripe_client(fresh_server, retries=0)
    fresh_server.state.faults.set(server_error_every=1, server_error_status=503)
    with pytest.raises(stripe.APIError) as info:
        no_retry.v1.customers.list()
    assert info.value.http_status == 503


def test_rate_limits_and_server_errors_are_independent(fresh_server: FakeStripeServer) -> None:
    """Both every 10: 429 on requests 10, 20, ..., 100; 500 on every 10th request that got
    past the rate limit, i.e. request r with r - r // 10 a multiple of 10 (11, 22, ..., 99)."""
    fresh_server.state.faults.set(rate_limit_every=10, server_error_every=10)
    auth = {"Authorization": "Bearer sk_test_fake"}
    statuses = [httpx.get(f"{fresh_server.base_url}/v1/coupons", headers=auth).status_code
                for _ in range(100)]
    assert [r for r, s in enumerate(statuses, 1) if s == 429] == list(range(10, 101, 10))
    assert [r for r, s in enumerate(statuses, 1) if s == 500] == [11, 22, 33, 44, 55, 66, 77,
                                                                  88, 99]


def test_random_faults_of_both_kinds_each_happen(fresh_server: FakeStripeServer) -> None:
    fresh_server.state.faults.set(rate_limit_probability=0.2, server_error_probability=0.2,
                                  seed=3)
    auth = {"Authorization": "Bearer sk_test_fake"}
    statuses = [httpx.get(f"{fresh_server.base_url}/v1/coupons", headers=auth).status_code
                for _ in range(100)]
    assert {200, 429, 500} == set(statuses)
    fresh_server.state.faults.set(rate_limit_probability=0.2, server_error_probability=0.2,
                                  seed=3)
    again = [httpx.get(f"{fresh_server.base_url}/v1/coupons", headers=auth).status_code
             for _ in range(100)]
    assert again == statuses  # seeded: the same run twice


def test_the_command_line_takes_every_fault_flag_and_refuses_bad_ones() -> None:
    from fake_stripe.__main__ import parse

    for bad in (["--rate-limit-probability", "1.5"], ["--server-error-probability", "-0.1"],
                ["--rate-limit-every", "-1"], ["--server-error-status", "418"]):
        with pytest.raises(SystemExit) as exit_info:
            parse(["--customers", "1", *bad])
        assert exit_info.value.code == 2, bad


def test_probabilistic_faults_are_seeded(fresh_server: FakeStripeServer) -> None:
    client = stripe_client(fresh_server)

    def outcomes() -> list[bool]:
        fresh_server.state.faults.set(FaultConfig(rate_limit_probability=0.5, seed=4))
        result = []
        for _ in range(12):
            try:
                client.v1.coupons.list()
                result.append(True)
            except stripe.RateLimitError:
                result.append(False)
        return result

    first = outcomes()
    assert first == outcomes()
    assert True in first and False in first


def test_fake_endpoints_configure_and_are_never_faulted(fresh_server: FakeStripeServer) -> None:
    base = fresh_server.base_url
    config = httpx.post(f"{base}/_fake/config", json={"rate_limit_every": 1, "latency_ms": 30})
    assert config.status_code == 200 and config.json()["rate_limit_every"] == 1
    assert httpx.get(f"{base}/_fake/requests").status_code == 200
    api = httpx.get(f"{base}/v1/customers", headers={"Authorization": "Bearer sk_test_fake"})
    assert api.status_code == 429 and api.headers["retry-after"] == "1"
    assert api.json()["error"]["code"] == "rate_limit"
    log = httpx.get(f"{base}/_fake/requests").json()
    assert [r["status"] for r in log["requests"]] == [429]
    assert log["counts"] == {"GET /v1/customers": 1}
    assert httpx.delete(f"{base}/_fake/config").json()["rate_limit_every"] == 0
    assert httpx.post(f"{base}/_fake/config", json={"bogus": 1}).status_code == 400
    assert httpx.delete(f"{base}/_fake/requests").status_code == 200
    assert fresh_server.state.log.entries() == []


async def test_latency_does_not_block_the_event_loop(fresh_server: FakeStripeServer) -> None:
    """Three requests sent at once are all in flight at the same moment: the fake waits
    out its latency without holding up the other requests (ordering, not durations)."""
    import asyncio

    fresh_server.state.faults.set(latency_ms=1000)
    client = stripe.StripeClient("sk_test_fake", base_addresses={"api": fresh_server.base_url},
                                 http_client=stripe.HTTPXClient())
    await asyncio.gather(*(client.v1.customers.list_async() for _ in range(3)))
    entries = fresh_server.state.log.entries()
    assert len(entries) == 3
    received = [e.timestamp - e.duration_ms / 1000 for e in entries]
    assert max(received) < min(e.timestamp for e in entries)


# ---- Stripe's refusals, word for word ------------------------------------------------

@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (101, "This value must be less than or equal to 100 (it currently is '101')."),
        (0, "This value must be greater than or equal to 1."),
        ("ten", "Invalid integer: ten"),
    ],
)
def test_limit_refusals(client: stripe.StripeClient, limit: Any, message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params={"limit": limit})
    assert info.value.http_status == 400
    assert info.value.code == "parameter_invalid_integer"
    assert info.value.param == "limit"
    assert info.value.user_message == message


def test_unknown_starting_after_names_the_object(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params={"starting_after": "cus_doesnotexist"})
    assert info.value.http_status == 400
    assert (info.value.code, info.value.param) == ("resource_missing", "starting_after")
    assert info.value.user_message == "No such customer: 'cus_doesnotexist'"


def test_expand_deeper_than_four_levels_is_refused(client: stripe.StripeClient) -> None:
    """A list's own ``data.`` counts: five levels on a list, four on a retrieve."""
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.subscriptions.list(
            params={"status": "all", "expand": ["data.items.data.price.product"]})
    assert info.value.http_status == 400
    assert info.value.code == "property_expansion_max_depth"
    assert info.value.user_message == ("You cannot expand more than 4 levels of a property. "
                                       "Property: data.items.data.price.product")
    sub = client.v1.subscriptions.list(params={"status": "all", "limit": 1}).data[0]
    got = client.v1.subscriptions.retrieve(sub.id,
                                           params={"expand": ["items.data.price.product"]})
    assert got["items"].data[0].price.product.object == "product"
    listed = client.v1.subscriptions.list(
        params={"status": "all", "limit": 1, "expand": ["data.items.data.price"]})
    assert listed.data[0]["items"].data[0].price.object == "price"


def test_deleted_customer_retrieves_as_deleted(fresh_client: stripe.StripeClient) -> None:
    customer = fresh_client.v1.customers.list(params={"limit": 1}).data[0]
    fresh_client.v1.customers.delete(customer.id)
    got = fresh_client.v1.customers.retrieve(customer.id)
    assert got.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}


def test_every_answer_has_a_request_id_and_errors_have_stripes_shape(
    seeded_server: FakeStripeServer,
) -> None:
    base, auth = seeded_server.base_url, {"Authorization": "Bearer sk_test_fake"}
    sub = seeded_server.state.iter_records("subscription")[0]["id"]
    answers = {
        "list": httpx.get(f"{base}/v1/customers", headers=auth),
        "items": httpx.get(f"{base}/v1/subscription_items?subscription={sub}", headers=auth),
        "missing": httpx.get(f"{base}/v1/customers/cus_nope", headers=auth),
        "bad limit": httpx.get(f"{base}/v1/charges?limit=500", headers=auth),
        "no key": httpx.get(f"{base}/v1/customers"),
        "unknown url": httpx.get(f"{base}/v1/nothing_here", headers=auth),
        "unknown param": httpx.get(f"{base}/v1/coupons?colour=red", headers=auth),
    }
    for name, response in answers.items():
        request_id = response.headers["request-id"]
        assert request_id.startswith("req_"), name
        if response.status_code == 200:
            assert "stripe-should-retry" not in response.headers, name
            continue
        assert 400 <= response.status_code < 500, name
        error = response.json()["error"]
        assert {"type", "message", "code", "request_log_url"} <= set(error), name
        assert error["type"] == "invalid_request_error", name
        assert error["request_log_url"].startswith(
            f"https://dashboard.stripe.com/test/logs/{request_id}?t="), name
        if error["code"] is not None:
            assert error["doc_url"].startswith("https://stripe.com/docs/error-codes/"), name
        # Only a changed request can succeed: Stripe tells the SDKs not to retry.
        assert response.headers["stripe-should-retry"] == "false", name
    assert answers["missing"].json()["error"]["param"] == "id"


def test_should_retry_on_5xx_and_not_on_a_plain_429(fresh_server: FakeStripeServer) -> None:
    auth = {"Authorization": "Bearer sk_test_fake"}
    fresh_server.state.faults.set(server_error_every=1, server_error_status=503)
    failed = httpx.get(f"{fresh_server.base_url}/v1/customers", headers=auth)
    assert failed.status_code == 503 and failed.headers["stripe-should-retry"] == "true"
    assert failed.json()["error"]["type"] == "api_error"
    fresh_server.state.faults.set(server_error_every=0, rate_limit_every=1)
    limited = httpx.get(f"{fresh_server.base_url}/v1/customers", headers=auth)
    assert limited.status_code == 429 and "stripe-should-retry" not in limited.headers
