"""``python -m fake_stripe``: seed an account and serve it until interrupted.

Signed webhooks go to every endpoint created with ``POST /v1/webhook_endpoints``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from .faults import FaultConfig
from .generator import DEFAULT_NOW, generate_account
from .server import FakeStripeServer
from .store import DEFAULT_API_KEY, FakeStripe

TEST_MODE_LIMIT = 25.0  # Stripe's test mode: 25 requests/s (live: 100), 25/s per endpoint


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


@dataclass(frozen=True)
class AccountSpec:
    """Another account the server holds: its id, its own secret key, its size."""

    account_id: str
    key: str
    customers: int


def _account_spec(text: str) -> AccountSpec:
    parts = text.split(":")
    if (len(parts) != 3 or not parts[0].startswith("acct_") or len(parts[0]) < 6
            or not parts[1].startswith("sk_") or not parts[2].isdigit()):
        raise argparse.ArgumentTypeError(
            f"an account is ACCT_ID:SECRET_KEY:CUSTOMERS (acct_..:sk_..:200), not {text!r}")
    return AccountSpec(parts[0], parts[1], int(parts[2]))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; exits 2 with a message on a bad value."""
    parser = argparse.ArgumentParser(prog="python -m fake_stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--now", type=int, default=DEFAULT_NOW, help="unix time of 'now'")
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help=f"accepted secret key (repeatable); default {DEFAULT_API_KEY}")
    parser.add_argument("--account", action="append", dest="accounts", type=_account_spec,
                        default=[], metavar="ACCT_ID:SECRET_KEY:CUSTOMERS",
                        help="another Stripe account with its own key and generated data "
                             "(repeatable); rate limits count per account")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    faults = parser.add_argument_group(
        "faults", "independent of each other; rate limiting is checked first, and a request "
        "it lets through is one the server-error fault counts")
    faults.add_argument("--rate-limit-every", type=_non_negative_int, default=0,
                        help="answer 429 to every Nth request")
    faults.add_argument("--rate-limit-probability", type=_probability, default=0.0,
                        help="answer 429 at random with this probability (0 to 1)")
    faults.add_argument("--server-error-every", type=_non_negative_int, default=0,
                        help="answer 5xx to every Nth request past the rate limit")
    faults.add_argument("--server-error-probability", type=_probability, default=0.0,
                        help="answer 5xx at random with this probability (0 to 1)")
    faults.add_argument("--server-error-status", type=int, choices=(500, 502, 503, 504),
                        default=500)
    faults.add_argument("--fault-seed", type=int, default=0,
                        help="seed of the random faults (reproducible runs)")
    limits = parser.add_argument_group(
        "Stripe's rate limits", "429 with Stripe-Rate-Limited-Reason past them, per account")
    limits.add_argument("--enforce-rate-limits", action="store_true",
                        help=f"enforce Stripe's test-mode limits ({TEST_MODE_LIMIT:g}/s per "
                             f"account and per endpoint) unless given below")
    limits.add_argument("--account-rate-limit", type=_non_negative_float, default=None,
                        help="requests per second per account (0: none)")
    limits.add_argument("--endpoint-rate-limit", type=_non_negative_float, default=None,
                        help="requests per second per endpoint of an account (0: none)")
    args = parser.parse_args(argv)
    default_limit = TEST_MODE_LIMIT if args.enforce_rate_limits else 0.0
    for name in ("account_rate_limit", "endpoint_rate_limit"):
        if getattr(args, name) is None:
            setattr(args, name, default_limit)
    return args


def fault_config(args: argparse.Namespace) -> FaultConfig:
    """The faults and limits the command line asks for."""
    flags = ("latency_ms", "rate_limit_every", "rate_limit_probability", "server_error_every",
             "server_error_probability", "server_error_status", "account_rate_limit",
             "endpoint_rate_limit")
    return FaultConfig(seed=args.fault_seed, **{name: getattr(args, name) for name in flags})


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, seed, serve, print the base URL (one line, flushed)."""
    args = parse(argv)
    started = time.perf_counter()
    state = FakeStripe(api_keys=args.api_keys or [DEFAULT_API_KEY], seed=args.seed)
    state.load(generate_account(args.customers, args.seed, now=args.now))
    for n, spec in enumerate(args.accounts, 1):
        account = state.add_connected_account(spec.account_id, connected=False,
                                              api_keys=[spec.key])
        account.load(generate_account(spec.customers, args.seed + n, now=args.now))
    state.faults.set(fault_config(args))
    seeded = time.perf_counter() - started
    server = FakeStripeServer(
        state, host=args.host, port=args.port, deliver_webhooks=True
    ).start()
    print(
        f"seeded {state.count('customer')} customers, {state.count('subscription')} "
        f"subscriptions, {state.count('charge')} charges and {len(args.accounts)} more "
        f"accounts in {seeded:.1f}s",
        file=sys.stderr,
    )
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
