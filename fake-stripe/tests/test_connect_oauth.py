"""Stripe Connect (Standard, OAuth) on the fake: authorize, token, deauthorize and
``Stripe-Account`` scoping, through the real SDK pointed at the fake for both bases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe
from stripe import oauth_error

from fake_stripe import DEFAULT_API_KEY, FakeStripe, FakeStripeServer
from fake_stripe.testing import stripe_client

CLIENT_ID = "ca_platform123"
REDIRECT = "https://platform.example/stripe/callback"
START = 1_780_000_000
NO_ACCESS = (
    "The provided key 'sk_test_****fake' does not have access to account '{}' (or that "
    "account does not exist). Application access may have been revoked."
)


class Clock:
    """A settable clock for the fake (code expiry)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> FakeStripe:
    """Platform with one customer; acct_alpha and acct_beta connected, acct_gamma not."""
    platform = FakeStripe(api_keys=[DEFAULT_API_KEY], clock=clock)
    platform.oauth.client_ids = {CLIENT_ID}
    platform.put("customer", {"id": "cus_platform", "email": "owner@platform.example"})
    alpha = platform.add_connected_account("acct_alpha")
    alpha.put("customer", {"id": "cus_alpha1", "email": "a1@alpha.example"})
    alpha.put("customer", {"id": "cus_alpha2", "email": "a2@alpha.example"})
    beta = platform.add_connected_account("acct_beta")
    beta.put("customer", {"id": "cus_beta1", "email": "b1@beta.example"})
    gamma = platform.add_connected_account("acct_gamma", connected=False)
    gamma.put("customer", {"id": "cus_gamma1", "email": "g1@gamma.example"})
    return platform


@pytest.fixture
def server(state: FakeStripe) -> Iterator[FakeStripeServer]:
    with FakeStripeServer(state) as running:
        yield running


def sdk(server: FakeStripeServer, key: str = DEFAULT_API_KEY,
        **options: Any) -> stripe.StripeClient:
    """The SDK as the platform's own application (its Connect client id)."""
    return stripe_client(server, key, client_id=CLIENT_ID, **options)


@pytest.fixture
def client(server: FakeStripeServer) -> stripe.StripeClient:
    return sdk(server)


def authorize(client: stripe.StripeClient, **params: str) -> httpx.Response:
    """Follow the SDK's authorize URL like a browser, without following the redirect."""
    url = client.oauth.authorize_url(params=cast(Any, {"redirect_uri": REDIRECT, **params}))
    return httpx.get(url, follow_redirects=False)


def redirected(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    """(URL without query, query) of a 302 answer."""
    assert response.status_code == 302
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def get_code(client: stripe.StripeClient, **params: str) -> str:
    _, query = redirected(authorize(client, **params))
    return query["code"][0]


def exchange(client: stripe.StripeClient, **params: str) -> dict[str, Any]:
    """``POST /oauth/token`` through the SDK, as a plain dict."""
    return client.oauth.token(params=cast(Any, params)).to_dict()


def emails(client: stripe.StripeClient, **options: Any) -> list[str]:
    page = client.v1.customers.list(options=cast(Any, options))
    return sorted(str(c.email) for c in page.data)


# ---- authorize ----------------------------------------------------------------------


def test_authorize_redirects_with_code_scope_and_state(
    state: FakeStripe, server: FakeStripeServer, client: stripe.StripeClient
) -> None:
    state.oauth.next_account = "acct_gamma"
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-42",
                                             "redirect_uri": REDIRECT})
    assert url.startswith(f"{server.base_url}/oauth/authorize?")
    target, query = redirected(httpx.get(url, follow_redirects=False))
    assert target == REDIRECT
    assert set(query) == {"code", "scope", "state"}
    assert query["state"] == ["csrf-42"]
    assert query["scope"] == ["read_write"]
    assert query["code"][0].startswith("ac_") and len(query["code"][0]) == 35
    assert not state.connect.is_connected("acct_gamma")  # only the token exchange connects


def test_authorize_keeps_redirect_query_and_defaults_to_read_only(
    state: FakeStripe, client: stripe.StripeClient
) -> None:
    state.oauth.next_account = "acct_gamma"
    target, query = redirected(authorize(client, redirect_uri=f"{REDIRECT}?tenant=7"))
    assert target == REDIRECT
    assert query["tenant"] == ["7"]
    assert query["scope"] == ["read_only"]
    assert "state" not in query


def test_authorize_uses_configured_redirect_uri(state: FakeStripe,
                                                server: FakeStripeServer) -> None:
    state.oauth.redirect_uris = ["https://platform.example/default"]
    response = httpx.get(f"{server.base_url}/oauth/authorize",
                         params={"client_id": CLIENT_ID, "response_type": "code"},
                         follow_redirects=False)
    target, query = redirected(response)
    assert target == "https://platform.example/default"
    assert query["code"][0].startswith("ac_")


