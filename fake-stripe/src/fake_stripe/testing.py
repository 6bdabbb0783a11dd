"""The real ``stripe`` SDK pointed at a running fake, for tests::

    from fake_stripe import FakeStripe, FakeStripeServer
    from fake_stripe.testing import stripe_client

    with FakeStripeServer(FakeStripe.seeded(customers=50, seed=1)) as server:
        customers = stripe_client(server).v1.customers.list()
"""

from __future__ import annotations

from typing import Any

import stripe

from .server import FakeStripeServer
from .store import DEFAULT_API_KEY


def stripe_client(
    server: FakeStripeServer, key: str = DEFAULT_API_KEY, *, retries: int = 0, **options: Any
) -> stripe.StripeClient:
    """A client whose API and Connect (OAuth) requests both go to ``server``.

    No retries unless asked, so a test sees every injected fault; ``options`` go to
    :class:`stripe.StripeClient` (e.g. ``client_id``, ``stripe_account``).
    """
    return stripe.StripeClient(
        key,
        base_addresses={"api": server.base_url, "connect": server.base_url},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=retries,
        **options,
    )
