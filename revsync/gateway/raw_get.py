"""A GET through the Stripe SDK that hands back the body unparsed.

`StripeClient.raw_request` parses every answer with `json.loads` into OrderedDicts
before returning it, and the gateway then parses the same body again with orjson (plain
dicts, several times faster). For a page of 100 charges that first parse is most of the
time the SDK spends on the page, all of it holding the GIL.

So list pages go one level down, to the SDK's requestor: the same key, API version,
headers, `Stripe-Account`, telemetry and connection pool as `raw_request`, and the SDK's
own typed errors (`RateLimitError`, `InvalidRequestError`, ...) for every non-2xx answer,
built by the SDK from the error body. Only a 2xx body skips the SDK's parse. These are
SDK internals, which is why pyproject pins stripe to one major version; the gateway
tests exercise every error type through here.
"""

from __future__ import annotations

from typing import Any

import stripe
from stripe._request_options import extract_options_from_dict


def get_body(client: stripe.StripeClient, path: str, params: dict[str, Any]) -> bytes | str:
    """GET a `/v1/...` path; the raw 2xx body, or the SDK's error for any other status."""
    options, query = extract_options_from_dict(dict(params))
    requestor = client._requestor
    body, code, headers = requestor.request_raw(
        "get", path, params=query, options=options, base_address="api", api_mode="V1",
        usage=["raw_request"],
    )
    if not 200 <= code < 300:
        requestor._interpret_response(body, code, headers, "V1")  # raises the typed error
    if not isinstance(body, (bytes, str)):
        raise stripe.APIError(f"Stripe answered {path} with an unreadable body")
    return body