def test_user_denies(state: FakeStripe, client: stripe.StripeClient) -> None:
    state.oauth.deny = True
    target, query = redirected(authorize(client, scope="read_write", state="csrf-9"))
    assert target == REDIRECT
    assert query == {
        "error": ["access_denied"],
        "error_description": ["The user denied your request"],
        "state": ["csrf-9"],
    }


def test_new_user_signs_up_when_no_account_is_chosen(
    state: FakeStripe, client: stripe.StripeClient
) -> None:
    code = get_code(client, scope="read_write")
    token = exchange(client, grant_type="authorization_code", code=code)
    new_id = token["stripe_user_id"]
    assert new_id not in {"acct_alpha", "acct_beta", "acct_gamma"}
    assert new_id.startswith("acct_") and len(new_id) == 21
    assert state.connect.ids() == ["acct_alpha", "acct_beta", "acct_gamma", new_id]
    assert emails(client, stripe_account=new_id) == []


def test_next_account_may_name_a_new_account(state: FakeStripe,
                                             client: stripe.StripeClient) -> None:
    state.oauth.next_account = "acct_newbie"
    token = exchange(client, grant_type="authorization_code",
                     code=get_code(client, scope="read_only"))
    assert (token["stripe_user_id"], token["scope"]) == ("acct_newbie", "read_only")
    assert state.connect.connected_ids() == ["acct_alpha", "acct_beta", "acct_newbie"]


@pytest.mark.parametrize(
    ("params", "error", "description"),
    [
        ({"client_id": "ca_unknown"}, "invalid_client", "No such application: 'ca_unknown'"),
        ({"client_id": ""}, "invalid_request", "No client_id provided"),
        ({"response_type": "token"}, "unsupported_response_type",
         "Unsupported response_type parameter. Currently the only supported response_type "
         "is code"),
        ({"response_type": ""}, "invalid_request", "Missing response_type parameter"),
        ({"scope": "admin"}, "invalid_scope", "Invalid scope parameter provided"),
        ({"redirect_uri": "ftp://platform.example/cb"}, "invalid_redirect_uri",
         "Provided redirect_uri parameter is either an invalid URL or is not allowed by "
         "your application settings"),
        ({"redirect_uri": ""}, "invalid_request",
         "No redirect_uri provided, and the application has none configured"),
    ],
)
def test_authorize_rejects_bad_params(
    server: FakeStripeServer, params: dict[str, str], error: str, description: str
) -> None:
    query = {"client_id": CLIENT_ID, "response_type": "code", "scope": "read_write",
             "redirect_uri": REDIRECT, **params}
    response = httpx.get(f"{server.base_url}/oauth/authorize",
                         params={k: v for k, v in query.items() if v}, follow_redirects=False)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_authorize_rejects_redirect_uri_not_in_settings(state: FakeStripe,
                                                        client: stripe.StripeClient) -> None:
    state.oauth.redirect_uris = ["https://platform.example/only"]
    response = authorize(client)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


# ---- token --------------------------------------------------------------------------


def test_token_exchange_connects_the_account(state: FakeStripe,
                                             client: stripe.StripeClient) -> None:
    state.oauth.next_account = "acct_gamma"
    code = get_code(client, scope="read_write")
    with pytest.raises(stripe.PermissionError):
        emails(client, stripe_account="acct_gamma")

    body = exchange(client, grant_type="authorization_code", code=code)

    assert set(body) == {"access_token", "livemode", "refresh_token", "token_type",
                         "stripe_publishable_key", "stripe_user_id", "scope"}
    assert body["stripe_user_id"] == "acct_gamma"
    assert body["scope"] == "read_write"
    assert body["token_type"] == "bearer"
    assert body["livemode"] is False
    assert body["access_token"].startswith("sk_test_") and len(body["access_token"]) == 48
    assert body["refresh_token"].startswith("rt_")
    assert body["stripe_publishable_key"].startswith("pk_test_")
    assert state.connect.scope("acct_gamma") == "read_write"
    assert emails(client, stripe_account="acct_gamma") == ["g1@gamma.example"]


@pytest.mark.parametrize("how", ["client_secret", "basic"])
def test_token_accepts_client_secret_or_basic_auth(
    state: FakeStripe, server: FakeStripeServer, how: str
) -> None:
    code = state.oauth.issue_code("acct_gamma", "read_only")
    form = {"grant_type": "authorization_code", "code": code}
    if how == "client_secret":
        response = httpx.post(f"{server.base_url}/oauth/token",
                              data={**form, "client_secret": DEFAULT_API_KEY})
    else:
        response = httpx.post(f"{server.base_url}/oauth/token", data=form,
                              auth=(DEFAULT_API_KEY, ""))
    assert response.status_code == 200
    assert response.json()["stripe_user_id"] == "acct_gamma"
    assert response.json()["scope"] == "read_only"


