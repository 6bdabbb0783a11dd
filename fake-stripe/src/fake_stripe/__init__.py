"""A stateful, Stripe-compatible HTTP server with a seeded data generator.

It speaks Stripe's HTTP API to the real ``stripe`` SDK. Start one in a test::

    with FakeStripeServer(FakeStripe.seeded(customers=500, seed=1)) as server:
        client = fake_stripe.testing.stripe_client(server)  # or any SDK at server.base_url

or from a shell: ``python -m fake_stripe --customers 3000 --seed 7 --api-key sk_test_x``.
"""

from .app import create_app
from .errors import StripeError
from .faults import FaultConfig
from .generator import DEFAULT_NOW, Account, generate_account, subscriber_emails
from .objects import API_VERSION
from .requestlog import LoggedRequest
from .server import FakeStripeServer
from .store import DEFAULT_API_KEY, FakeStripe

__all__ = [
    "API_VERSION",
    "DEFAULT_API_KEY",
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
