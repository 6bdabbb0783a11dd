"""The Stripe gateway against the fake over HTTP: retries, Retry-After, exact counts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import stripe

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.gateway.stripe_api import (
    StripeGateway,
    StripeUnavailable,
    Throttled,
    throttling_to_caller,
)
from tests.helpers.e2e import KEY


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    state = FakeStripe(api_keys=[KEY])
    for n in range(150):
        state.put("customer", {"email": f"c{n}@example.com"})
    with FakeStripeServer(state) as server:
        yield server


def gateway(server: FakeStripeServer, slept: list[float], key: str = KEY) -> StripeGateway:
    return StripeGateway(api_key=key, api_base=server.base_url, max_retries=3,
                         sleep=slept.append)


def test_pages_newest_first_and_counts_one_request_per_page(fake: FakeStripeServer) -> None:
    gw = gateway(fake, [])
    first = gw.list_page("customers", None)
    second = gw.list_page("customers", first.last_id)
    assert (len(first.objects), first.has_more, first.requests) == (100, True, 1)
    assert (len(second.objects), second.has_more, second.requests) == (50, False, 1)
    assert {o["id"] for o in first.objects}.isdisjoint(o["id"] for o in second.objects)
    assert fake.state.log.count("GET /v1/customers") == 2


def test_429_is_retried_after_the_retry_after_header(fake: FakeStripeServer) -> None:
    fake.state.faults.set(rate_limit_every=1, retry_after=7)
    slept: list[float] = []
    gw = gateway(fake, slept)
    with pytest.raises(StripeUnavailable, match="RateLimitError"):
        gw.list_page("customers", None)
    # 1 try + 3 retries, each waiting the 7 s Stripe asked for.
    assert slept == [7.0, 7.0, 7.0]
    assert fake.state.log.count() == 4


def test_a_429_goes_back_to_the_caller_inside_throttling_to_caller(
        fake: FakeStripeServer) -> None:
    fake.state.faults.set(rate_limit_every=1, retry_after=7)
    slept: list[float] = []
    gw = gateway(fake, slept)
    with throttling_to_caller(), pytest.raises(Throttled, match="RateLimitError"):
        gw.list_page("customers", None)
    # One request, no sleep: the caller's next try is paced by Temporal.
    assert slept == [] and fake.state.log.count() == 1
    # A server error is still retried here (the test above: outside the block, 429s too).
    fake.state.faults.set(rate_limit_every=0, server_error_every=1, retry_after=0)
    with throttling_to_caller(), pytest.raises(StripeUnavailable):
        gw.list_page("customers", None)
    assert len(slept) == 3 and fake.state.log.count() == 1 + 4


def test_throttled_then_served_counts_every_attempt(fake: FakeStripeServer) -> None:
    fake.state.faults.set(rate_limit_every=2, retry_after=0)
    gw = gateway(fake, [])
    pages = [gw.list_page("customers", None), gw.list_page("customers", None)]
    # The 2nd request was throttled and repeated: 1 + 2 requests.
    assert [p.requests for p in pages] == [1, 2]


def test_5xx_backs_off_exponentially_without_retry_after(fake: FakeStripeServer) -> None:
    fake.state.faults.set(server_error_every=1, server_error_status=503)
    slept: list[float] = []
    with pytest.raises(StripeUnavailable):
        gateway(fake, slept).list_page("charges", None)
    # base 0.5 s doubling, with jitter in [50%, 100%].
    assert len(slept) == 3
    for attempt, delay in enumerate(slept):
        assert 0.25 * 2**attempt <= delay <= 0.5 * 2**attempt


def test_bad_key_fails_at_once(fake: FakeStripeServer) -> None:
    slept: list[float] = []
    with pytest.raises(stripe.AuthenticationError):
        gateway(fake, slept, key="sk_test_wrong").check_key()
    assert slept == [] and fake.state.log.count() == 1


def test_unknown_cursor_is_a_clear_request_error(fake: FakeStripeServer) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        gateway(fake, []).list_page("customers", "cus_does_not_exist")


def test_a_deleted_cursor_object_resumes_at_its_created_second(fake: FakeStripeServer) -> None:
    gw = gateway(fake, [])
    everyone = {r["id"] for r in fake.state.iter_records("customer")}
    page = gw.list_page("customers", None)
    assert page.last_id is not None and page.last_created is not None
    fake.state.delete("customer", page.last_id)  # deleted between two pages
    seen = {o["id"] for o in page.objects}
    cursor, created = page.last_id, page.last_created
    page = gw.list_page("customers", cursor, created)
    # Refused once (400), then listed again from the cursor's `created` second.
    assert page.requests == 2
    while True:
        seen |= {o["id"] for o in page.objects}
        if not page.has_more:
            break
        page = gw.list_page("customers", page.last_id, page.last_created)
    # All 150 share one second here, so the re-listing re-read them: nothing was lost.
    assert seen == everyone


def test_a_read_is_dated_when_its_request_was_sent(fake: FakeStripeServer) -> None:
    """The mirror's guard compares these: a slow answer must not look fresher than it is.

    Ordering only, no durations: the read's date must come before the fake answered,
    by at least the latency the fake was told to add before answering.
    """
    fake.state.faults.set(latency_ms=300)
    before = time.time()
    page = gateway(fake, []).list_page("customers", None)
    (listed,) = fake.state.log.entries()
    assert before <= page.requested_at <= listed.timestamp - 0.3
    obj, requests, requested_at = gateway(fake, []).retrieve("customers", page.objects[0]["id"])
    retrieved = fake.state.log.entries()[-1]
    assert (obj["id"], requests) == (page.objects[0]["id"], 1)
    assert listed.timestamp <= requested_at <= retrieved.timestamp - 0.3