def test_token_requires_the_platform_key(state: FakeStripe, server: FakeStripeServer) -> None:
    code = state.oauth.issue_code("acct_gamma")
    url = f"{server.base_url}/oauth/token"
    form = {"grant_type": "authorization_code", "code": code}
    missing = httpx.post(url, data=form)
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_client"
    wrong = httpx.post(url, data={**form, "client_secret": "sk_test_wrongkey"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client",
                            "error_description": "Invalid API Key provided: sk_test_****gkey"}


def test_code_is_single_use_and_reuse_revokes_its_tokens(
    state: FakeStripe, server: FakeStripeServer, client: stripe.StripeClient
) -> None:
    code = state.oauth.issue_code("acct_gamma")
    token = exchange(client, grant_type="authorization_code", code=code)
    assert emails(sdk(server, token["access_token"])) == ["g1@gamma.example"]

    with pytest.raises(oauth_error.InvalidGrantError) as info:
        exchange(client, grant_type="authorization_code", code=code)
    assert info.value.http_status == 400
    assert info.value.json_body == {
        "error": "invalid_grant",
        "error_description": "This authorization code has already been used. All tokens "
                             "issued with this code have been revoked.",
    }
    with pytest.raises(stripe.AuthenticationError):
        emails(sdk(server, token["access_token"]))


def test_code_expires_after_five_minutes(state: FakeStripe, clock: Clock,
                                         client: stripe.StripeClient) -> None:
    fresh = state.oauth.issue_code("acct_gamma")
    stale = state.oauth.issue_code("acct_gamma")
    clock.now += 299
    ok = exchange(client, grant_type="authorization_code", code=fresh)
    assert ok["stripe_user_id"] == "acct_gamma"
    clock.now += 1
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        exchange(client, grant_type="authorization_code", code=stale)
    assert info.value.json_body == {"error": "invalid_grant",
                                    "error_description": f"Authorization code expired: {stale}"}


def test_bad_grants(client: stripe.StripeClient) -> None:
    with pytest.raises(oauth_error.InvalidGrantError) as unknown:
        exchange(client, grant_type="authorization_code", code="ac_nope")
    assert unknown.value.http_status == 400
    assert unknown.value.json_body == {
        "error": "invalid_grant",
        "error_description": "Authorization code does not exist: ac_nope",
    }
    with pytest.raises(oauth_error.UnsupportedGrantTypeError) as grant_type:
        exchange(client, grant_type="password")
    assert grant_type.value.json_body == {"error": "unsupported_grant_type",
                                          "error_description": "Unsupported grant type: password"}
    with pytest.raises(oauth_error.InvalidRequestError) as missing:
        exchange(client, grant_type="authorization_code")
    assert missing.value.json_body == {"error": "invalid_request",
                                       "error_description": "No authorization code provided"}


def test_refresh_token_grants_a_new_access_token(
    state: FakeStripe, server: FakeStripeServer, client: stripe.StripeClient
) -> None:
    code = state.oauth.issue_code("acct_gamma", "read_only")
    first = exchange(client, grant_type="authorization_code", code=code)
    again = exchange(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again["access_token"] != first["access_token"]
    assert again["refresh_token"] == first["refresh_token"]
    assert (again["stripe_user_id"], again["scope"]) == ("acct_gamma", "read_only")
    assert emails(sdk(server, again["access_token"])) == ["g1@gamma.example"]
    with pytest.raises(oauth_error.InvalidScopeError):
        exchange(client, grant_type="refresh_token", scope="read_write",
                 refresh_token=first["refresh_token"])


# ---- Stripe-Account -----------------------------------------------------------------


def test_stripe_account_scopes_lists(server: FakeStripeServer,
                                     client: stripe.StripeClient) -> None:
    assert emails(client) == ["owner@platform.example"]
    assert emails(client, stripe_account="acct_alpha") == ["a1@alpha.example",
                                                           "a2@alpha.example"]
    assert emails(client, stripe_account="acct_beta") == ["b1@beta.example"]
    as_beta = sdk(server, stripe_account="acct_beta")
    assert emails(as_beta) == ["b1@beta.example"]


def test_stripe_account_scopes_retrieve_and_create(
    state: FakeStripe, server: FakeStripeServer, client: stripe.StripeClient
) -> None:
    got = client.v1.customers.retrieve("cus_alpha1", options={"stripe_account": "acct_alpha"})
    assert got.email == "a1@alpha.example"
    for options in ({}, {"stripe_account": "acct_beta"}):
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.retrieve("cus_alpha1", options=cast(Any, options))
        assert info.value.http_status == 404
    created = client.v1.customers.create(params={"email": "new@beta.example"},
                                         options={"stripe_account": "acct_beta"})
    beta = state.connect["acct_beta"]
    assert beta.record("customer", created.id)["email"] == "new@beta.example"
    assert state.count("customer") == 1
    assert beta.count("event") == 2  # cus_beta1 and the new customer: the account's own events
    response = httpx.get(f"{server.base_url}/v1/customers",
                         headers={"Authorization": f"Bearer {DEFAULT_API_KEY}",
                                  "Stripe-Account": "acct_beta"})
    assert response.headers["stripe-account"] == "acct_beta"


@pytest.mark.parametrize("account_id", ["acct_nobody", "acct_gamma"])
def test_unknown_or_unconnected_account_is_403(client: stripe.StripeClient,
                                               account_id: str) -> None:
    with pytest.raises(stripe.PermissionError) as info:
        client.v1.customers.list(options={"stripe_account": account_id})
    assert info.value.http_status == 403
    body: Any = info.value.json_body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "account_invalid"
    assert body["error"]["message"] == NO_ACCESS.format(account_id)


def test_deauthorize_revokes_access(
    state: FakeStripe, server: FakeStripeServer, client: stripe.StripeClient
) -> None:
    code = state.oauth.issue_code("acct_alpha")
    token = exchange(client, grant_type="authorization_code", code=code)

    result = client.oauth.deauthorize(params={"stripe_user_id": "acct_alpha"})

    assert result.to_dict() == {"stripe_user_id": "acct_alpha"}
    with pytest.raises(stripe.PermissionError) as info:
        emails(client, stripe_account="acct_alpha")
    body: Any = info.value.json_body
    assert body["error"]["message"] == NO_ACCESS.format("acct_alpha")
    with pytest.raises(stripe.AuthenticationError):
        emails(sdk(server, token["access_token"]))
    with pytest.raises(oauth_error.InvalidGrantError):
        exchange(client, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert emails(client, stripe_account="acct_beta") == ["b1@beta.example"]
    with pytest.raises(oauth_error.InvalidClientError) as again:
        client.oauth.deauthorize(params={"stripe_user_id": "acct_alpha"})
    assert again.value.http_status == 401
    assert again.value.json_body == {
        "error": "invalid_client",
        "error_description": "This application is not connected to stripe account "
                             "acct_alpha, or that account does not exist.",
    }
    with pytest.raises(oauth_error.InvalidClientError):
        client.oauth.deauthorize(params={"client_id": "ca_other", "stripe_user_id": "acct_beta"})


def test_access_token_is_the_accounts_secret_key(state: FakeStripe,
                                                 server: FakeStripeServer,
                                                 client: stripe.StripeClient) -> None:
    code = state.oauth.issue_code("acct_gamma")
    token = exchange(client, grant_type="authorization_code", code=code)
    as_gamma = sdk(server, token["access_token"])
    assert emails(as_gamma) == ["g1@gamma.example"]
    assert emails(as_gamma, stripe_account="acct_gamma") == ["g1@gamma.example"]
    assert as_gamma.v1.customers.retrieve("cus_gamma1").email == "g1@gamma.example"
    with pytest.raises(stripe.PermissionError):
        emails(as_gamma, stripe_account="acct_alpha")
    with pytest.raises(oauth_error.InvalidClientError):  # not a platform key
        exchange(as_gamma, grant_type="authorization_code",
                 code=state.oauth.issue_code("acct_gamma"))


def test_read_only_connection_cannot_write(state: FakeStripe, server: FakeStripeServer,
                                           client: stripe.StripeClient) -> None:
    code = state.oauth.issue_code("acct_gamma", "read_only")
    token = exchange(client, grant_type="authorization_code", code=code)
    for api, options in ((client, {"stripe_account": "acct_gamma"}),
                         (sdk(server, token["access_token"]), {})):
        assert emails(api, **options) == ["g1@gamma.example"]
        with pytest.raises(stripe.PermissionError) as info:
            api.v1.customers.create(params={"email": "x@gamma.example"},
                                    options=cast(Any, options))
        assert info.value.http_status == 403
    assert state.connect["acct_gamma"].count("customer") == 1


def test_connected_accounts_have_their_own_ids_and_clock(state: FakeStripe,
                                                         clock: Clock) -> None:
    alpha, beta = state.connect["acct_alpha"], state.connect["acct_beta"]
    assert alpha.account_id == "acct_alpha"
    assert state.account_id is None
    assert alpha.put("customer", {})["id"] != beta.put("customer", {})["id"]
    clock.now += 10
    assert alpha.put("customer", {})["created"] == START + 10
    with pytest.raises(ValueError, match="already exists"):
        state.add_connected_account("acct_alpha")
