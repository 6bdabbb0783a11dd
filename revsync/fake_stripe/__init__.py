"""A stateful, Stripe-compatible HTTP server with a seeded data generator.

Start one in a test::

    with FakeStripeServer(FakeStripe.seeded(customers=500, seed=1)) as server:
        client = stripe.StripeClient("sk_test_fake",
                                     base_addresses={"api": server.base_url},
                                     http_client=stripe.HTTPXClient())
"""

from .app import create_app
from .errors import StripeError
from .faults import FaultConfig
from .generator import DEFAULT_NOW, Account, generate_account, subscriber_emails
from .objects import API_VERSION
from .requestlog import LoggedRequest
from .server import FakeStripeServer
from .store import FakeStripe

__all__ = [
    "API_VERSION",
    "DEFAULT_NOW",
    "Account",
    "FakeStripe",
    "FakeStripeServer",
    "FaultConfig",
    "LoggedRequest",
    "StripeError",
    "create_app",
    "generate_account",
    "subscriber_emails",
]
