"""The two endpoints that page what a parent object does not embed.

``GET /v1/subscription_items?subscription=sub_...`` and ``GET /v1/invoices/{id}/lines``
are where the ``url`` of a cut ``items``/``lines`` list points (:mod:`.nested_lists`).
They are ordinary ``/v1`` routes, so the middleware logs, rate-limits and faults them
like any other request: a test can count how many extra pages a sync fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import StripeError, resource_missing
from .expansion import expand_paths
from .forms import decode
from .nested_lists import page
from .params import cursor_kwargs, reject_unknown

if TYPE_CHECKING:
    from .store import FakeStripe

_CURSOR: Final = frozenset({"limit", "starting_after", "ending_before", "expand"})
#: What ``data.<path>`` may expand on subscription items: the price is always embedded
#: (``data.price`` is accepted and changes nothing), its product and tiers on request.
ITEM_EXPANSIONS: Final = frozenset({"discounts", "price", "price.product", "price.tiers"})


def nested_list_routes(
    account: Callable[[Request], FakeStripe], answer: Callable[[Any], Response]
) -> list[Route]:
    """Routes for both endpoints; ``account`` is the account a request acts on and
    ``answer`` turns a body into the response."""

    async def subscription_items(request: Request) -> Response:
        params = decode(request.query_params.multi_items())
        reject_unknown(params, _CURSOR | {"subscription"})
        sub_id = params.get("subscription")
        if not sub_id:
            raise StripeError(400, "Missing required param: subscription.",
                              code="parameter_missing", param="subscription")
        kwargs = cursor_kwargs(params)
        paths = expand_paths(ITEM_EXPANSIONS, kwargs.pop("expand"), prefix="data.")
        try:
            sub = account(request).retrieve(
                "subscription", str(sub_id), sorted(f"items.data.{p}" for p in paths))
        except StripeError as exc:
            if exc.code != "resource_missing":
                raise
            raise resource_missing("subscription", str(sub_id), param="subscription") from None
        return answer(page(sub["items"]["data"], url="/v1/subscription_items",
                           entry_type="subscription_item", **kwargs))

    async def invoice_lines(request: Request) -> Response:
        params = decode(request.query_params.multi_items())
        reject_unknown(params, _CURSOR)
        kwargs = cursor_kwargs(params)
        expand_paths(frozenset(), kwargs.pop("expand"), prefix="data.")
        invoice = account(request).retrieve("invoice", request.path_params["id"])
        return answer(page(invoice["lines"]["data"], url=invoice["lines"]["url"],
                           entry_type="line_item", **kwargs))

    return [
        Route("/v1/subscription_items", subscription_items, methods=["GET"]),
        Route("/v1/invoices/{id}/lines", invoice_lines, methods=["GET"]),
    ]
